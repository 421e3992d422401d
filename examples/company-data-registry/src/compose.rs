//! The composition functions the runner (`bisslog::App`) calls: the
//! resources it made from the configuration in, the services of the
//! process out. The binaries and `lambda_service` share them.

use bisslog::app::{BoxError, ConnectionUrl, Reach, Secret, Store};
use bisslog::http_client::ClientCredentials;
use bisslog::{Composition, Resources, Service};
use serde::Deserialize;

use crate::adapters::{MemoryStore, SqlStore};
use crate::audit::adapters::{MemoryAuditTrail, SqlAuditTrail};
use crate::importer::adapters::RegistryDatabase;
use crate::importer::registry_http::RegistryHttp;
use crate::{audit, importer};

/// The registry's own settings: where the audit service and the importer
/// run when the broker is this machine's (embedded mode).
#[derive(Debug, Clone, Deserialize)]
pub struct RegistrySettings {
    /// The audit service's port (`AUDIT_PORT`, 8081; 0 picks a free one).
    #[serde(default = "audit_port")]
    pub audit_port: u16,
    /// Where the audit service keeps its trail (`AUDIT_DATABASE_URL`).
    #[serde(default = "audit_database_url")]
    pub audit_database_url: ConnectionUrl,
    /// The importer's port (`IMPORTER_PORT`, 8082; 0 picks a free one).
    #[serde(default = "importer_port")]
    pub importer_port: u16,
    /// The bearer token the embedded importer sends to the registry when
    /// authentication is on (`REGISTRY_TOKEN` or `REGISTRY_TOKEN_FILE`).
    #[serde(default)]
    pub registry_token: Option<Secret<String>>,
    /// The OAuth 2.0 token endpoint the importer gets its bearer tokens
    /// for the registry from, by the client credentials grant
    /// (`REGISTRY_OAUTH_TOKEN_URL`); with `REGISTRY_OAUTH_CLIENT_ID` and
    /// `REGISTRY_OAUTH_CLIENT_SECRET`, instead of `REGISTRY_TOKEN`.
    #[serde(default)]
    pub registry_oauth_token_url: Option<String>,
    /// The importer's OAuth client id (`REGISTRY_OAUTH_CLIENT_ID`).
    #[serde(default)]
    pub registry_oauth_client_id: Option<String>,
    /// The importer's OAuth client secret (`REGISTRY_OAUTH_CLIENT_SECRET`
    /// or, better, `REGISTRY_OAUTH_CLIENT_SECRET_FILE`).
    #[serde(default)]
    pub registry_oauth_client_secret: Option<Secret<String>>,
    /// The `scope` asked for (`REGISTRY_OAUTH_SCOPE`); none by default.
    #[serde(default)]
    pub registry_oauth_scope: Option<String>,
    /// The `audience` asked for (`REGISTRY_OAUTH_AUDIENCE`: the registry's
    /// `JWT_AUDIENCE`, for servers that need it); none by default.
    #[serde(default)]
    pub registry_oauth_audience: Option<String>,
}

fn audit_port() -> u16 {
    8081
}

fn audit_database_url() -> ConnectionUrl {
    ConnectionUrl::new("sqlite://company-data-audit.db")
}

fn importer_port() -> u16 {
    8082
}

/// The importer's own settings, when it runs alone.
#[derive(Debug, Clone, Deserialize)]
pub struct ImporterSettings {
    /// The registry's HTTP API (`REGISTRY_URL`), asked whether a schema exists.
    #[serde(default = "registry_url")]
    pub registry_url: String,
    /// The registry's database (`REGISTRY_DATABASE_URL`), read for progress.
    #[serde(default = "registry_database_url")]
    pub registry_database_url: ConnectionUrl,
    /// The bearer token sent to the registry when it requires one
    /// (`REGISTRY_TOKEN` or `REGISTRY_TOKEN_FILE`); none by default.
    #[serde(default)]
    pub registry_token: Option<Secret<String>>,
    /// The OAuth 2.0 token endpoint the importer gets its bearer tokens
    /// for the registry from, by the client credentials grant
    /// (`REGISTRY_OAUTH_TOKEN_URL`); with `REGISTRY_OAUTH_CLIENT_ID` and
    /// `REGISTRY_OAUTH_CLIENT_SECRET`, instead of `REGISTRY_TOKEN`.
    #[serde(default)]
    pub registry_oauth_token_url: Option<String>,
    /// The importer's OAuth client id (`REGISTRY_OAUTH_CLIENT_ID`).
    #[serde(default)]
    pub registry_oauth_client_id: Option<String>,
    /// The importer's OAuth client secret (`REGISTRY_OAUTH_CLIENT_SECRET`
    /// or, better, `REGISTRY_OAUTH_CLIENT_SECRET_FILE`).
    #[serde(default)]
    pub registry_oauth_client_secret: Option<Secret<String>>,
    /// The `scope` asked for (`REGISTRY_OAUTH_SCOPE`); none by default.
    #[serde(default)]
    pub registry_oauth_scope: Option<String>,
    /// The `audience` asked for (`REGISTRY_OAUTH_AUDIENCE`: the registry's
    /// `JWT_AUDIENCE`, for servers that need it); none by default.
    #[serde(default)]
    pub registry_oauth_audience: Option<String>,
}

