//! What can go wrong in a use case, as the entry points need to know it.
//!
//! A use case returns its own typed error; entry points only ask it for
//! an [`ErrorKind`] (through [`UseCaseError`]) to choose an HTTP status,
//! whether a message is retried or dead-lettered, and so on. The kinds
//! follow bisslog's domain exceptions (not found, not allowed, ...) and its
//! external-interaction hierarchy (integrity, timeout, connection, ...).

use std::borrow::Cow;
use std::fmt;

/// The kind of a failure. Entry points map kinds to their own vocabulary:
/// HTTP statuses, message settlement, Lambda responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be read at all (not JSON, wrong shape).
    Malformed,
    /// The input was read but breaks a rule (a field of the wrong type, a
    /// value the domain rejects).
    Invalid,
    /// What was asked for does not exist.
    NotFound,
    /// The caller may not do this.
    NotAllowed,
    /// The caller is not known.
    Unauthenticated,
    /// The request conflicts with the current state (it already exists, it
    /// changed meanwhile).
    Conflict,
    /// An external system refused a write that breaks its integrity rules
    /// (a unique key, a foreign key).
    Integrity,
    /// An external system rejected the data it was given.
    InvalidData,
    /// An external system did not answer in time.
    Timeout,
    /// An external system could not be reached.
    Connection,
    /// An external system is temporarily unable to serve.
    Unavailable,
    /// A message could not be delivered to a broker.
    Delivery,
    /// An external system refused the service's credentials.
    ExternalAuthentication,
    /// An external system refused the service's permissions.
    ExternalAuthorization,
    /// The service is configured wrongly for an external system.
    Configuration,
    /// An external system does not support what was asked.
    NotSupported,
    /// An external system failed while processing the request.
    Processing,
    /// A bug or an unexpected condition in the service itself.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order: for tables and exhaustive tests
    /// outside this crate (the enum is `#[non_exhaustive]`).
    pub const ALL: [ErrorKind; 18] = [
        ErrorKind::Malformed,
        ErrorKind::Invalid,
        ErrorKind::NotFound,
        ErrorKind::NotAllowed,
        ErrorKind::Unauthenticated,
        ErrorKind::Conflict,
        ErrorKind::Integrity,
        ErrorKind::InvalidData,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::Unavailable,
        ErrorKind::Delivery,
        ErrorKind::ExternalAuthentication,
        ErrorKind::ExternalAuthorization,
        ErrorKind::Configuration,
        ErrorKind::NotSupported,
        ErrorKind::Processing,
        ErrorKind::Internal,
    ];

    /// Whether trying again later may succeed: timeouts, connection and
    /// availability problems, failed deliveries. Consumers retry these and
    /// dead-letter every other kind at once.
    pub const fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout
                | ErrorKind::Connection
                | ErrorKind::Unavailable
                | ErrorKind::Delivery
        )
    }

    /// Whether the caller caused the failure (bad input, missing rights,
    /// unknown resource) rather than the service or its dependencies.
    pub const fn is_caller_fault(self) -> bool {
        matches!(
            self,
            ErrorKind::Malformed
                | ErrorKind::Invalid
                | ErrorKind::NotFound
                | ErrorKind::NotAllowed
                | ErrorKind::Unauthenticated
                | ErrorKind::Conflict
        )
    }

    /// A stable, kebab-case name for the kind (`not-found`), used as the
    /// default error code.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not-found",
            ErrorKind::NotAllowed => "not-allowed",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Integrity => "integrity",
            ErrorKind::InvalidData => "invalid-data",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Delivery => "delivery",
            ErrorKind::ExternalAuthentication => "external-authentication",
            ErrorKind::ExternalAuthorization => "external-authorization",
            ErrorKind::Configuration => "configuration",
            ErrorKind::NotSupported => "not-supported",
            ErrorKind::Processing => "processing",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error a use case can return: any error type that says its kind.
