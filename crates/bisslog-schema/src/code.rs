//! The stable diagnostic codes. A code never changes meaning once
//! released; new rules get new codes.

use serde::{Serialize, Serializer};

use crate::diagnostic::Severity;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $severity:ident, $title:literal; )*) => {
        /// What a diagnostic is about. Each variant has a stable code
        /// (`E…` for errors, `W…` for warnings) and a fixed severity.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in code order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable code, such as `"E031"`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// Whether problems with this code are errors or warnings.
            pub const fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// A short title, for documentation and summaries.
            pub const fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }
        }
    };
}

codes! {
    /// The file is larger than [`Limits::max_file_bytes`](crate::Limits).
    FileTooLarge = "E001", Error, "file exceeds the size limit";
    /// The file is not valid UTF-8 text.
    NotUtf8 = "E002", Error, "file is not UTF-8 text";
    /// The YAML or JSON text cannot be parsed.
    Syntax = "E003", Error, "syntax error";
    /// A tab character is used to indent YAML.
    TabIndentation = "E004", Error, "tab used for indentation";
    /// The file holds no document, or only `null`.
    EmptyDocument = "E005", Error, "empty metadata file";
    /// A YAML stream holds more than one document.
    MultipleDocuments = "E006", Error, "more than one YAML document";
    /// Mappings and sequences nest deeper than [`Limits::max_depth`](crate::Limits).
    NestingTooDeep = "E007", Error, "nesting too deep";
    /// The document, with aliases expanded, has more than
    /// [`Limits::max_nodes`](crate::Limits) nodes (an alias bomb).
    TooManyNodes = "E008", Error, "document too large once aliases are expanded";
    /// A mapping has the same key twice.
    DuplicateKey = "E009", Error, "duplicate key";
    /// The top level of the file is not a mapping of service fields.
    TopLevelNotMapping = "E010", Error, "top level is not a mapping";
    /// A YAML feature the format has no use for (custom tags, keys that are
    /// not scalars).
    UnsupportedYaml = "E011", Error, "unsupported YAML feature";
    /// A required field is absent.
    MissingField = "E020", Error, "missing required field";
    /// A value has the wrong type (a number where text is expected, ...).
    WrongType = "E021", Error, "wrong type";
    /// A text value that must not be empty is empty.
    EmptyValue = "E022", Error, "empty value";
    /// A number is outside the range the field accepts.
    OutOfRange = "E023", Error, "number out of range";
    /// A trigger `type` other than http, websocket, consumer or schedule.
    UnknownTriggerType = "E030", Error, "unknown trigger type";
    /// An HTTP `method` that is not an HTTP verb.
    InvalidHttpMethod = "E031", Error, "invalid HTTP method";
    /// An HTTP `path` that is not a route such as `/a/{x}`.
    InvalidHttpPath = "E032", Error, "invalid HTTP path";
    /// Two HTTP triggers serve the same method and path.
    DuplicateRoute = "E033", Error, "duplicate HTTP route";
    /// A `criticality` that is neither a level name nor a level number.
    InvalidCriticality = "E034", Error, "invalid criticality";
    /// A `cronjob` that is not a valid Unix or AWS cron expression.
    InvalidCron = "E035", Error, "invalid cron expression";
    /// A `timezone` that is not in the IANA time zone database.
    UnknownTimeZone = "E036", Error, "unknown time zone";
    /// A `delivery_semantic` other than at-most-once, at-least-once or
    /// exactly-once.
    InvalidDeliverySemantic = "E037", Error, "invalid delivery semantic";
    /// A mapper source that the trigger kind cannot provide.
    InvalidMapperSource = "E038", Error, "invalid mapper source";
    /// A mapper target that is not a usable argument name.
    InvalidMapperTarget = "E039", Error, "invalid mapper target";
    /// A `rate_limit` that is not a count per second or minute.
    InvalidRateLimit = "E040", Error, "invalid rate limit";
    /// Two WebSocket triggers handle the same route key.
    DuplicateWebSocketRoute = "E041", Error, "duplicate WebSocket route key";
    /// A `content_type` that is not a media type such as `application/json`.
    InvalidContentType = "E042", Error, "invalid content type";
    /// An entry of `allowed_origins` that is not `*` or an origin such as
    /// `https://example.com`.
    InvalidOrigin = "E043", Error, "invalid CORS origin";
    /// A consumer whose `dead_letter_queue` is the queue it consumes.
    DeadLetterQueueLoop = "E044", Error, "dead-letter queue is the consumed queue";
    /// An `overlap_policy` or `misfire_policy` that names no policy.
    InvalidSchedulePolicy = "E045", Error, "invalid schedule policy";
    /// A duration (`timeout`, `initial_delay`, `window`, ...) that is not
    /// written as `250ms`, `2s`, `1m30s`.
    InvalidDuration = "E046", Error, "invalid duration";
    /// An `authorization` that is neither `public` nor a mapping of
    /// requirements, or that names an empty role or scope.
    InvalidAuthorization = "E047", Error, "invalid authorization rule";
    /// A `queue_kind` that is neither `command` nor `event`.
    InvalidQueueKind = "E048", Error, "invalid queue kind";
    /// A key the format does not know (often a typo).
    UnknownKey = "W001", Warning, "unknown key";
    /// A key spelled the way older bisslog examples do (`route` for `path`).
    DeprecatedKey = "W002", Warning, "deprecated key";
    /// A trigger without `type`; it is read as an HTTP trigger.
    MissingTriggerType = "W003", Warning, "trigger type not given";
    /// A `type_interaction` outside the standard set.
    NonStandardInteractionType = "W004", Warning, "non-standard interaction type";
    /// A YAML 1.1 boolean spelling (`yes`, `no`, `on`, `off`).
    Yaml11Boolean = "W005", Warning, "YAML 1.1 boolean";
    /// A `path_query.x` mapper source naming no variable of the path.
    UnknownPathVariable = "W006", Warning, "mapper names no path variable";
    /// A use case without a human-readable `name`.
    MissingUseCaseName = "W007", Warning, "use case without a name";
    /// A time zone written in another case than the database's.
    NonCanonicalTimeZone = "W008", Warning, "time zone spelled differently";
    /// Two mapper sources fill the same target argument.
    DuplicateMapperTarget = "W009", Warning, "duplicate mapper target";
    /// A service that declares no use cases.
    NoUseCases = "W010", Warning, "service without use cases";
    /// `allowed_origins` without `allow_cors: true` has no effect.
    OriginsWithoutCors = "W011", Warning, "allowed origins without CORS";
    /// `cacheable: true` on a method whose responses are not cached.
    CacheableNonGet = "W012", Warning, "cacheable on a method that is not GET";
    /// Retries declared on an at-most-once consumer, which never retries.
    RetriesAtMostOnce = "W013", Warning, "retries on an at-most-once consumer";
    /// A publisher whose `operation` does not name the queue(s) it
    /// publishes to: absent, or a name with whitespace in it.
    PublisherWithoutQueue = "W014", Warning, "publisher without a queue name";
    /// The same interaction declared by two use cases with a different
    /// `circuit_breaker` or `bulkhead`, which are shared by every use case
    /// calling through it.
    ConflictingInteractionPolicy = "W015", Warning, "interaction declared with different breakers";
    /// An authorization `owner` naming no input field the use case's
    /// mappers fill, so the ownership check can never pass.
    UnknownOwnerField = "W016", Warning, "owner names no mapped field";
    /// `authorization` on a consumer or schedule trigger, which runs as
    /// the service itself and is never checked.
    UncheckedAuthorization = "W017", Warning, "authorization on a trigger that is not checked";
    /// `authorization: public` on an HTTP trigger that names an
    /// `authenticator`: a public route reads no credentials, so the
    /// authenticator never runs.
    PublicWithAuthenticator = "W018", Warning, "public route with an authenticator";
    /// A queue that several consumers (services or consumer triggers)
    /// consume without being declared `queue_kind: event`: they would
    /// compete for its messages, each getting some of them. Found by the
    /// checks across services (`bisslog validate` with several files,
    /// `bisslog docs`).
    CompetingConsumers = "W019", Warning, "queue consumed by several consumers is not an event";
    /// A queue declared `queue_kind: event` in one place and a command
    /// (by saying so, or by not saying) in another, across services.
    ConflictingQueueKind = "W020", Warning, "queue declared with different kinds";
    /// `queue_kind` on an external interaction that is not a publisher:
    /// only consumer triggers and publishers name queues, so it says
    /// nothing there.
    QueueKindWithoutQueue = "W021", Warning, "queue kind on an interaction that is not a publisher";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

/// The error of parsing a string that is no diagnostic code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a bisslog diagnostic code")]
pub struct UnknownCode(pub String);

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_prefixed_by_severity() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let prefix = match code.severity() {
                Severity::Error => 'E',
                Severity::Warning => 'W',
            };
            assert!(code.as_str().starts_with(prefix), "{code}");
            assert_eq!(code.as_str().parse::<Code>(), Ok(*code));
        }
    }
}
