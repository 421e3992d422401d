//! What the framework creates from configuration and hands to the
//! composition function: settings, the database, the broker, and the
//! publisher and unit of work made from them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bisslog_config::{ConnectionUrl, Settings};
use bisslog_core::{Adapter, BoxFuture, Error, Event, Publisher, UnitOfWorkId};
use bisslog_messaging::{Broker, BrokerPublisher, UnitOfWork, Work};
use bisslog_runtime::MemoryInbox;

use crate::broker::Reach;
use crate::error::StartError;

/// A database the framework opened from a URL.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Store {
    /// `memory`: nothing is kept; adapters keep their data in memory.
    Memory,
    /// `sqlite://...` or `postgres://...`, migrated with the framework's
    /// tables (outbox, inbox, schedule ticks); the service migrates its own.
    #[cfg(feature = "sql")]
    Sql(bisslog_sql::Database),
}

impl Store {
    /// The SQL database, if this is one.
    #[cfg(feature = "sql")]
    pub fn sql(&self) -> Option<&bisslog_sql::Database> {
        match self {
            Store::Sql(db) => Some(db),
            Store::Memory => None,
        }
    }

    /// Whether nothing is kept.
    pub fn is_memory(&self) -> bool {
        matches!(self, Store::Memory)
    }

    /// A database of this process alone standing for the one `url` names:
    /// memory for `memory`, else (with the `sql` feature) an in-memory
    /// SQLite database, so a composition that needs SQL can be checked
    /// without a server.
    pub(crate) async fn private(url: &ConnectionUrl) -> Result<Self, StartError> {
        if cfg!(feature = "sql") && url.expose().trim() != "memory" {
            Store::open(&ConnectionUrl::new("sqlite::memory:")).await
        } else {
            Ok(Store::Memory)
        }
    }

    /// Opens the database `url` names: `memory`, `sqlite://file.db` or
    /// `postgres://...`.
    pub(crate) async fn open(url: &ConnectionUrl) -> Result<Self, StartError> {
        let text = url.expose().trim();
        if text.is_empty() || text == "memory" {
            return Ok(Store::Memory);
        }
        #[cfg(feature = "sql")]
        if text.starts_with("sqlite:")
            || text.starts_with("postgres://")
            || text.starts_with("postgresql://")
        {
            let failed = |e: bisslog_sql::SqlError| StartError::Database {
                url: url.masked(),
                source: crate::error::about_url(url, e),
            };
            let db = bisslog_sql::Database::connect(text).await.map_err(failed)?;
            db.migrate_framework().await.map_err(failed)?;
            return Ok(Store::Sql(db));
        }
        let reason = if cfg!(feature = "sql") {
            "expected memory, sqlite://file.db or postgres://user@host/db"
        } else {
            "this build keeps data in memory only (`memory`); SQLite and PostgreSQL need the `sql` feature of bisslog"
        };
        Err(StartError::UnsupportedDatabase {
            url: url.masked(),
            reason: reason.to_owned(),
        })
    }
}

/// The publisher the framework gives a service: through the outbox of its
/// SQL database (events commit with the use case's writes and a relay the
/// runner starts sends them), or straight to the broker.
#[derive(Clone)]
#[non_exhaustive]
pub enum Events {
    /// Straight to the broker.
    Broker(BrokerPublisher),
    /// Through the outbox of a SQL database.
    #[cfg(feature = "sql")]
    Outbox(bisslog_sql::Outbox),
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Events::Broker(_) => f.write_str("Events::Broker"),
            #[cfg(feature = "sql")]
            Events::Outbox(_) => f.write_str("Events::Outbox"),
        }
    }
}

impl Publisher for Events {
    fn publish<'a>(&'a self, queue: &'a str, event: Event) -> BoxFuture<'a, Result<(), Error>> {
        match self {
            Events::Broker(p) => p.publish(queue, event),
            #[cfg(feature = "sql")]
            Events::Outbox(p) => p.publish(queue, event),
        }
    }
}