fn registry_url() -> String {
    "http://127.0.0.1:8080".to_owned()
}

fn registry_database_url() -> ConnectionUrl {
    ConnectionUrl::new("sqlite://company-data-registry.db")
}

/// The registry, on the database of `resources`: the service and its
/// records (for an importer in the same process).
pub async fn registry_service<S>(
    resources: &Resources<S>,
) -> Result<(Service, RegistryDatabase), BoxError> {
    let metadata = resources.metadata();
    let events = resources.events();
    let transactions = resources.transactions();
    Ok(match resources.database() {
        Store::Sql(db) => {
            let store = SqlStore::new(db.clone()).await?;
            let service = crate::service(metadata, store, events, transactions)?;
            (service, RegistryDatabase::Sql(db.clone()))
        }
        _ => {
            let store = MemoryStore::new();
            let records = RegistryDatabase::Memory(store.clone());
            (
                crate::service(metadata, store, events, transactions)?,
                records,
            )
        }
    })
}

/// The registry alone (AWS Lambda).
pub async fn registry_alone<S>(resources: Resources<S>) -> Result<Service, BoxError> {
    Ok(registry_service(&resources).await?.0)
}

/// The registry; with a broker of this machine (in process, or a SQLite
/// file), the audit service and the importer in this process too.
pub async fn registry(resources: Resources<RegistrySettings>) -> Result<Composition, BoxError> {
    let (registry, records) = registry_service(&resources).await?;
    if !resources.broker_is_local() {
        return Ok(registry.into());
    }
    let settings = resources.config().clone();
    let trail = resources
        .open_database(&settings.audit_database_url)
        .await?;
    let audit = audit_service(&resources, &trail).await?;
    let auth = RegistryAuth::of(
        settings.registry_token.as_ref(),
        OAuthSettings {
            token_url: settings.registry_oauth_token_url.as_deref(),
            client_id: settings.registry_oauth_client_id.as_deref(),
            client_secret: settings.registry_oauth_client_secret.as_ref(),
            scope: settings.registry_oauth_scope.as_deref(),
            audience: settings.registry_oauth_audience.as_deref(),
        },
    )?;
    let importer = importer_service(&resources, &resources.url(), auth, records)?;
    Ok(Composition::new(registry)
        .with(audit, settings.audit_port)
        .with(importer, settings.importer_port))
}

/// The audit service alone: its trail in `DATABASE_URL`.
pub async fn audit(resources: Resources) -> Result<Service, BoxError> {
    shared_broker(&resources, "the audit service")?;
    audit_service(&resources, resources.database()).await
}

/// The importer alone.
pub async fn importer(resources: Resources<ImporterSettings>) -> Result<Service, BoxError> {
    shared_broker(&resources, "the importer")?;
    let settings = resources.config();
    let records = RegistryDatabase::connect(settings.registry_database_url.expose())
        .await
        .map_err(|e| {
            format!(
                "cannot open the registry's database ({}, REGISTRY_DATABASE_URL): {e}",
                settings.registry_database_url
            )
        })?;
    let auth = RegistryAuth::of(
        settings.registry_token.as_ref(),
        OAuthSettings {
            token_url: settings.registry_oauth_token_url.as_deref(),
            client_id: settings.registry_oauth_client_id.as_deref(),
            client_secret: settings.registry_oauth_client_secret.as_ref(),
            scope: settings.registry_oauth_scope.as_deref(),
            audience: settings.registry_oauth_audience.as_deref(),
        },
    )?;
    importer_service(&resources, &settings.registry_url, auth, records)
}

/// Refuses a broker no other process reaches, for a service run alone.
fn shared_broker<S>(resources: &Resources<S>, who: &str) -> Result<(), BoxError> {
    if matches!(resources.reach(), Reach::Machine | Reach::Network) {
        return Ok(());
    }
    Err(format!(
        "alone, {who} needs a broker other processes reach (BROKER_URL=sqlite://..., postgres://..., nats://... or amqp://...); with the in-process broker the registry runs it in its own process"
    )
    .into())
}

