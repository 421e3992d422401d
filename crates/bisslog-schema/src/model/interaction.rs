//! External interactions: the ports a use case reaches the outside through.

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use super::policy::ResiliencePolicy;
use super::trigger::QueueKind;

/// One port a use case uses, such as a database division or a publisher.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ExternalInteraction {
    /// The port's name, shared by every use case that uses the same
    /// adapter (`users_division`).
    pub keyname: String,
    /// What kind of port it is, when declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_interaction: Option<InteractionType>,
    /// The operations the use case calls on the port. For a `publisher`,
    /// the name(s) of the queue(s) the use case publishes to (such as
    /// `company_data.inserted`), which AsyncAPI documents use as channels.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "one_or_many")]
    #[schemars(default, schema_with = "crate::json_schema::one_or_many_strings")]
    pub operation: Vec<String>,
    /// For a `publisher`: whether the queue(s) it publishes to carry
    /// commands (the default) or events, which every consuming service
    /// receives.
    #[serde(skip_serializing_if = "is_command")]
    #[schemars(default)]
    pub queue_kind: QueueKind,
    /// Free text for people (`desc` is accepted too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How calls through the port are guarded, as declared on this entry
    /// (`timeout`, `idempotent`, `retry`, `circuit_breaker`, `bulkhead`);
    /// empty when none is. Merge it over the service's
    /// `interaction_defaults`, or use [`ServiceMetadata::policy_for`](super::ServiceMetadata::policy_for).
    #[serde(flatten)]
    pub policy: ResiliencePolicy,
}

/// The standard kinds of external interaction, with the aliases the
/// Python tools accept resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InteractionType {
    /// A database (aliases `db`, `repository`).
    Database,
    /// A message publisher (aliases `pub`, `pubsub`, `pub/sub`).
    Publisher,
    /// A notification sender (alias `notif`).
    Notifier,
    /// A remote file system (aliases `sftp`, `ssh`).
    ExternalFileSystem,
    /// Another service or system (alias `service`).
    ExternalSystem,
    /// Declared as `unknown`.
    Unknown,
    /// Any other name, kept as written.
    Custom(String),
}

impl InteractionType {
    /// The standard kinds with their canonical names and aliases.
    pub const STANDARD: [(&'static str, &'static [&'static str]); 6] = [
        ("database", &["db", "repository"]),
        ("publisher", &["pub", "pubsub", "pub/sub"]),
        ("notifier", &["notif"]),
        ("external_file_system", &["sftp", "ssh"]),
        ("external_system", &["service"]),
        ("unknown", &[]),
    ];

    /// The kind a name or alias stands for; other names are `Custom`.
    pub fn parse(name: &str) -> Self {
        let canonical = Self::STANDARD
            .iter()
            .find(|(canonical, aliases)| *canonical == name || aliases.contains(&name))
            .map(|(canonical, _)| *canonical);
        match canonical {
            Some("database") => InteractionType::Database,
            Some("publisher") => InteractionType::Publisher,
            Some("notifier") => InteractionType::Notifier,
            Some("external_file_system") => InteractionType::ExternalFileSystem,
            Some("external_system") => InteractionType::ExternalSystem,
            Some(_) => InteractionType::Unknown,
            None => InteractionType::Custom(name.to_owned()),
        }
    }

    /// The canonical name (`database`), or the custom name as written.
    pub fn name(&self) -> &str {
        match self {
            InteractionType::Database => "database",
            InteractionType::Publisher => "publisher",
            InteractionType::Notifier => "notifier",
            InteractionType::ExternalFileSystem => "external_file_system",
            InteractionType::ExternalSystem => "external_system",
            InteractionType::Unknown => "unknown",
            InteractionType::Custom(name) => name,
        }
    }

    /// Whether this is one of the standard kinds.
    pub fn is_standard(&self) -> bool {
        !matches!(self, InteractionType::Custom(_))
    }
}

impl std::fmt::Display for InteractionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for InteractionType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// One operation is written as a string, several as a list.
fn one_or_many<S: Serializer>(operations: &[String], serializer: S) -> Result<S::Ok, S::Error> {
    match operations {
        [one] => serializer.serialize_str(one),
        many => many.serialize(serializer),
    }
}

fn is_command(kind: &QueueKind) -> bool {
    *kind == QueueKind::Command
}