///
/// Implement it for your own error enums; the [`Display`](fmt::Display)
/// text is the message callers see for caller faults (4xx), and is only
/// logged for the others.
///
/// ```
/// use bisslog_core::{ErrorKind, UseCaseError};
///
/// #[derive(Debug, thiserror::Error)]
/// enum SchemaError {
///     #[error("schema `{0}` does not exist")]
///     Unknown(String),
///     #[error(transparent)]
///     Store(#[from] bisslog_core::Error),
/// }
///
/// impl UseCaseError for SchemaError {
///     fn kind(&self) -> ErrorKind {
///         match self {
///             SchemaError::Unknown(_) => ErrorKind::NotFound,
///             SchemaError::Store(e) => e.kind(),
///         }
///     }
///     fn code(&self) -> std::borrow::Cow<'_, str> {
///         match self {
///             SchemaError::Unknown(_) => "schema-not-found".into(),
///             SchemaError::Store(e) => e.code(),
///         }
///     }
/// }
/// ```
pub trait UseCaseError: std::error::Error + Send + Sync + 'static {
    /// What kind of failure this is.
    fn kind(&self) -> ErrorKind;

    /// A stable, machine-readable code such as `schema-not-found` (the
    /// keyname of bisslog's domain exceptions). Defaults to the kind's name.
    fn code(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.kind().as_str())
    }

    /// Structured details for the caller, such as the list of fields that
    /// failed validation. Only shown for caller faults.
    fn details(&self) -> Option<serde_json::Value> {
        None
    }

    /// Every kind an error of this type can have: API documents list the
    /// failures an operation can answer with from it (HTTP: its error
    /// statuses). By default every kind, which is true of any type; an
    /// error enum that knows better says so, and its operations document
    /// exactly its statuses:
    ///
    /// ```
    /// use bisslog_core::{ErrorKind, UseCaseError};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("schema `{0}` does not exist")]
    /// struct UnknownSchema(String);
    ///
    /// impl UseCaseError for UnknownSchema {
    ///     fn kind(&self) -> ErrorKind {
    ///         ErrorKind::NotFound
    ///     }
    ///     fn kinds() -> &'static [ErrorKind] {
    ///         &[ErrorKind::NotFound]
    ///     }
    /// }
    /// assert_eq!(UnknownSchema::kinds(), [ErrorKind::NotFound]);
    /// assert_eq!(bisslog_core::Error::kinds().len(), ErrorKind::ALL.len());
    /// ```
    fn kinds() -> &'static [ErrorKind]
    where
        Self: Sized,
    {
        &ErrorKind::ALL
    }
}

/// The causes of `error`, outermost first: its `source()`, that one's, and
/// so on (not `error` itself). The one walk of a cause chain, for logs and
/// problem documents.
///
/// ```
/// use bisslog_core::{Error, causes};
///
/// let io = std::io::Error::other("disk full");
/// let error = Error::internal("the record was not stored").with_source(io);
/// let chain: Vec<String> = causes(&error).map(|c| c.to_string()).collect();
/// assert_eq!(chain, ["disk full"]);
/// ```
pub fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(error.source(), |cause| cause.source())
}

/// A ready-made error carrying a kind, a code, a message, optional details
/// and an optional cause: use it when a use case needs no error enum of its
/// own, and in adapters to report external failures.
///
/// ```
/// use bisslog_core::{Error, ErrorKind, UseCaseError};
///
/// let error = Error::not_found("schema-not-found", "schema `language` does not exist");
/// assert_eq!(error.kind(), ErrorKind::NotFound);
/// assert_eq!(error.code(), "schema-not-found");
/// assert_eq!(error.to_string(), "schema `language` does not exist");
/// ```
#[derive(Debug)]
pub struct Error(Box<Inner>);

