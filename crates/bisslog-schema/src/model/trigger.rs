//! Triggers: how a use case is started.

use schemars::JsonSchema;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::authorization::Authorization;
use super::http::HttpTrigger;
use super::mapper::Mapper;
use crate::cron::CronExpr;

/// One way a use case is started, with its options.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerMetadata {
    /// An optional name for the trigger.
    pub keyname: Option<String>,
    /// The kind of trigger and its options.
    pub kind: TriggerKind,
}

/// The four trigger kinds.
// Metadata is loaded once at start-up, so the size of the HTTP variant
// costs nothing; boxing it would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerKind {
    /// An HTTP route.
    Http(HttpTrigger),
    /// A WebSocket route key.
    WebSocket(WebSocketTrigger),
    /// A message consumer on a queue.
    Consumer(ConsumerTrigger),
    /// A cron schedule.
    Schedule(ScheduleTrigger),
}

impl TriggerKind {
    /// The names a trigger `type` may have.
    pub const NAMES: [&'static str; 4] = ["http", "websocket", "consumer", "schedule"];

    /// The `type` name of this kind.
    pub const fn name(&self) -> &'static str {
        match self {
            TriggerKind::Http(_) => "http",
            TriggerKind::WebSocket(_) => "websocket",
            TriggerKind::Consumer(_) => "consumer",
            TriggerKind::Schedule(_) => "schedule",
        }
    }
}

impl Serialize for TriggerMetadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", self.kind.name())?;
        if let Some(keyname) = &self.keyname {
            map.serialize_entry("keyname", keyname)?;
        }
        match &self.kind {
            TriggerKind::Http(options) => map.serialize_entry("options", options)?,
            TriggerKind::WebSocket(options) => map.serialize_entry("options", options)?,
            TriggerKind::Consumer(options) => map.serialize_entry("options", options)?,
            TriggerKind::Schedule(options) => map.serialize_entry("options", options)?,
        }
        map.end()
    }
}

/// The options of a `websocket` trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct WebSocketTrigger {
    /// The route key: `$connect`, `$disconnect`, `$default` or a name
    /// selected from the incoming JSON message.
    #[serde(rename = "routeKey")]
    pub route_key: String,
    /// Which message parts fill which arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapper: Option<Mapper>,
    /// Who may call this route key, replacing the use case's
    /// `authorization`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
}

/// The options of a `consumer` trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ConsumerTrigger {
    /// The logical queue consumed; configuration maps it to a broker.
    pub queue: String,
    /// Whether the queue is a command (work for one consuming service,
    /// the default) or an event (every consuming service gets its own
    /// copy).
    #[serde(skip_serializing_if = "is_default")]
    #[schemars(default)]
    pub queue_kind: QueueKind,
    /// Set, the consumer orders by key: messages with the same key are
    /// handled one at a time, in arrival order. `event.<path>` takes the
    /// key of a message without one from that payload member; any other
    /// value names the ordering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// When the message is acknowledged relative to the use case.
    #[schemars(default)]
    pub delivery_semantic: DeliverySemantic,
    /// How many times a transient failure is retried before the message
    /// is dead-lettered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::non_negative_integer")]
    pub max_retries: Option<u32>,
    /// Seconds between retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::non_negative_integer")]
    pub retry_delay: Option<u32>,
    /// How many messages are fetched at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::positive_integer")]
    pub batch_size: Option<u32>,
    /// The longest one call of the use case may take, in milliseconds
    /// (at most one day): past it the call is cancelled and fails as a
    /// timeout, which is retried and then dead-lettered. Absent: the
    /// runtime's default (five minutes).
    #[serde(rename = "timeout", skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::positive_integer")]
    pub timeout_ms: Option<u64>,
    /// Where messages that cannot be processed go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_queue: Option<String>,
    /// Which message parts fill which arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapper: Option<Mapper>,
}