impl Adapter for Events {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        match self {
            Events::Broker(p) => p.ready(),
            #[cfg(feature = "sql")]
            Events::Outbox(p) => p.ready(),
        }
    }

    fn required_unit_of_work(&self) -> Option<UnitOfWorkId> {
        match self {
            Events::Broker(p) => p.required_unit_of_work(),
            #[cfg(feature = "sql")]
            Events::Outbox(p) => p.required_unit_of_work(),
        }
    }
}

/// The unit of work the framework gives a service: a transaction of its
/// SQL database, or an in-memory inbox (exactly-once consumption within
/// the process).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Transactions {
    /// In memory.
    Memory(MemoryInbox),
    /// The SQL database.
    #[cfg(feature = "sql")]
    Sql(bisslog_sql::Database),
}

impl UnitOfWork for Transactions {
    fn begin(&self) -> Arc<dyn Work> {
        match self {
            Transactions::Memory(inbox) => inbox.begin(),
            #[cfg(feature = "sql")]
            Transactions::Sql(db) => UnitOfWork::begin(db),
        }
    }

    fn id(&self) -> Option<UnitOfWorkId> {
        match self {
            Transactions::Memory(inbox) => inbox.id(),
            #[cfg(feature = "sql")]
            Transactions::Sql(db) => UnitOfWork::id(db),
        }
    }
}

/// What a composition function is given: the configuration and the
/// resources made from it. Clones share everything.
///
/// Use [`events`](Resources::events) and
/// [`transactions`](Resources::transactions) for the service's publisher
/// and unit of work: the runner relays the outboxes handed out here, so an
/// event published through them reaches the broker without any code.
pub struct Resources<S = bisslog_config::NoServiceSettings> {
    shared: Arc<Shared<S>>,
}

impl<S> Clone for Resources<S> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

pub(crate) struct Shared<S> {
    pub(crate) metadata: bisslog_schema::ServiceMetadata,
    pub(crate) settings: Settings,
    pub(crate) config: S,
    pub(crate) address: SocketAddr,
    pub(crate) broker: Arc<dyn Broker>,
    pub(crate) reach: Reach,
    pub(crate) database: Store,
    pub(crate) inbox: MemoryInbox,
    /// The stores whose outbox was handed out: the runner relays them.
    #[cfg_attr(not(feature = "sql"), allow(dead_code))]
    pub(crate) outboxes: Mutex<Vec<Store>>,
    /// Every store opened, the main one first: the runner closes them.
    pub(crate) stores: Mutex<Vec<Store>>,
    /// `check` and `openapi`: every database is private to the process
    /// (memory, or an in-memory SQLite one for a SQL URL), even those a
    /// composition opens itself, so no server is needed and no file made.
    pub(crate) private: bool,
}

impl<S> Resources<S> {
    pub(crate) fn new(shared: Shared<S>) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The service's metadata, validated: `Service::builder(resources.metadata())`.
    pub fn metadata(&self) -> bisslog_schema::ServiceMetadata {
        self.shared.metadata.clone()
    }

    /// The framework's settings.
    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// The service's own settings (the type given to `App::settings`).
    pub fn config(&self) -> &S {
        &self.shared.config
    }

    /// The address the service's HTTP server is bound to (the port
    /// chosen when `PORT=0`); the configured one for commands that do not
    /// serve.
    pub fn address(&self) -> SocketAddr {
        self.shared.address
    }

