//! The loader: layers, provenance, errors.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::de::{DeError, Map, Raw, Track, ValueDe, struct_fields};
use crate::secret::Secret;
use crate::secret::{ConnectionUrl, MASK, mask_url_password};
use crate::settings::{FRAMEWORK, LogFormat, SECRET_SETTINGS, Settings};

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// Nobody set it: the default.
    Default,
    /// The configuration file, at this line and column (1-based).
    File {
        /// The file, as given to the loader.
        path: PathBuf,
        /// The line of the key.
        line: usize,
        /// The column of the key.
        column: usize,
    },
    /// The environment variable of that name.
    Env(String),
    /// The file named by the environment variable `var` (`DATABASE_URL_FILE`).
    EnvFile {
        /// The variable, `_FILE` included.
        var: String,
        /// The file it named.
        path: PathBuf,
    },
    /// The command-line flag of that name (`--port`).
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { path, line, column } => {
                write!(f, "file {}:{line}:{column}", path.display())
            }
            Origin::Env(var) => write!(f, "env {var}"),
            Origin::EnvFile { var, path } => write!(f, "env {var} ({})", path.display()),
            Origin::Flag(name) => write!(f, "flag --{name}"),
        }
    }
}

/// Why the configuration cannot be loaded. The caller exits with status 2.
/// No variant holds a setting's value: a bad value may be a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file cannot be read.
    #[error("cannot read the configuration file {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("{}:{line}:{column}: invalid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where (1-based).
        line: usize,
        /// Where (1-based).
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The file has a key no setting has.
    #[error("{}:{line}:{column}: unknown key `{key}` (known keys: {known})", path.display())]
    UnknownKey {
        /// The key, `service.` first for the service's table.
        key: String,
        /// The file.
        path: PathBuf,
        /// Where (1-based).
        line: usize,
        /// Where (1-based).
        column: usize,
        /// The keys that would be accepted there, comma-separated.
        known: String,
    },
    /// A flag no setting has.
    #[error("unknown flag --{name}")]
    UnknownFlag {
        /// The flag's name, without `--`.
        name: String,
    },
    /// A value of the wrong type or out of range.
    #[error("invalid value for `{key}` (from {origin}): {message}")]
    InvalidValue {
        /// The setting's key (`port`, `service.retries`).
        key: String,
        /// Where the bad value came from.
        origin: Origin,
        /// What was expected; never the value itself.
        message: String,
    },
    /// The service's settings lack a value they require.
    #[error("missing setting `{key}`: set it in the file or in {var}")]
    Missing {
        /// The setting's key (`service.api_key`).
        key: String,
        /// Its environment variable.
        var: String,
    },
    /// Both `VAR` and `VAR_FILE` are set.
    #[error("both {var} and {var}_FILE are set: set only one")]
    BothSet {
        /// The variable, without `_FILE`.
        var: String,
    },
    /// The file named by `VAR_FILE` cannot be read.
    #[error("cannot read {var} ({}): {source}", path.display())]
    ReadSecretFile {
        /// The variable, `_FILE` included.
        var: String,
        /// The file it named.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Settings that cannot go together, or one that needs another
    /// (`JWT_JWKS_FILE` and `JWT_JWKS_URL` both set).
    #[error("{var}: {message}")]
    Conflict {
        /// The environment variable to fix.
        var: String,
        /// Why.
        message: String,
    },
    /// The service's settings type cannot be loaded (a programming error).
    #[error("the service's settings: {message}")]
    ServiceType {
        /// What is wrong.
        message: String,
    },
}

/// One line of the effective configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    /// The file key (`port`, `service.retries`).
    pub key: String,
    /// The value as it may be shown (`***` for secrets, URL passwords
    /// masked); `None` when unset (a service setting left to its serde
    /// default, an optional framework setting).
    pub value: Option<String>,
    /// Where it came from.
    pub origin: Origin,
    /// Whether the value is masked altogether.
    pub secret: bool,
}

/// The effective configuration: every setting, its shown value and where
/// it came from. `Display` prints one `key = value  # origin` per line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The framework's settings first, then the service's.
    pub entries: Vec<ReportEntry>,
}

impl Report {
    /// The entry of a key.
    pub fn get(&self, key: &str) -> Option<&ReportEntry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.entries.iter().map(|e| e.key.len()).max().unwrap_or(0);
        for e in &self.entries {
            let value = e.value.as_deref().unwrap_or("(unset)");
            writeln!(f, "{:width$} = {value}  # {}", e.key, e.origin)?;
        }
        Ok(())
    }
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Config<S> {
    /// The framework's settings.
    pub settings: Settings,
    /// The service's own settings.
    pub service: S,
    /// Where each value came from, secrets masked.
    pub report: Report,
}

