//! The framework's settings.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::secret::{ConnectionUrl, MASK, Secret};

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
    /// A JWKS file whose keys check bearer tokens (`JWT_JWKS_FILE`); with
    /// it, the runner requires a valid token on every HTTP route.
    pub jwt_jwks_file: Option<PathBuf>,
    /// A JWKS URL, fetched and cached (`JWT_JWKS_URL`; needs `JWT_ISSUER`).
    pub jwt_jwks_url: Option<String>,
    /// An HS256 secret of at least 32 bytes (`JWT_HMAC_SECRET`, usually
    /// `JWT_HMAC_SECRET_FILE`); always masked.
    pub jwt_hmac_secret: Option<Secret<String>>,
    /// The `iss` tokens must have (`JWT_ISSUER`); unchecked when unset.
    pub jwt_issuer: Option<String>,
    /// The `aud` values accepted, one of which a token must have
    /// (`JWT_AUDIENCE`, comma-separated); unchecked when empty.
    pub jwt_audience: Vec<String>,
    /// The clock skew tolerated on `exp` and `nbf` (`JWT_LEEWAY`, `"30s"`);
    /// the authenticator's default (30 s) when unset.
    pub jwt_leeway: Option<Duration>,
    /// A file of `client:sha256hex[:roles]` lines (`API_KEYS_FILE`); with
    /// it, the runner accepts those API keys (on every HTTP route when no
    /// JWT keys are configured).
    pub api_keys_file: Option<PathBuf>,
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
            jwt_jwks_file: None,
            jwt_jwks_url: None,
            jwt_hmac_secret: None,
            jwt_issuer: None,
            jwt_audience: Vec::new(),
            jwt_leeway: None,
            api_keys_file: None,
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
            "jwt_jwks_file" => self.jwt_jwks_file.as_ref().map(|p| p.display().to_string()),
            "jwt_jwks_url" => self.jwt_jwks_url.clone(),
            "jwt_hmac_secret" => self.jwt_hmac_secret.as_ref().map(|_| MASK.to_owned()),
            "jwt_issuer" => self.jwt_issuer.clone(),
            "jwt_audience" => (!self.jwt_audience.is_empty()).then(|| self.jwt_audience.join(",")),
            "jwt_leeway" => self.jwt_leeway.map(|d| format!("{d:?}")),
            "api_keys_file" => self.api_keys_file.as_ref().map(|p| p.display().to_string()),
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
pub const FRAMEWORK: [SettingName; 17] = [
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
    SettingName {
        file_key: "jwt_jwks_file",
        var: "JWT_JWKS_FILE",
        flag: "jwt-jwks-file",
    },
    SettingName {
        file_key: "jwt_jwks_url",
        var: "JWT_JWKS_URL",
        flag: "jwt-jwks-url",
    },
    SettingName {
        file_key: "jwt_hmac_secret",
        var: "JWT_HMAC_SECRET",
        flag: "jwt-hmac-secret",
    },
    SettingName {
        file_key: "jwt_issuer",
        var: "JWT_ISSUER",
        flag: "jwt-issuer",
    },
    SettingName {
        file_key: "jwt_audience",
        var: "JWT_AUDIENCE",
        flag: "jwt-audience",
    },
    SettingName {
        file_key: "jwt_leeway",
        var: "JWT_LEEWAY",
        flag: "jwt-leeway",
    },
    SettingName {
        file_key: "api_keys_file",
        var: "API_KEYS_FILE",
        flag: "api-keys-file",
    },
];

/// Settings always masked, wherever they come from.
pub(crate) const SECRET_SETTINGS: [&str; 1] = ["jwt_hmac_secret"];

impl Settings {
    /// Whether any authentication is configured: JWT keys or API keys.
    pub fn authentication_configured(&self) -> bool {
        self.jwt_configured() || self.api_keys_file.is_some()
    }

    /// Whether JWT keys are configured (a JWKS file or URL, or a secret).
    pub fn jwt_configured(&self) -> bool {
        self.jwt_jwks_file.is_some()
            || self.jwt_jwks_url.is_some()
            || self.jwt_hmac_secret.is_some()
    }

    /// The authentication settings that cannot go together: the variable
    /// to fix and why.
    pub(crate) fn authentication_conflict(&self) -> Option<(&'static str, &'static str)> {
        let sources = [
            self.jwt_jwks_file.is_some(),
            self.jwt_jwks_url.is_some(),
            self.jwt_hmac_secret.is_some(),
        ];
        if sources.iter().filter(|set| **set).count() > 1 {
            let var = if self.jwt_jwks_file.is_some() {
                "JWT_JWKS_FILE"
            } else {
                "JWT_JWKS_URL"
            };
            return Some((
                var,
                "set only one of JWT_JWKS_FILE, JWT_JWKS_URL and JWT_HMAC_SECRET",
            ));
        }
        if self.jwt_jwks_url.is_some() && self.jwt_issuer.is_none() {
            return Some((
                "JWT_ISSUER",
                "JWT_JWKS_URL needs JWT_ISSUER: an identity provider's keys sign tokens for many, only its `iss` says they are meant for this service's issuer",
            ));
        }
        if !self.jwt_configured() {
            let orphan = [
                ("JWT_ISSUER", self.jwt_issuer.is_some()),
                ("JWT_AUDIENCE", !self.jwt_audience.is_empty()),
                ("JWT_LEEWAY", self.jwt_leeway.is_some()),
            ]
            .into_iter()
            .find(|(_, set)| *set);
            if let Some((var, _)) = orphan {
                return Some((
                    var,
                    "it checks JWT bearer tokens, but no keys are set: set JWT_JWKS_FILE, JWT_JWKS_URL or JWT_HMAC_SECRET too",
                ));
            }
        }
        None
    }
}
