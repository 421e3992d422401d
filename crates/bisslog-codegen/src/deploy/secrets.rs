//! Which connection URLs a service needs, and where they are mounted.
//!
//! Both are secrets (`bisslog_config::ConnectionUrl`: they hold
//! passwords), so they come from a Kubernetes Secret mounted as files and
//! are read through the runner's `<VAR>_FILE` rule, never from plain
//! environment variables.

use bisslog_schema::{InteractionType, ServiceMetadata, TriggerKind};

/// The directory the Secret is mounted at.
pub const MOUNT_DIR: &str = "/run/secrets/bisslog";

/// One connection URL read from a mounted Secret key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretSetting {
    /// The setting's variable (`DATABASE_URL`); `<var>_FILE` names the file.
    pub var: &'static str,
    /// The key in the Secret, and the file's name under [`MOUNT_DIR`].
    pub key: &'static str,
}

/// `DATABASE_URL`.
pub const DATABASE: SecretSetting = SecretSetting {
    var: "DATABASE_URL",
    key: "database-url",
};

/// `BROKER_URL`.
pub const BROKER: SecretSetting = SecretSetting {
    var: "BROKER_URL",
    key: "broker-url",
};

/// The settings `service` needs, in that order:
///
/// - `DATABASE_URL` when a use case declares a `database` interaction, or
///   the service has schedule triggers (replicas claim each tick in the
///   database, so a tick runs once across them);
/// - `BROKER_URL` when it has consumer triggers or a `publisher`
///   interaction (the in-process default would keep messages inside one
///   replica).
pub fn needed(service: &ServiceMetadata) -> Vec<SecretSetting> {
    let use_cases = || service.use_cases.values();
    let interacts = |wanted: InteractionType| {
        use_cases()
            .flat_map(|u| &u.external_interactions)
            .any(|i| i.type_interaction.as_ref() == Some(&wanted))
    };
    let triggered = |wanted: fn(&TriggerKind) -> bool| {
        use_cases()
            .flat_map(|u| &u.triggers)
            .any(|t| wanted(&t.kind))
    };
    let mut settings = Vec::new();
    if interacts(InteractionType::Database) || triggered(|k| matches!(k, TriggerKind::Schedule(_)))
    {
        settings.push(DATABASE);
    }
    if interacts(InteractionType::Publisher) || triggered(|k| matches!(k, TriggerKind::Consumer(_)))
    {
        settings.push(BROKER);
    }
    settings
}

/// The file a setting is read from.
pub fn file_path(setting: SecretSetting) -> String {
    format!("{MOUNT_DIR}/{}", setting.key)
}