/// A service without settings of its own: `Loader::load::<NoServiceSettings>()`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoServiceSettings {}

/// Loads the configuration: defaults < file < environment < flags.
///
/// The loader reads nothing until [`Loader::load`]; the environment is
/// given to it ([`Loader::env`], or [`Loader::process_env`] for the real one).
#[derive(Debug, Clone)]
pub struct Loader {
    defaults: Settings,
    file: Option<PathBuf>,
    env: HashMap<String, String>,
    flags: Vec<(String, String)>,
    service_table: String,
    service_env_prefix: String,
}

impl Default for Loader {
    fn default() -> Self {
        Self::new()
    }
}

/// One setting, wherever it may be set.
struct Slot {
    /// The key in the report (`port`, `service.retries`).
    key: String,
    /// The key in its file table.
    file_key: String,
    var: String,
    flag: String,
}

/// A value found for a slot.
struct Found {
    raw: Raw,
    origin: Origin,
}

impl Found {
    fn is_secret_file(&self) -> bool {
        matches!(self.origin, Origin::EnvFile { .. })
    }
}

type FileTable = BTreeMap<String, (Raw, Origin)>;

impl Loader {
    /// A loader with the default settings, no file, no environment and no flags.
    pub fn new() -> Self {
        Self {
            defaults: Settings::default(),
            file: None,
            env: HashMap::new(),
            flags: Vec::new(),
            service_table: "service".to_owned(),
            service_env_prefix: String::new(),
        }
    }

    /// Other defaults for the framework's settings (a service's own port).
    pub fn defaults(mut self, defaults: Settings) -> Self {
        self.defaults = defaults;
        self
    }

