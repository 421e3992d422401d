//! Layered configuration for bisslog services.
//!
//! A service's configuration comes from, in increasing precedence:
//! defaults < a TOML file (`--config FILE`) < environment variables <
//! command-line flags. It holds the framework's [`Settings`] (host, port,
//! database and broker URLs, logging) and the service's own settings, a
//! serde struct the service declares. The service runner uses this crate;
//! a service rarely calls it directly. See `docs/configuration.md` for
//! every setting's variable, file key, flag and default.
//!
//! - File keys are the environment variables' names in lower case (`port`,
//!   `database_url`); the service's settings sit under `[service]`, one key
//!   per field. The service's environment variables are its field names
//!   upper-cased (`api_key` → `API_KEY`, with an optional prefix); its flags
//!   are the field names with `-` for `_` (`--api-key`).
//! - Any setting may come from a file named by `<VAR>_FILE`
//!   (`DATABASE_URL_FILE=/run/secrets/db`, one trailing newline trimmed);
//!   setting both `VAR` and `VAR_FILE` is an error. An empty variable
//!   counts as unset.
//! - Secrets show as `***` in `Debug`, `Display`, errors and the
//!   [`Report`]: values read from `_FILE`, fields of type [`Secret`], and
//!   the password of any URL.
//! - An unknown key in the file, an unknown flag or a bad value is a
//!   [`ConfigError`] naming the key and where it came from (the file's line
//!   and column). The caller exits with status 2.
//!
//! # Why `toml_edit` and serde rather than figment
//!
//! `figment` has provenance built in, but it records which provider (which
//! file) gave a value, not the line, and its errors for an unknown key carry
//! no position; `_FILE` secrets and masking would be ours to write anyway,
//! and its environment provider reads the process's environment. The
//! requirements (the line of an unknown key, the line in the report,
//! `VAR_FILE`, errors that never quote a secret) are met by `toml_edit`
//! (the parser behind the `toml` crate, already in the workspace's lock
//! file; it keeps every key's span) and a small serde deserializer of our
//! own whose errors never quote the input. Dependencies: `serde`, `jiff` (durations),
//! `thiserror`, `toml_edit`.
//!
//! # Example
//!
//! ```
//! use bisslog_config::{Loader, Origin, Secret};
//!
//! #[derive(Debug, serde::Deserialize)]
//! struct Registry {
//!     retries: u32,
//!     api_key: Secret<String>,
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("registry.toml");
//! std::fs::write(&file, "port = 9000\n\n[service]\nretries = 3\n")?;
//! let secret = dir.path().join("api_key");
//! std::fs::write(&secret, "k-123\n")?;
//!
//! let config = Loader::new()
//!     .file(&file)
//!     .env([("PORT", "9100"), ("API_KEY_FILE", secret.to_str().ok_or("path")?)])
//!     .flag("port", "9200")
//!     .load::<Registry>()?;
//!
//! assert_eq!(config.settings.port, 9200);
//! assert_eq!(config.service.retries, 3);
//! assert_eq!(config.service.api_key.expose(), "k-123");
//! assert_eq!(format!("{:?}", config.service.api_key), "***");
//! let port = config.report.get("port").ok_or("port")?;
//! assert_eq!(port.origin, Origin::Flag("port".into()));
//! println!("{}", config.report); // `service.api_key = ***  # env API_KEY_FILE (...)`
//! # Ok(())
//! # }
//! ```

mod de;
mod load;
mod secret;
mod settings;

pub use load::{Config, ConfigError, Loader, NoServiceSettings, Origin, Report, ReportEntry};
pub use secret::{ConnectionUrl, MASK, Secret, mask_url_password};
pub use settings::{FRAMEWORK, LogFormat, SettingName, Settings};
