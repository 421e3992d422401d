//! The framework's settings.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::secret::ConnectionUrl;

/// How log lines are written (`BISSLOG_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `[time][transaction_id][level][checkpoint_id] message` lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// The settings every bisslog service has. `Debug` masks URL passwords.
///
/// Give a service other defaults with
/// `Loader::new().defaults(Settings { port: 8081, ..Settings::default() })`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The address to listen on (`HOST`, default `127.0.0.1`).
    pub host: IpAddr,
    /// The port to listen on, 0 picks a free one (`PORT`, default 8080).
    pub port: u16,
    /// Where data lives (`DATABASE_URL`, default `memory`).
    pub database_url: ConnectionUrl,
    /// The broker (`BROKER_URL`); `None`: in-process.
    pub broker_url: Option<ConnectionUrl>,
    /// A prefix for every queue name on the broker (`BROKER_NAMESPACE`).
    pub broker_namespace: Option<String>,
    /// The log filter (`RUST_LOG`, default `info`).
    pub rust_log: String,
    /// How log lines are written (`BISSLOG_LOG_FORMAT`, default `text`).
    pub log_format: LogFormat,
    /// How long, after SIGTERM, `/health/ready` answers 503 while the
    /// service still serves, so load balancers stop sending it requests
    /// before it stops accepting them (`SHUTDOWN_DELAY`, `"5s"`, `"250ms"`;
    /// default 0).
    pub shutdown_delay: Duration,
    /// Whether `POST /_bisslog/queues/{queue}` puts a message on a queue,
    /// for trying a consumer trigger by hand (`BISSLOG_QUEUE_INJECTION`,
    /// default `false`; never in production).
    pub queue_injection: bool,
    /// Whether every service's HTTP server serves `GET /metrics` for
    /// Prometheus and `GET /interactions/observed` for `bisslog drift`
    /// (`BISSLOG_METRICS`, default `true`).
    pub metrics: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            database_url: ConnectionUrl::new("memory"),
            broker_url: None,
            broker_namespace: None,
            rust_log: "info".to_owned(),
            log_format: LogFormat::Text,
            shutdown_delay: Duration::ZERO,
            queue_injection: false,
            metrics: true,
        }
    }
}

impl Settings {
    /// A setting's value as the report shows it.
    pub(crate) fn shown(&self, key: &str) -> Option<String> {
        match key {
            "host" => Some(self.host.to_string()),
            "port" => Some(self.port.to_string()),
            "database_url" => Some(self.database_url.masked()),
            "broker_url" => self.broker_url.as_ref().map(ConnectionUrl::masked),
            "broker_namespace" => self.broker_namespace.clone(),
            "rust_log" => Some(self.rust_log.clone()),
            "bisslog_log_format" => Some(self.log_format.to_string()),
            "shutdown_delay" => Some(if self.shutdown_delay.is_zero() {
                "0s".to_owned()
            } else {
                format!("{:?}", self.shutdown_delay)
            }),
            "bisslog_queue_injection" => Some(self.queue_injection.to_string()),
            "bisslog_metrics" => Some(self.metrics.to_string()),
            _ => None,
        }
    }
}

/// One framework setting's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingName {
    /// The key in the file (the variable in lower case).
    pub file_key: &'static str,
    /// The environment variable (`VAR_FILE` names a file holding the value).
    pub var: &'static str,
    /// The long flag, without `--`.
    pub flag: &'static str,
}

/// Every framework setting's names, in the report's order.
pub const FRAMEWORK: [SettingName; 10] = [
    SettingName {
        file_key: "host",
        var: "HOST",
        flag: "host",
    },
    SettingName {
        file_key: "port",
        var: "PORT",
        flag: "port",
    },
    SettingName {
        file_key: "database_url",
        var: "DATABASE_URL",
        flag: "database-url",
    },
    SettingName {
        file_key: "broker_url",
        var: "BROKER_URL",
        flag: "broker-url",
    },
    SettingName {
        file_key: "broker_namespace",
        var: "BROKER_NAMESPACE",
        flag: "broker-namespace",
    },
    SettingName {
        file_key: "rust_log",
        var: "RUST_LOG",
        flag: "rust-log",
    },
    SettingName {
        file_key: "bisslog_log_format",
        var: "BISSLOG_LOG_FORMAT",
        flag: "log-format",
    },
    SettingName {
        file_key: "shutdown_delay",
        var: "SHUTDOWN_DELAY",
        flag: "shutdown-delay",
    },
    SettingName {
        file_key: "bisslog_queue_injection",
        var: "BISSLOG_QUEUE_INJECTION",
        flag: "queue-injection",
    },
    SettingName {
        file_key: "bisslog_metrics",
        var: "BISSLOG_METRICS",
        flag: "metrics",
    },
];
