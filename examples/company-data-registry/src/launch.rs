//! What the binaries need to start: a broker chosen by URL, a shutdown
//! signal shared by every entry point of the process, and the audit and
//! importer services' start-up.

use std::net::SocketAddr;
use std::sync::Arc;

use bisslog::Trigger;
use bisslog::http::HttpServer;
use bisslog::messaging::UnitOfWork;
use bisslog::messaging::{
    Broker, BrokerError, Consumers, InProcessBroker, Namespaced, RunningConsumers,
};
use tokio::sync::watch;

use crate::adapters::{MemoryStore, SqlStore};
use crate::audit;
use crate::audit::adapters::{MemoryAuditTrail, SqlAuditTrail};
use crate::importer;
use crate::importer::adapters::RegistryDatabase;
use crate::importer::registry_http::RegistryHttp;

/// Why a part of the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// `BROKER_URL` names no broker this service knows.
    #[error(
        "BROKER_URL must be sqlite://..., postgres://..., nats://..., amqp://... or in-process; got `{0}`"
    )]
    UnknownBroker(String),
    /// A service running in its own process was given the in-process
    /// broker, which reaches no other process.
    #[error(
        "alone, {0} needs a broker other processes reach (BROKER_URL=sqlite://..., postgres://..., nats://... or amqp://...); with the in-process broker the registry runs it in its own process"
    )]
    InProcessAlone(&'static str),
    /// The broker's database could not be opened.
    #[error("cannot open the broker's database: {0}")]
    BrokerDatabase(bisslog::sql::SqlError),
    /// The broker could not be reached.
    #[error("cannot connect to the broker: {0}")]
    Broker(#[from] BrokerError),
    /// The database could not be opened.
    #[error("cannot open the database: {0}")]
    Database(#[from] bisslog::sql::SqlError),
    /// The metadata and the code disagree.
    #[error(transparent)]
    Build(#[from] bisslog::BuildError),
    /// The embedded metadata is invalid.
    #[error("the embedded metadata is invalid:\n{0}")]
    Metadata(String),
    /// The HTTP routes could not be built.
    #[error(transparent)]
    Http(#[from] bisslog::http::HttpError),
    /// The consumers could not start.
    #[error(transparent)]
    Consumers(#[from] bisslog::messaging::StartError),
    /// The schedules could not start.
    #[error(transparent)]
    Schedules(#[from] bisslog::schedule::UnknownTimeZone),
    /// The HTTP client of another service could not be built.
    #[error("cannot build an HTTP client: {0}")]
    HttpClient(reqwest::Error),
    /// The listener could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The broker of the embedded default: durable, in a SQLite file next to
/// the registry's (the working directory).
pub const EMBEDDED_BROKER_URL: &str = "sqlite://company-data-broker.db";

/// Which processes a broker's messages reach: what decides whether the
/// registry runs the audit service and the importer in its own process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// This process alone (the in-process broker): nothing survives it.
    Process,
    /// The processes of this machine (a SQLite file): the embedded default.
    Machine,
    /// Any process that reaches the server (PostgreSQL, NATS, RabbitMQ).
    Network,
}

/// A connected broker and how far it reaches.
#[derive(Clone)]
pub struct ConnectedBroker {
    /// The broker.
    pub broker: Arc<dyn Broker>,
    /// Which processes it reaches.
    pub reach: Reach,
}

impl ConnectedBroker {
    /// Whether the broker is embedded in this machine (in memory or in a
    /// SQLite file), so the services that talk through it are run by
    /// this one process rather than deployed on their own.
    pub fn embedded(&self) -> bool {
        self.reach != Reach::Network
    }
}

/// The broker a URL names: `sqlite://file.db` (durable, in a file: the
/// embedded default), `postgres://...` (durable, in a database every
/// instance shares), `nats://host:4222` (NATS JetStream),
/// `amqp://user:password@host:5672/%2f` (RabbitMQ), or none or
/// `in-process` (in memory: undelivered messages are lost when the process
/// stops, for tests); with a `namespace`, every queue name carries it as a
/// prefix (`staging.`), so environments share a broker without meeting.
pub async fn connect_broker(
    url: Option<&str>,
    namespace: Option<&str>,
) -> Result<ConnectedBroker, LaunchError> {
    let ConnectedBroker { broker, reach } = connect(url).await?;
    let broker = match namespace.filter(|n| !n.is_empty()) {
        Some(prefix) => Arc::new(Namespaced::new(broker, prefix)),
        None => broker,
    };
    Ok(ConnectedBroker { broker, reach })
}

async fn connect(url: Option<&str>) -> Result<ConnectedBroker, LaunchError> {
    let (broker, reach): (Arc<dyn Broker>, Reach) =
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None | Some("in-process") => (Arc::new(InProcessBroker::new()), Reach::Process),
            Some(url) if url.starts_with("sqlite:") => (sql_broker(url).await?, Reach::Machine),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (sql_broker(url).await?, Reach::Network)
            }
            Some(url) if url.starts_with("nats://") || url.starts_with("tls://") => (
                Arc::new(bisslog::nats::NatsBroker::connect(url).await?),
                Reach::Network,
            ),
            Some(url) if url.starts_with("amqp://") || url.starts_with("amqps://") => (
                Arc::new(bisslog::amqp::AmqpBroker::connect(url).await?),
                Reach::Network,
            ),
            Some(other) => return Err(LaunchError::UnknownBroker(other.to_owned())),
        };
    Ok(ConnectedBroker { broker, reach })
}

async fn sql_broker(url: &str) -> Result<Arc<dyn Broker>, LaunchError> {
    let broker = bisslog::sql::SqlBroker::connect(url)
        .await
        .map_err(LaunchError::BrokerDatabase)?;
    Ok(Arc::new(broker))
}

/// An embedded metadata file's problems, rendered.
fn invalid_metadata(report: Box<bisslog::schema::Report>) -> LaunchError {
    LaunchError::Metadata(bisslog::schema::render_report(
        &report,
        bisslog::schema::RenderOptions::default(),
    ))
}

/// The registry, built: the service, and, with a SQL database, its
/// outbox (to relay) and its database (for schedule ticks).
pub struct Registry {
    /// The service.
    pub service: bisslog::Service,
    /// The outbox its events go through, with a SQL database.
    pub outbox: Option<bisslog::sql::Outbox>,
    /// The database, with a SQL database.
    pub database: Option<bisslog::sql::Database>,
    /// Its records, for the importer run in the same process (which reads
    /// them behind the registry's back: the shared database).
    pub records: RegistryDatabase,
}

impl Registry {
    /// Builds the registry on `database_url` (`sqlite://...`,
    /// `postgres://...`, or `memory`), its events published to `broker`
    /// (through the outbox with a SQL database).
    pub async fn build(database_url: &str, broker: Arc<dyn Broker>) -> Result<Self, LaunchError> {
        let metadata = crate::metadata().map_err(invalid_metadata)?;
        if database_url == "memory" {
            let events = bisslog::messaging::BrokerPublisher::new(broker);
            let store = MemoryStore::new();
            let records = RegistryDatabase::Memory(store.clone());
            let service = crate::service(metadata, store, events, bisslog::MemoryInbox::new())?;
            return Ok(Self {
                service,
                outbox: None,
                database: None,
                records,
            });
        }
        let store = SqlStore::open(database_url).await?;
        let db = store.database().clone();
        let outbox = bisslog::sql::Outbox::new(db.clone());
        let service = crate::service(metadata, store, outbox.clone(), db.clone())?;
        Ok(Self {
            service,
            outbox: Some(outbox),
            records: RegistryDatabase::Sql(db.clone()),
            database: Some(db),
        })
    }

    /// The schedule triggers, their ticks recorded in the database (each
    /// tick runs on one instance of all those sharing it), or in memory.
    pub fn schedules(&self) -> bisslog::schedule::Schedules {
        let schedules = bisslog::schedule::Schedules::new(self.service.clone());
        match &self.database {
            Some(db) => schedules.store(bisslog::sql::SqlTicks::new(db.clone())),
            None => schedules,
        }
    }
}

/// The broker of a service running in a process of its own (`who`, such
/// as "the audit service"): one that other processes reach, named by
/// `url`.
pub async fn connect_shared_broker(
    url: &str,
    namespace: Option<&str>,
    who: &'static str,
) -> Result<Arc<dyn Broker>, LaunchError> {
    let connected = connect_broker(Some(url), namespace).await?;
    if connected.reach == Reach::Process {
        return Err(LaunchError::InProcessAlone(who));
    }
    Ok(connected.broker)
}

/// A shutdown signal for every entry point of the process: SIGTERM or
/// Ctrl-C, once.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        bisslog::http::shutdown_signal().await;
        let _ = stop.send(true);
    });
    stopped
}

/// Completes when `signal` says stop.
pub async fn stopped(mut signal: watch::Receiver<bool>) {
    let _ = signal.wait_for(|stop| *stop).await;
}

/// Binds a listener.
pub async fn listen(address: SocketAddr) -> Result<tokio::net::TcpListener, LaunchError> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| LaunchError::Listen { address, source })
}