    /// The TOML file (`--config FILE`).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// The environment to read (replaces any given before).
    pub fn env<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self
    }

    /// The process's environment (variables that are not UTF-8 are skipped).
    pub fn process_env(self) -> Self {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        self.env(vars)
    }

    /// A command-line flag, already parsed: its long name (`database-url`,
    /// with or without `--`) and value. A later flag of the same name wins.
    pub fn flag(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name: String = name.into();
        self.flags
            .push((name.trim_start_matches('-').to_owned(), value.into()));
        self
    }

    /// The table of the file that holds the service's settings (`service`).
    pub fn service_table(mut self, name: impl Into<String>) -> Self {
        self.service_table = name.into();
        self
    }

    /// A prefix for the service's environment variables (`REGISTRY_` makes
    /// field `api_key` read `REGISTRY_API_KEY`); none by default.
    pub fn service_env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.service_env_prefix = prefix.into();
        self
    }

    /// The flags (without `--`) and environment variables of the fields of
    /// the service's settings `S`, as [`Loader::load`] reads them: for a
    /// command-line parser to accept them. Empty when `S` is not a struct
    /// with named fields.
    pub fn service_flags<S: DeserializeOwned>(&self) -> Vec<(String, String)> {
        struct_fields::<S>()
            .unwrap_or_default()
            .iter()
            .map(|f| {
                (
                    f.replace('_', "-"),
                    format!("{}{}", self.service_env_prefix, f.to_uppercase()),
                )
            })
            .collect()
    }

    /// Loads the framework's settings and the service's `S`.
    ///
    /// `S` is a struct with named fields deriving `Deserialize`; its fields
    /// are read from the file's service table, from the environment
    /// variable named by the field upper-cased (plus the prefix) and from
    /// the flag named by the field with `-` for `_`. Declare secret fields
    /// as [`crate::Secret`].
    pub fn load<S: DeserializeOwned>(&self) -> Result<Config<S>, ConfigError> {
        let fields = struct_fields::<S>().ok_or_else(|| ConfigError::ServiceType {
            message: "a struct with named fields deriving Deserialize is expected".to_owned(),
        })?;
        let framework: Vec<Slot> = FRAMEWORK
            .iter()
            .map(|s| Slot {
                key: s.file_key.to_owned(),
                file_key: s.file_key.to_owned(),
                var: s.var.to_owned(),
                flag: s.flag.to_owned(),
            })
            .collect();
        let service: Vec<Slot> = fields
            .iter()
            .map(|f| Slot {
                key: format!("{}.{f}", self.service_table),
                file_key: (*f).to_owned(),
                var: format!("{}{}", self.service_env_prefix, f.to_uppercase()),
                flag: f.replace('_', "-"),
            })
            .collect();
        for s in &service {
            if let Some(clash) = framework
                .iter()
                .find(|f| f.var == s.var || f.flag == s.flag)
            {
                return Err(ConfigError::ServiceType {
                    message: format!(
                        "field `{}` would read {} or --{}, which are the framework's `{}`; \
                         rename it or set a prefix",
                        s.file_key, s.var, s.flag, clash.key
                    ),
                });
            }
        }
        for (name, _) in &self.flags {
            if !framework.iter().chain(&service).any(|s| &s.flag == name) {
                return Err(ConfigError::UnknownFlag { name: name.clone() });
            }
        }

        let (top, table) = match &self.file {
            Some(path) => self.read_file(path, &framework, &service)?,
            None => (FileTable::new(), FileTable::new()),
        };

        let mut report = Report::default();
        let mut settings = self.defaults.clone();
        for slot in &framework {
            let found = self.find(slot, &top)?;
            let origin = match found {
                Some(found) => {
                    let origin = found.origin.clone();
                    apply(&mut settings, slot, found)?;
                    origin
                }
                None => Origin::Default,
            };
            let secret = matches!(origin, Origin::EnvFile { .. })
                || (SECRET_SETTINGS.contains(&slot.key.as_str()) && origin != Origin::Default);
            let value = if secret {
                Some(MASK.to_owned())
            } else {
                settings.shown(&slot.key)
            };
            report.entries.push(ReportEntry {
                key: slot.key.clone(),
                value,
                origin,
                secret,
            });
        }

        if let Some((var, message)) = settings.authentication_conflict() {
            return Err(ConfigError::Conflict {
                var: var.to_owned(),
                message: message.to_owned(),
            });
        }

        let mut entries = Vec::new();
        let mut found_service = Vec::new();
        for slot in &service {
            let found = self.find(slot, &table)?;
            if let Some(found) = &found {
                entries.push((slot.file_key.clone(), found.raw.clone()));
            }
            found_service.push(found);
        }
        let track = Track::default();
        let cell = Cell::new(false);
        let map = Map {
            entries: entries.into_iter(),
            value: None,
            key: None,
            secret: &cell,
            track: Some(&track),
        };
        let parsed = S::deserialize(serde::de::value::MapAccessDeserializer::new(map));
        let failed_key = track.key.borrow().clone();
        let secrets = track.secrets.borrow().clone();
        let service_value = match parsed {
            Ok(value) => value,
            Err(DeError(message)) => {
                let Some(field) = failed_key else {
                    if let Some(missing) = message
                        .strip_prefix("missing field `")
                        .and_then(|m| m.strip_suffix('`'))
                        && let Some(slot) = service.iter().find(|s| s.file_key == missing)
                    {
                        return Err(ConfigError::Missing {
                            key: slot.key.clone(),
                            var: slot.var.clone(),
                        });
                    }
                    return Err(ConfigError::ServiceType { message });
                };
                let index = service.iter().position(|s| s.file_key == field);
                let (slot, found) = match index {
                    Some(i) => (&service[i], found_service[i].as_ref()),
                    None => {
                        return Err(ConfigError::ServiceType { message });
                    }
                };
                let secret = cell.get() || found.is_some_and(Found::is_secret_file);
                return Err(invalid(slot, found, message, secret));
            }
        };
        for (slot, found) in service.iter().zip(found_service) {
            let entry = match found {
                Some(found) => {
                    let secret = found.is_secret_file() || secrets.contains(&slot.file_key);
                    let value = if secret {
                        MASK.to_owned()
                    } else {
                        mask_url_password(&found.raw.show())
                    };
                    ReportEntry {
                        key: slot.key.clone(),
                        value: Some(value),
                        origin: found.origin,
                        secret,
                    }
                }
                None => ReportEntry {
                    key: slot.key.clone(),
                    value: None,
                    origin: Origin::Default,
                    secret: false,
                },
            };
            report.entries.push(entry);
        }
        Ok(Config {
            settings,
            service: service_value,
            report,
        })
    }

    /// The value of a slot with the highest precedence, if any.
    fn find(&self, slot: &Slot, file: &FileTable) -> Result<Option<Found>, ConfigError> {
        if let Some((_, value)) = self.flags.iter().rev().find(|(n, _)| *n == slot.flag) {
            return Ok(Some(Found {
                raw: Raw::Text(value.clone()),
                origin: Origin::Flag(slot.flag.clone()),
            }));
        }
        let file_var = format!("{}_FILE", slot.var);
        let plain = self.env.get(&slot.var).filter(|v| !v.is_empty());
        let secret = self.env.get(&file_var).filter(|v| !v.is_empty());
        match (plain, secret) {
            (Some(_), Some(_)) => Err(ConfigError::BothSet {
                var: slot.var.clone(),
            }),
            (Some(value), None) => Ok(Some(Found {
                raw: Raw::Text(value.clone()),
                origin: Origin::Env(slot.var.clone()),
            })),
            (None, Some(path)) => {
                let path = PathBuf::from(path);
                let text = std::fs::read_to_string(&path).map_err(|source| {
                    ConfigError::ReadSecretFile {
                        var: file_var.clone(),
                        path: path.clone(),
                        source,
                    }
                })?;
                let text = text.strip_suffix('\n').unwrap_or(&text);
                let text = text.strip_suffix('\r').unwrap_or(text);
                Ok(Some(Found {
                    raw: Raw::Text(text.to_owned()),
                    origin: Origin::EnvFile {
                        var: file_var,
                        path,
                    },
                }))
            }
            (None, None) => Ok(file.get(&slot.file_key).map(|(raw, origin)| Found {
                raw: raw.clone(),
                origin: origin.clone(),
            })),
        }
    }

    /// The file's top-level values and its service table, keys checked.
    fn read_file(
        &self,
        path: &Path,
        framework: &[Slot],
        service: &[Slot],
    ) -> Result<(FileTable, FileTable), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        let doc = toml_edit::Document::parse(text.as_str()).map_err(|e| {
            let (line, column) = line_column(&text, e.span().map_or(0, |s| s.start));
            ConfigError::Syntax {
                path: path.to_owned(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?;
        let position = |key: &toml_edit::Key| line_column(&text, key.span().map_or(0, |s| s.start));
        let mut top = FileTable::new();
        let mut table = FileTable::new();
        let known_top: Vec<&str> = framework
            .iter()
            .map(|s| s.file_key.as_str())
            .chain([self.service_table.as_str()])
            .collect();
        let known_service: Vec<&str> = service.iter().map(|s| s.file_key.as_str()).collect();
        let root = doc.as_table();
        for (name, item) in root.iter() {
            let Some((key, _)) = root.get_key_value(name) else {
                continue;
            };
            let (line, column) = position(key);
            let origin = Origin::File {
                path: path.to_owned(),
                line,
                column,
            };
            if name == self.service_table {
                let Some(inner) = item.as_table_like() else {
                    return Err(ConfigError::InvalidValue {
                        key: name.to_owned(),
                        origin,
                        message: "expected a table".to_owned(),
                    });
                };
                for (field, value) in inner.iter() {
                    let Some((key, _)) = inner.get_key_value(field) else {
                        continue;
                    };
                    let (line, column) = position(key);
                    if !known_service.contains(&field) {
                        return Err(ConfigError::UnknownKey {
                            key: format!("{}.{field}", self.service_table),
                            path: path.to_owned(),
                            line,
                            column,
                            known: known_service.join(", "),
                        });
                    }
                    let origin = Origin::File {
                        path: path.to_owned(),
                        line,
                        column,
                    };
                    table.insert(field.to_owned(), (to_raw(value), origin));
                }
            } else if known_top.contains(&name) {
                top.insert(name.to_owned(), (to_raw(item), origin));
            } else {
                return Err(ConfigError::UnknownKey {
                    key: name.to_owned(),
                    path: path.to_owned(),
                    line,
                    column,
                    known: known_top.join(", "),
                });
            }
        }
        Ok((top, table))
    }
}

/// The error for a bad value, its text scrubbed of the value if secret.
fn invalid(slot: &Slot, found: Option<&Found>, mut message: String, secret: bool) -> ConfigError {
    if let Some(found) = found {
        let mut strings = Vec::new();
        found.raw.strings(&mut strings);
        for s in strings {
            if secret && !s.is_empty() {
                message = message.replace(&s, MASK);
            } else if let Some(masked) = Some(mask_url_password(&s)).filter(|m| *m != s) {
                message = message.replace(&s, &masked);
            }
        }
    }
    ConfigError::InvalidValue {
        key: slot.key.clone(),
        origin: found.map_or(Origin::Default, |f| f.origin.clone()),
        message,
    }
}

/// Sets a framework setting from the value found for it.
fn apply(settings: &mut Settings, slot: &Slot, found: Found) -> Result<(), ConfigError> {
    fn parse<T: DeserializeOwned>(raw: &Raw) -> Result<T, String> {
        let cell = Cell::new(false);
        T::deserialize(ValueDe {
            raw: raw.clone(),
            secret: &cell,
        })
        .map_err(|DeError(m)| m)
    }
    let secret = found.is_secret_file() || SECRET_SETTINGS.contains(&slot.key.as_str());
    let url = |s: String| {
        if secret {
            ConnectionUrl::secret(s)
        } else {
            ConnectionUrl::new(s)
        }
    };
    let result: Result<(), String> = match slot.key.as_str() {
        "host" => parse::<IpAddr>(&found.raw).map(|v| settings.host = v),
        "port" => parse::<u16>(&found.raw).map(|v| settings.port = v),
        "database_url" => parse::<String>(&found.raw).map(|v| settings.database_url = url(v)),
        "broker_url" => parse::<String>(&found.raw).map(|v| settings.broker_url = Some(url(v))),
        "broker_namespace" => {
            parse::<String>(&found.raw).map(|v| settings.broker_namespace = Some(v))
        }
        "rust_log" => parse::<String>(&found.raw).map(|v| settings.rust_log = v),
        "bisslog_log_format" => parse::<LogFormat>(&found.raw).map(|v| settings.log_format = v),
        "shutdown_delay" => parse::<String>(&found.raw)
            .and_then(|v| parse_duration(&v))
            .map(|v| settings.shutdown_delay = v),
        "bisslog_queue_injection" => {
            parse::<bool>(&found.raw).map(|v| settings.queue_injection = v)
        }
        "bisslog_metrics" => parse::<bool>(&found.raw).map(|v| settings.metrics = v),
        "jwt_jwks_file" => {
            parse::<String>(&found.raw).map(|v| settings.jwt_jwks_file = Some(v.into()))
        }
        "jwt_jwks_url" => parse::<String>(&found.raw).map(|v| settings.jwt_jwks_url = Some(v)),
        "jwt_hmac_secret" => {
            parse::<String>(&found.raw).map(|v| settings.jwt_hmac_secret = Some(Secret::new(v)))
        }
        "jwt_issuer" => parse::<String>(&found.raw).map(|v| settings.jwt_issuer = Some(v)),
        "jwt_audience" => parse::<Vec<String>>(&found.raw).map(|v| {
            settings.jwt_audience = v
                .iter()
                .map(|a| a.trim())
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
        }),
        "jwt_leeway" => parse::<String>(&found.raw)
            .and_then(|v| parse_duration(&v))
            .map(|v| settings.jwt_leeway = Some(v)),
        "api_keys_file" => {
            parse::<String>(&found.raw).map(|v| settings.api_keys_file = Some(v.into()))
        }
        other => Err(format!("no framework setting `{other}`")),
    };
    result.map_err(|message| invalid(slot, Some(&found), message, secret))
}

/// A duration as people write it (`"5s"`, `"250ms"`, `"1m"`, `"0s"`), by
/// jiff's friendly format.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    const EXPECTED: &str = "a duration such as \"5s\", \"250ms\" or \"1m\"";
    let signed: jiff::SignedDuration = text.trim().parse().map_err(|_| EXPECTED.to_owned())?;
    std::time::Duration::try_from(signed).map_err(|_| EXPECTED.to_owned())
}

fn to_raw(item: &toml_edit::Item) -> Raw {
    match item {
        toml_edit::Item::Value(v) => value_to_raw(v),
        toml_edit::Item::Table(t) => {
            Raw::Table(t.iter().map(|(k, v)| (k.to_owned(), to_raw(v))).collect())
        }
        toml_edit::Item::ArrayOfTables(a) => Raw::Array(
            a.iter()
                .map(|t| Raw::Table(t.iter().map(|(k, v)| (k.to_owned(), to_raw(v))).collect()))
                .collect(),
        ),
        toml_edit::Item::None => Raw::Table(Vec::new()),
    }
}

fn value_to_raw(value: &toml_edit::Value) -> Raw {
    use toml_edit::Value;
    match value {
        Value::String(s) => Raw::Str(s.value().clone()),
        Value::Integer(i) => Raw::Int(*i.value()),
        Value::Float(f) => Raw::Float(*f.value()),
        Value::Boolean(b) => Raw::Bool(*b.value()),
        Value::Datetime(d) => Raw::Str(d.value().to_string()),
        Value::Array(a) => Raw::Array(a.iter().map(value_to_raw).collect()),
        Value::InlineTable(t) => Raw::Table(
            t.iter()
                .map(|(k, v)| (k.to_owned(), value_to_raw(v)))
                .collect(),
        ),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
