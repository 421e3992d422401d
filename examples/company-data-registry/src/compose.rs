//! The composition functions the runner (`bisslog::App`) calls: the
//! resources it made from the configuration in, the services of the
//! process out. The binaries and `lambda_service` share them.

use bisslog::app::{BoxError, ConnectionUrl, Reach, Secret, Store};
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
    let token = settings
        .registry_token
        .as_ref()
        .map(|t| t.expose().as_str());
    let importer = importer_service(&resources, &resources.url(), token, records)?;
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
    let token = settings
        .registry_token
        .as_ref()
        .map(|t| t.expose().as_str());
    importer_service(&resources, &settings.registry_url, token, records)
}

/// Refuses a broker no other process reaches, for a service run alone.
fn shared_broker<S>(resources: &Resources<S>, who: &str) -> Result<(), BoxError> {
    if matches!(resources.reach(), Reach::Machine | Reach::Network) {
        return Ok(());
    }
    Err(format!(
        "alone, {who} needs a broker other processes reach (BROKER_URL=sqlite://..., postgres://..., nats://..., amqp://... or redis://...); with the in-process broker the registry runs it in its own process"
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
    registry_token: Option<&str>,
    records: RegistryDatabase,
) -> Result<Service, BoxError> {
    let metadata = importer::metadata().map_err(invalid_metadata)?;
    let guards = importer::guards(&metadata);
    let registry = RegistryHttp::new(
        registry_url,
        registry_token,
        guards[importer::REGISTRY].clone(),
    )?;
    Ok(importer::service(
        metadata,
        registry,
        resources.broker_events(),
        records,
        guards,
    )?)
}

fn invalid_metadata(report: Box<bisslog::schema::Report>) -> BoxError {
    format!(
        "the embedded metadata is invalid:\n{}",
        bisslog::schema::render_report(&report, bisslog::schema::RenderOptions::default())
    )
    .into()
}