/// The importer, running: its HTTP server.
pub struct RunningImporter {
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Where its HTTP server listens.
    pub address: SocketAddr,
}

impl RunningImporter {
    /// Waits for the HTTP server, stopped by the shutdown signal.
    pub async fn wait(self) {
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(error = %error, "the importer HTTP server failed"),
            Err(error) => tracing::error!(error = %error, "the importer HTTP server panicked"),
        }
    }
}

/// Starts the importer: it asks the registry at `registry_url` whether a
/// schema exists, its insertion requests go straight to `broker` (it keeps
/// no data of its own, so there is no outbox), its progress reads
/// `records` (the registry's database); HTTP on `address` until `signal`.
pub async fn start_importer(
    registry_url: &str,
    broker: Arc<dyn Broker>,
    records: RegistryDatabase,
    address: SocketAddr,
    signal: watch::Receiver<bool>,
) -> Result<RunningImporter, LaunchError> {
    let metadata = importer::metadata().map_err(invalid_metadata)?;
    let requests = bisslog::messaging::BrokerPublisher::new(broker);
    let registry = RegistryHttp::new(registry_url).map_err(LaunchError::HttpClient)?;
    let service = importer::service(metadata, registry, requests, records)?;
    let server = HttpServer::builder(service).build()?;
    let listener = listen(address).await?;
    let address = listener.local_addr().unwrap_or(address);
    tracing::info!(
        checkpoint_id = "listening",
        "company data importer listening on http://{address}"
    );
    let server = tokio::spawn(server.serve_until(listener, stopped(signal)));
    Ok(RunningImporter { server, address })
}