impl ConsumerTrigger {
    /// The payload path a message without a `key` takes its ordering key
    /// from: the keys after `event.` of a `partition: event.<path>`.
    /// `None` for any other `partition`, or none.
    pub fn partition_key_path(&self) -> Option<Vec<&str>> {
        partition_key_path(self.partition.as_deref()?)
    }
}

/// The keys of `event.<path>`; `None` for a `partition` that is a name.
pub(crate) fn partition_key_path(partition: &str) -> Option<Vec<&str>> {
    let path = partition.strip_prefix("event.")?;
    Some(path.split('.').collect())
}

/// What a queue carries, which decides who receives its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QueueKind {
    /// Work for one service: the consumers of the queue compete, each
    /// message goes to one of them. What a queue is when the metadata does
    /// not say (as in every file the Python tools write).
    #[default]
    Command,
    /// Something that happened: every consumer (every service, every
    /// consumer trigger) gets its own copy; the instances of one consumer
    /// share that copy.
    Event,
}

/// When a consumed message is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeliverySemantic {
    /// Acknowledged before the use case runs: a crash loses the message.
    AtMostOnce,
    /// Acknowledged after the use case succeeds: a crash redelivers it.
    #[default]
    AtLeastOnce,
    /// At-least-once plus an inbox that drops redeliveries.
    ExactlyOnce,
}

impl DeliverySemantic {
    /// Every semantic.
    pub const ALL: [DeliverySemantic; 3] = [
        DeliverySemantic::AtMostOnce,
        DeliverySemantic::AtLeastOnce,
        DeliverySemantic::ExactlyOnce,
    ];

    /// The name as written in metadata (`at-least-once`).
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliverySemantic::AtMostOnce => "at-most-once",
            DeliverySemantic::AtLeastOnce => "at-least-once",
            DeliverySemantic::ExactlyOnce => "exactly-once",
        }
    }

    /// The semantic with this exact name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl Serialize for DeliverySemantic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The options of a `schedule` trigger.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScheduleTrigger {
    /// When it fires: 5-field Unix cron or 6-field AWS EventBridge cron.
    #[serde(serialize_with = "cron_as_str")]
    #[schemars(schema_with = "crate::json_schema::cron")]
    pub cronjob: CronExpr,
    /// The IANA time zone the cron is read in; UTC when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The static input passed to the use case at each tick.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<serde_json::Value>,
    /// Free text for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A named retry policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<String>,
    /// How many times a tick's run is attempted at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::positive_integer")]
    pub max_attempts: Option<u32>,
    /// What a tick does while the previous run is still going.
    #[serde(skip_serializing_if = "is_default")]
    #[schemars(default)]
    pub overlap_policy: OverlapPolicy,
    /// What happens to the ticks missed while no instance was running.
    #[serde(skip_serializing_if = "is_default")]
    #[schemars(default)]
    pub misfire_policy: MisfirePolicy,
}

/// What a schedule tick does while the previous run of the same trigger
/// is still going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OverlapPolicy {
    /// The tick is skipped (logged): one run at a time.
    #[default]
    Skip,
    /// The tick runs alongside the previous run.
    Allow,
}

/// What happens, when the scheduler starts again after downtime, to the
/// ticks that fell while no instance was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MisfirePolicy {
    /// Missed ticks are not run; the schedule resumes at the next tick.
    #[default]
    Skip,
    /// However many ticks were missed, the use case runs once at start-up,
    /// then the schedule resumes.
    FireOnce,
}

/// A policy named in metadata by one exact lower-case word.
macro_rules! named_policy {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every policy.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name as written in metadata.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            /// The policy with this exact name.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|p| p.as_str() == name)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

named_policy!(OverlapPolicy { Skip => "skip", Allow => "allow" });
named_policy!(MisfirePolicy { Skip => "skip", FireOnce => "fire-once" });
named_policy!(QueueKind { Command => "command", Event => "event" });

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn cron_as_str<S: Serializer>(cron: &CronExpr, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(cron.as_str())
}