    /// The service's own base URL, `http://ADDRESS`: for another service
    /// of this process that calls it.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.address)
    }

    /// The broker (`BROKER_URL`), namespaced by `BROKER_NAMESPACE`.
    pub fn broker(&self) -> Arc<dyn Broker> {
        Arc::clone(&self.shared.broker)
    }

    /// Which processes the broker reaches.
    pub fn reach(&self) -> Reach {
        self.shared.reach
    }

    /// Whether the broker reaches no other machine (in process, or a SQLite
    /// file): the services that talk through it have to run on this
    /// machine, typically in this process.
    pub fn broker_is_local(&self) -> bool {
        self.shared.reach != Reach::Network
    }

    /// The database (`DATABASE_URL`).
    pub fn database(&self) -> &Store {
        &self.shared.database
    }

    /// The service's publisher: the outbox of the database when it is a
    /// SQL one (relayed by the runner), else straight to the broker. Bind
    /// it with [`transactions`](Self::transactions) as the unit of work.
    pub fn events(&self) -> Events {
        self.events_of(&self.shared.database)
    }

    /// The service's unit of work: the database's transactions, or an
    /// in-memory inbox.
    pub fn transactions(&self) -> Transactions {
        self.transactions_of(&self.shared.database)
    }

    /// A publisher straight to the broker, with no outbox: for a service
    /// that keeps no data of its own. The queues the metadata declares
    /// `queue_kind: event` are published as events.
    pub fn broker_events(&self) -> BrokerPublisher {
        BrokerPublisher::new(self.broker()).events(bisslog_runtime::messaging::event_queues(
            &self.shared.metadata,
        ))
    }

    /// Opens another database (for another service of this process), with
    /// the framework's tables; the runner relays its outbox if
    /// [`events_of`](Self::events_of) hands it out, and closes it at exit.
    ///
    /// # Errors
    ///
    /// When the URL is not supported or the database cannot be opened.
    /// For `check` and `openapi`, which need no server, it is private:
    /// memory, or an in-memory SQLite database for a SQL URL.
    pub async fn open_database(&self, url: &ConnectionUrl) -> Result<Store, StartError> {
        let store = if self.shared.private {
            Store::private(url).await?
        } else {
            Store::open(url).await?
        };
        lock(&self.shared.stores).push(store.clone());
        Ok(store)
    }

    /// The publisher of `store`: its outbox when it is SQL, else straight
    /// to the broker.
    pub fn events_of(&self, store: &Store) -> Events {
        match store {
            Store::Memory => Events::Broker(self.broker_events()),
            #[cfg(feature = "sql")]
            Store::Sql(db) => {
                let mut outboxes = lock(&self.shared.outboxes);
                let id = UnitOfWork::id(db);
                if !outboxes
                    .iter()
                    .any(|s| s.sql().is_some_and(|d| UnitOfWork::id(d) == id))
                {
                    outboxes.push(store.clone());
                }
                Events::Outbox(bisslog_sql::Outbox::new(db.clone()))
            }
        }
    }

    /// The unit of work of `store`.
    pub fn transactions_of(&self, store: &Store) -> Transactions {
        match store {
            Store::Memory => Transactions::Memory(self.shared.inbox.clone()),
            #[cfg(feature = "sql")]
            Store::Sql(db) => Transactions::Sql(db.clone()),
        }
    }

    #[cfg_attr(not(feature = "sql"), allow(dead_code))]
    pub(crate) fn outboxes(&self) -> Vec<Store> {
        lock(&self.shared.outboxes).clone()
    }

    pub(crate) fn stores(&self) -> Vec<Store> {
        let mut stores = vec![self.shared.database.clone()];
        stores.extend(lock(&self.shared.stores).iter().cloned());
        stores
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The event queues of the services a process runs (and of the resources'
/// own metadata): what its outbox relays publish the event way.
#[cfg_attr(not(feature = "sql"), allow(dead_code))]
pub(crate) fn event_queues<'a, S>(
    resources: &Resources<S>,
    services: impl Iterator<Item = (&'a bisslog_runtime::Service, Option<u16>)>,
) -> std::collections::BTreeSet<String> {
    let mut events = bisslog_runtime::messaging::event_queues(&resources.shared.metadata);
    for (service, _) in services {
        events.extend(bisslog_runtime::messaging::event_queues(service.metadata()));
    }
    events
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_database_url_opens_memory_or_says_what_it_expects() {
        assert!(
            Store::open(&ConnectionUrl::new("memory"))
                .await
                .unwrap()
                .is_memory()
        );
        let url = ConnectionUrl::new("mysql://app:s3cret@127.0.0.1/app");
        let error = Store::open(&url).await.err().unwrap();
        let message = error.to_string();
        assert!(matches!(error, StartError::UnsupportedDatabase { .. }));
        assert!(
            !message.contains("s3cret") && message.contains("DATABASE_URL"),
            "{message}"
        );
    }
}
