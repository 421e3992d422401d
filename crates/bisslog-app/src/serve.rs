//! `serve`: every part of every service of the process started in order,
//! and stopped in the documented order.
//!
//! Start: the broker and the database (done by the caller), the main
//! listener, the composition, the other listeners, the HTTP routes, then
//! consumers, schedules and outbox relays, then HTTP. A part that fails
//! stops what started before it.
//!
//! Stop, on SIGTERM or Ctrl-C: readiness turns false (`SHUTDOWN_DELAY`
//! long, while still serving), HTTP drains, consumers finish the messages
//! in flight, schedules finish their ticks, the relays drain, the
//! databases close.

use std::net::SocketAddr;
use std::sync::Arc;

use bisslog_core::Trigger;
use bisslog_http::ApiDocs;
use bisslog_messaging::Broker;
use bisslog_runtime::Service;
use bisslog_runtime::messaging::{Consumers, RunningConsumers};
use bisslog_runtime::schedule::{RunningSchedules, Schedules};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::authn::Authentication;
use crate::composition::Composition;
use crate::error::StartError;
use crate::resources::{Resources, Store};

/// Binds `address` for `service`; `setting` names what sets its port.
pub(crate) async fn bind(
    service: &str,
    address: SocketAddr,
    setting: &str,
) -> Result<TcpListener, StartError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| StartError::Listen {
            service: service.to_owned(),
            address,
            source,
            hint: format!("set {setting} to a free port, 0 for any"),
        })
}

/// The parts that run in the background, stopped in order.
#[derive(Default)]
struct Running {
    consumers: Vec<RunningConsumers>,
    schedules: Vec<RunningSchedules>,
    #[cfg(feature = "sql")]
    relays: Vec<bisslog_sql::RunningRelay>,
}

impl Running {
    /// Stops consumers, then schedules, then relays.
    async fn stop(self) {
        futures_util::future::join_all(self.consumers.into_iter().map(RunningConsumers::shutdown))
            .await;
        tracing::info!(
            checkpoint_id = "consumers-stopped",
            "consumers stopped: messages in flight finished"
        );
        futures_util::future::join_all(self.schedules.into_iter().map(RunningSchedules::shutdown))
            .await;
        tracing::info!(
            checkpoint_id = "schedules-stopped",
            "schedules stopped: ticks in flight finished"
        );
        #[cfg(feature = "sql")]
        {
            futures_util::future::join_all(
                self.relays
                    .into_iter()
                    .map(bisslog_sql::RunningRelay::shutdown),
            )
            .await;
            tracing::info!(checkpoint_id = "relays-stopped", "outbox relays stopped");
        }
    }
}

/// Starts the background parts of `composition`.
async fn start_background<S>(
    composition: &Composition,
    resources: &Resources<S>,
    broker: &Arc<dyn Broker>,
) -> Result<Running, (Running, StartError)> {
    let mut running = Running::default();
    for (service, _) in composition.parts() {
        let consumers = Consumers::new(service.clone(), Arc::clone(broker));
        if consumers.triggers().is_empty() {
            continue;
        }
        match consumers.start().await {
            Ok(started) => running.consumers.push(started),
            Err(source) => {
                let error = StartError::Consumers {
                    service: service.name().to_owned(),
                    source,
                };
                return Err((running, error));
            }
        }
    }
    for (service, _) in composition.parts() {
        let schedules = schedules(service, resources.database());
        if schedules.triggers().is_empty() {
            continue;
        }
        match schedules.start() {
            Ok(started) => running.schedules.push(started),
            Err(source) => {
                let error = StartError::Schedules {
                    service: service.name().to_owned(),
                    source,
                };
                return Err((running, error));
            }
        }
    }
    #[cfg(feature = "sql")]
    {
        for store in resources.outboxes() {
            if let Store::Sql(db) = store {
                let mut relay = bisslog_sql::Outbox::new(db)
                    .relay(Arc::clone(broker))
                    .events(crate::resources::event_queues(
                        resources,
                        composition.parts(),
                    ));
                // A relayed event's span goes with the main service's.
                if let Some(tracer) = composition.main().tracer() {
                    relay = relay.tracer(tracer.clone());
                }
                let relay = relay.spawn();
                running.relays.push(relay);
            }
        }
        let relays: Vec<_> = running.relays.iter().map(|r| r.health().clone()).collect();
        for (service, _) in composition.parts() {
            let Some(metrics) = service.metrics() else {
                continue;
            };
            if let Store::Sql(db) = resources.database() {
                crate::sql_metrics::watch_pool(metrics, db.clone());
            }
            if !relays.is_empty() {
                crate::sql_metrics::watch_relays(metrics, relays.clone());
            }
        }
    }
    Ok(running)
}

/// The schedules of `service`, their ticks claimed in the main database
/// when it is a SQL one (each tick runs on one instance of those sharing
/// it), else in memory.
fn schedules(service: &Service, database: &Store) -> Schedules {
    let schedules = Schedules::new(service.clone());
    match database {
        #[cfg(feature = "sql")]
        Store::Sql(db) => schedules.store(bisslog_sql::SqlTicks::new(db.clone())),
        _ => schedules,
    }
}