/// The audit service, its trail in `store`.
async fn audit_service<S>(resources: &Resources<S>, store: &Store) -> Result<Service, BoxError> {
    let metadata = audit::metadata().map_err(invalid_metadata)?;
    let transactions = resources.transactions_of(store);
    Ok(match store {
        Store::Sql(db) => audit::service(
            metadata,
            SqlAuditTrail::new(db.clone()).await?,
            transactions,
        )?,
        _ => audit::service(metadata, MemoryAuditTrail::default(), transactions)?,
    })
}

/// The importer: it asks the registry at `registry_url`, its insertion
/// requests go straight to the broker (it keeps no data, so no outbox),
/// its progress reads `records`.
fn importer_service<S>(
    resources: &Resources<S>,
    registry_url: &str,
    auth: RegistryAuth<'_>,
    records: RegistryDatabase,
) -> Result<Service, BoxError> {
    let metadata = importer::metadata().map_err(invalid_metadata)?;
    let guards = importer::guards(&metadata);
    let guard = guards[importer::REGISTRY].clone();
    let registry = match auth {
        RegistryAuth::None => RegistryHttp::new(registry_url, None, guard)?,
        RegistryAuth::Token(token) => RegistryHttp::new(registry_url, Some(token), guard)?,
        RegistryAuth::ClientCredentials(credentials) => {
            RegistryHttp::with_client_credentials(registry_url, credentials, guard)?
        }
    };
    Ok(importer::service(
        metadata,
        registry,
        resources.broker_events(),
        records,
        guards,
    )?)
}

/// How the importer authenticates to the registry.
enum RegistryAuth<'a> {
    /// It does not (the registry's authentication is off).
    None,
    /// A long-lived bearer token (`REGISTRY_TOKEN`).
    Token(&'a str),
    /// Tokens from an OAuth 2.0 token endpoint (`REGISTRY_OAUTH_*`).
    ClientCredentials(ClientCredentials),
}

/// The `REGISTRY_OAUTH_*` settings, of either settings type.
struct OAuthSettings<'a> {
    token_url: Option<&'a str>,
    client_id: Option<&'a str>,
    client_secret: Option<&'a Secret<String>>,
    scope: Option<&'a str>,
    audience: Option<&'a str>,
}

impl<'a> RegistryAuth<'a> {
    /// From the settings: a static token or client credentials, not both;
    /// client credentials need the endpoint, the id and the secret.
    fn of(token: Option<&'a Secret<String>>, oauth: OAuthSettings<'_>) -> Result<Self, BoxError> {
        let any_oauth = oauth.token_url.is_some()
            || oauth.client_id.is_some()
            || oauth.client_secret.is_some()
            || oauth.scope.is_some()
            || oauth.audience.is_some();
        if !any_oauth {
            return Ok(token.map_or(RegistryAuth::None, |t| {
                RegistryAuth::Token(t.expose().as_str())
            }));
        }
        if token.is_some() {
            return Err("REGISTRY_TOKEN (or REGISTRY_TOKEN_FILE) and the REGISTRY_OAUTH_* settings are both set: the importer authenticates to the registry with a static token or with OAuth client credentials (REGISTRY_OAUTH_TOKEN_URL, REGISTRY_OAUTH_CLIENT_ID, REGISTRY_OAUTH_CLIENT_SECRET or _FILE), set only one".into());
        }
        let missing: Vec<&str> = [
            ("REGISTRY_OAUTH_TOKEN_URL", oauth.token_url.is_none()),
            ("REGISTRY_OAUTH_CLIENT_ID", oauth.client_id.is_none()),
            (
                "REGISTRY_OAUTH_CLIENT_SECRET (or _FILE)",
                oauth.client_secret.is_none(),
            ),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect();
        let (Some(token_url), Some(client_id), Some(client_secret)) =
            (oauth.token_url, oauth.client_id, oauth.client_secret)
        else {
            return Err(format!(
                "OAuth client credentials for the registry are incomplete: set {}",
                missing.join(" and ")
            )
            .into());
        };
        let mut credentials =
            ClientCredentials::builder(token_url, client_id, client_secret.expose().as_str());
        if let Some(scope) = oauth.scope {
            credentials = credentials.scope(scope);
        }
        if let Some(audience) = oauth.audience {
            credentials = credentials.audience(audience);
        }
        let credentials = credentials
            .build()
            .map_err(|e| format!("REGISTRY_OAUTH_TOKEN_URL, REGISTRY_OAUTH_CLIENT_ID: {e}"))?;
        Ok(RegistryAuth::ClientCredentials(credentials))
    }
}

fn invalid_metadata(report: Box<bisslog::schema::Report>) -> BoxError {
    format!(
        "the embedded metadata is invalid:\n{}",
        bisslog::schema::render_report(&report, bisslog::schema::RenderOptions::default())
    )
    .into()
}