/// Boxed so that `Result<T, Error>` stays small on the happy path.
#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    code: Cow<'static, str>,
    message: String,
    details: Option<serde_json::Value>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of any kind.
    pub fn new(
        kind: ErrorKind,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self(Box::new(Inner {
            kind,
            code: code.into(),
            message: message.into(),
            details: None,
            source: None,
        }))
    }

    /// [`ErrorKind::NotFound`].
    pub fn not_found(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, code, message)
    }

    /// [`ErrorKind::Invalid`].
    pub fn invalid(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }

    /// [`ErrorKind::NotAllowed`].
    pub fn not_allowed(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotAllowed, code, message)
    }

    /// [`ErrorKind::Conflict`].
    pub fn conflict(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    /// [`ErrorKind::Unauthenticated`].
    pub fn unauthenticated(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, code, message)
    }

    /// [`ErrorKind::Internal`], with the code `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "internal", message)
    }

    /// Adds structured details for the caller.
    #[must_use]
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.0.details = Some(details);
        self
    }

    /// Adds the underlying cause (logged, never shown to callers).
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl UseCaseError for Error {
    fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    fn code(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0.code)
    }

    fn details(&self) -> Option<serde_json::Value> {
        self.0.details.clone()
    }
}

impl UseCaseError for std::convert::Infallible {
    fn kind(&self) -> ErrorKind {
        match *self {}
    }

    /// None: it never happens.
    fn kinds() -> &'static [ErrorKind] {
        &[]
    }
}

/// A type-erased use-case error, as entry points handle it.
pub type BoxError = Box<dyn UseCaseError>;

impl<E: UseCaseError> From<E> for Box<dyn UseCaseError> {
    fn from(error: E) -> Self {
        Box::new(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Its place in [`ErrorKind::ALL`]: an exhaustive match, so a new kind
    /// does not compile until it is placed there.
    fn position(kind: ErrorKind) -> usize {
        match kind {
            ErrorKind::Malformed => 0,
            ErrorKind::Invalid => 1,
            ErrorKind::NotFound => 2,
            ErrorKind::NotAllowed => 3,
            ErrorKind::Unauthenticated => 4,
            ErrorKind::Conflict => 5,
            ErrorKind::Integrity => 6,
            ErrorKind::InvalidData => 7,
            ErrorKind::Timeout => 8,
            ErrorKind::Connection => 9,
            ErrorKind::Unavailable => 10,
            ErrorKind::Delivery => 11,
            ErrorKind::ExternalAuthentication => 12,
            ErrorKind::ExternalAuthorization => 13,
            ErrorKind::Configuration => 14,
            ErrorKind::NotSupported => 15,
            ErrorKind::Processing => 16,
            ErrorKind::Internal => 17,
        }
    }

    #[test]
    fn all_lists_every_kind_once() {
        for (index, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(position(kind), index, "{kind:?}");
        }
        let names: std::collections::BTreeSet<_> =
            ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }

    #[test]
    fn transient_kinds_are_the_retryable_ones() {
        assert!(ErrorKind::Timeout.is_transient());
        assert!(ErrorKind::Connection.is_transient());
        assert!(!ErrorKind::Invalid.is_transient());
        assert!(!ErrorKind::Integrity.is_transient());
        assert!(ErrorKind::NotFound.is_caller_fault());
        assert!(!ErrorKind::Internal.is_caller_fault());
    }

    #[test]
    fn errors_keep_their_cause_and_details() {
        let io = std::io::Error::other("disk on fire");
        let error = Error::new(ErrorKind::Unavailable, "store-down", "the store is down")
            .with_source(io)
            .with_details(serde_json::json!({"retry_after": 5}));
        assert_eq!(error.kind(), ErrorKind::Unavailable);
        assert_eq!(
            std::error::Error::source(&error)
                .map(ToString::to_string)
                .as_deref(),
            Some("disk on fire")
        );
        assert_eq!(error.details(), Some(serde_json::json!({"retry_after": 5})));
        let boxed: BoxError = error.into();
        assert_eq!(boxed.code(), "store-down");
    }
}
