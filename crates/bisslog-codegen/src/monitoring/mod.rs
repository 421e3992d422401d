//! Monitoring from the metadata: Prometheus alerting rules and a Grafana
//! dashboard per service, over the metrics the bisslog runtime exposes on
//! `/metrics`.
//!
//! | file | holds |
//! |---|---|
//! | `<name>.rules.yml` | recording rules for the error ratios, and the alerts: error-budget burn (fast and slow), p99 latency, dead letters, consumer lag, missed and late schedule ticks, outbox backlog |
//! | `<name>.dashboard.json` | a Grafana dashboard: a row per use case, most critical first; consumer, schedule and outbox panels where they apply |
//!
//! `<name>` is the service's name as [`crate::deploy::resource_name`]
//! makes it. Thresholds come from each use case's criticality
//! ([`objectives`]): a `high` use case pages, a `medium` one opens a
//! ticket. Both files carry the generated-file checksum: the rule file in
//! a comment, the dashboard in its `description`.
//!
//! # Example
//!
//! ```
//! let service = bisslog_schema::validate_str(
//!     "metadata.yml",
//!     "
//! name: greeter
//! use_cases:
//!   greet:
//!     criticality: high
//!     triggers:
//!       - type: http
//!         options: {method: get, path: '/greet/{name}'}
//!   tidy:
//!     criticality: low
//!     triggers:
//!       - type: schedule
//!         options: {cronjob: '0 3 * * *'}
//! ",
//! )
//! .into_service()
//! .expect("valid metadata");
//! let files = bisslog_codegen::monitoring::generate(&service)?;
//! assert_eq!(files[0].path, "greeter.rules.yml");
//! assert_eq!(files[1].path, "greeter.dashboard.json");
//! let rules = &files[0].contents;
//! // `high`: 99.9% availability, a fast burn pages.
//! assert!(rules.contains("> 14.4 * 0.001\n"));
//! assert!(rules.contains("severity: page\n"));
//! // A daily schedule is late after a day and 2h 24m.
//! assert!(rules.contains("bisslog_schedule_last_tick_timestamp_seconds"));
//! assert!(rules.contains("> 95040\n"));
//! let dashboard: serde_json::Value = serde_json::from_str(&files[1].contents)?;
//! assert_eq!(dashboard["panels"][0]["title"], "greet (high)");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dashboard;
pub mod objectives;
mod plan;
mod rules;
mod schedule_gap;

use bisslog_schema::ServiceMetadata;

pub use dashboard::SCHEMA_VERSION as GRAFANA_SCHEMA_VERSION;

use crate::deploy::{DeployError, resource_name};
use crate::output::GeneratedFile;
use crate::stamp::{CommentStyle, stamp, stamp_json};

/// The command named in the header of the generated files.
pub const COMMAND: &str = "bisslog monitoring";

/// Why monitoring files cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonitoringError {
    /// The service's name has no letter or digit to name its files.
    #[error("service name `{name}` gives no file name (it needs a letter)")]
    InvalidName {
        /// The service's name.
        name: String,
    },
    /// Two services would write the same files.
    #[error("services `{first}` and `{second}` would both write {file}; rename one")]
    SameFileName {
        /// The first service's name.
        first: String,
        /// The second service's name.
        second: String,
        /// The file both would write.
        file: String,
    },
}

/// The rule file and the dashboard of `service`, in that order. The same
/// input gives the same bytes.
pub fn generate(service: &ServiceMetadata) -> Result<Vec<GeneratedFile>, MonitoringError> {
    let name = resource_name(&service.name).map_err(|error| match error {
        DeployError::InvalidName { name } => MonitoringError::InvalidName { name },
        _ => MonitoringError::InvalidName {
            name: service.name.clone(),
        },
    })?;
    let rules = rules::render(service, &name);
    let dashboard = dashboard::render(service, &name);
    // Pretty JSON of a value built in memory cannot fail to serialize.
    let dashboard = serde_json::to_string_pretty(&dashboard).unwrap_or_default() + "\n";
    Ok(vec![
        GeneratedFile {
            path: format!("{name}.rules.yml"),
            contents: stamp(CommentStyle::Hash, COMMAND, &rules),
        },
        GeneratedFile {
            path: format!("{name}.dashboard.json"),
            contents: stamp_json(COMMAND, &dashboard),
        },
    ])
}

/// The files of every service of a system, service by service, after
/// checking no two services would write the same file.
pub fn generate_system(
    services: &[ServiceMetadata],
) -> Result<Vec<GeneratedFile>, MonitoringError> {
    let mut files: Vec<GeneratedFile> = Vec::new();
    let mut owners: Vec<(String, &str)> = Vec::new();
    for service in services {
        for file in generate(service)? {
            if let Some((_, first)) = owners.iter().find(|(path, _)| *path == file.path) {
                return Err(MonitoringError::SameFileName {
                    first: (*first).to_owned(),
                    second: service.name.clone(),
                    file: file.path,
                });
            }
            owners.push((file.path.clone(), &service.name));
            files.push(file);
        }
    }
    Ok(files)
}