/// The audit service, running: its HTTP server and its consumers.
pub struct RunningAudit {
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    consumers: RunningConsumers,
    /// Where its HTTP server listens.
    pub address: SocketAddr,
}

impl RunningAudit {
    /// Waits for the HTTP server (stopped by the shutdown signal), then
    /// drains the consumers.
    pub async fn wait(self) {
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(error = %error, "the audit HTTP server failed"),
            Err(error) => tracing::error!(error = %error, "the audit HTTP server panicked"),
        }
        self.consumers.shutdown().await;
    }
}

/// Starts the audit service on `broker`, its trail in `database_url`
/// (`memory` keeps it in memory), serving HTTP on `address` until `signal`.
pub async fn start_audit(
    database_url: &str,
    broker: Arc<dyn Broker>,
    address: SocketAddr,
    signal: watch::Receiver<bool>,
) -> Result<RunningAudit, LaunchError> {
    let metadata = audit::metadata().map_err(invalid_metadata)?;
    let service = if database_url == "memory" {
        audit::service(
            metadata,
            MemoryAuditTrail::default(),
            bisslog::MemoryInbox::new(),
        )?
    } else {
        let trail = SqlAuditTrail::open(database_url).await?;
        let db = trail.database().clone();
        audit_service(metadata, trail, db)?
    };
    let consumers = Consumers::new(service.clone(), broker).start().await?;
    let server = HttpServer::builder(service)
        .served_elsewhere([Trigger::Consumer])
        .build()?;
    let listener = listen(address).await?;
    let address = listener.local_addr().unwrap_or(address);
    tracing::info!(
        checkpoint_id = "listening",
        "company data audit listening on http://{address}"
    );
    let server = tokio::spawn(server.serve_until(listener, stopped(signal)));
    Ok(RunningAudit {
        server,
        consumers,
        address,
    })
}

fn audit_service(
    metadata: bisslog::schema::ServiceMetadata,
    trail: SqlAuditTrail,
    unit_of_work: impl UnitOfWork,
) -> Result<bisslog::Service, bisslog::BuildError> {
    audit::service(metadata, trail, unit_of_work)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// What decides where the audit service and the importer run.
    #[tokio::test]
    async fn a_broker_url_says_how_far_its_messages_reach() {
        let memory = connect_broker(Some("in-process"), None).await.unwrap();
        assert_eq!((memory.reach, memory.embedded()), (Reach::Process, true));
        assert_eq!(
            connect_broker(None, None).await.unwrap().reach,
            Reach::Process
        );
        let path = std::env::temp_dir().join(format!(
            "company-data-launch-test-{}.db",
            std::process::id()
        ));
        let url = format!("sqlite://{}", path.display());
        let file = connect_broker(Some(&url), Some("test.")).await.unwrap();
        assert_eq!((file.reach, file.embedded()), (Reach::Machine, true));
        assert_eq!(file.broker.name(), "sql");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        assert!(matches!(
            connect_broker(Some("redis://x"), None).await,
            Err(LaunchError::UnknownBroker(_))
        ));
        assert!(matches!(
            connect_shared_broker("in-process", None, "the audit service").await,
            Err(LaunchError::InProcessAlone(_))
        ));
    }
}