/// What `serve` needs that the composition did not make.
pub(crate) struct Serving<S> {
    pub(crate) resources: Resources<S>,
    pub(crate) listener: TcpListener,
    pub(crate) composition: Composition,
    /// What the authentication settings configure, on every service.
    pub(crate) authentication: Authentication,
}

/// Serves until SIGTERM or Ctrl-C (or `stop`), then stops in order.
pub(crate) async fn serve<S>(
    serving: Serving<S>,
    stop: impl std::future::Future<Output = ()> + Send,
) -> Result<(), StartError> {
    let Serving {
        resources,
        listener,
        composition,
        authentication,
    } = serving;
    let settings = resources.settings().clone();
    let broker = resources.broker();
    // Before anything serves: no call goes untraced.
    #[cfg(feature = "otlp")]
    let exporters = crate::otlp::Exporters::start(&composition)?;

    // Listeners and routes first: nothing runs yet if one fails.
    let mut servers = Vec::new();
    let mut listener = Some(listener);
    for (service, port) in composition.parts() {
        let listener = match port {
            None => listener.take(),
            Some(port) => Some(
                bind(
                    service.name(),
                    SocketAddr::new(settings.host, port),
                    "its port (the setting the composition reads for it, such as AUDIT_PORT)",
                )
                .await?,
            ),
        };
        let Some(listener) = listener else { continue };
        let mut builder = composition
            .http_server(service)
            // This runner serves them.
            .served_elsewhere([Trigger::Consumer, Trigger::Schedule])
            .openapi(ApiDocs::new())
            .metrics_endpoint(settings.metrics)
            .observed_interactions_endpoint(settings.metrics);
        builder = authentication.apply(builder);
        if let Some(described) = authentication.describe() {
            tracing::info!(
                checkpoint_id = "authentication",
                "{}: {described}",
                service.name()
            );
        }
        if settings.queue_injection {
            builder = builder.routes(crate::injection::routes(
                Arc::clone(&broker),
                bisslog_runtime::messaging::event_queues(service.metadata()),
            ));
            tracing::warn!(
                checkpoint_id = "queue-injection",
                "{}: POST /_bisslog/queues/{{queue}} puts any message on any queue (BISSLOG_QUEUE_INJECTION); never enable it in production",
                service.name()
            );
        }
        let server = builder.build().map_err(|source| StartError::Http {
            service: service.name().to_owned(),
            source,
        })?;
        servers.push((server, listener));
    }

    let running = match start_background(&composition, &resources, &broker).await {
        Ok(running) => running,
        Err((running, error)) => {
            running.stop().await;
            return Err(error);
        }
    };

    let (stop_http, http_stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    for (server, listener) in servers {
        let mut stopped = http_stopped.clone();
        tasks.push(tokio::spawn(server.serve_until(listener, async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })));
    }
    tracing::info!(
        checkpoint_id = "started",
        "{} started (database: {}, broker: {})",
        composition
            .parts()
            .map(|(s, _)| s.name())
            .collect::<Vec<_>>()
            .join(", "),
        describe_store(resources.database()),
        broker.name()
    );

    stop.await;
    for (service, _) in composition.parts() {
        service.begin_shutdown();
    }
    tracing::info!(
        checkpoint_id = "shutdown",
        "shutting down: /health/ready answers 503 from now on{}",
        if settings.shutdown_delay.is_zero() {
            String::new()
        } else {
            format!("; still serving for {:?}", settings.shutdown_delay)
        }
    );
    tokio::time::sleep(settings.shutdown_delay).await;
    let _ = stop_http.send(true);
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "an HTTP server failed"),
            Err(error) => tracing::error!(%error, "an HTTP server panicked"),
        }
    }
    tracing::info!(
        checkpoint_id = "http-stopped",
        "HTTP stopped: requests in flight finished"
    );
    running.stop().await;
    close(resources.stores()).await;
    // Last: the spans of everything above are in the batch.
    #[cfg(feature = "otlp")]
    exporters.flush().await;
    tracing::info!(checkpoint_id = "stopped", "stopped");
    Ok(())
}

/// What the start-up line says of a database: `memory`, `postgres`,
/// `sqlite`, or `sqlite, group commit 64` (the default on a SQLite file;
/// `?group_commit=0` turns it off).
fn describe_store(store: &Store) -> std::borrow::Cow<'static, str> {
    match store {
        Store::Memory => "memory".into(),
        #[cfg(feature = "sql")]
        Store::Sql(db) => match (db.backend(), db.group_commit()) {
            (bisslog_sql::Backend::Sqlite, Some(max)) => {
                format!("sqlite, group commit {max}").into()
            }
            (bisslog_sql::Backend::Sqlite, None) => "sqlite".into(),
            (bisslog_sql::Backend::Postgres, _) => "postgres".into(),
        },
    }
}

/// Closes every SQL database.
pub(crate) async fn close(stores: Vec<Store>) {
    for store in stores {
        #[cfg(feature = "sql")]
        if let Store::Sql(db) = store {
            db.close().await;
        }
        #[cfg(not(feature = "sql"))]
        let _ = store;
    }
}
