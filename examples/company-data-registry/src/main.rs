//! Run with: `cargo run -p company-data-registry`
//!
//! Serves the company data registry on 127.0.0.1:8080, storing data in a
//! SQLite file under the working directory, with the embedded durable
//! broker (another SQLite file there): its consumer trigger, its outbox
//! relay, the audit service (on 127.0.0.1:8081) and the importer (on
//! 127.0.0.1:8082) all run in this one process, and no event is lost if it
//! dies. `DATABASE_URL=postgres://...` moves the data to PostgreSQL;
//! `BROKER_URL=postgres://...`, `nats://...` or `amqp://...` moves the
//! messages to PostgreSQL, NATS JetStream or RabbitMQ (run the other two
//! services with `cargo run -p company-data-registry --bin
//! company-data-audit` and `--bin company-data-importer`).
//! See the README for a walk-through with curl.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use bisslog::Trigger;
use bisslog::http::HttpServer;
use bisslog::messaging::Consumers;
use bisslog::sql::{Outbox, RunningRelay};
use clap::{Parser, Subcommand};
use company_data_registry::adapters::SqlStore;
use company_data_registry::launch::{self, ConnectedBroker, Registry};

/// The company data registry service.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Where data lives: `sqlite://file.db`, `postgres://user@host/db`, or
    /// `memory` (nothing is kept).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://company-data-registry.db"
    )]
    database_url: String,
    /// The broker. Unset: the embedded durable broker, a SQLite file
    /// (`sqlite://company-data-broker.db`; the in-process one with
    /// `DATABASE_URL=memory`). Else `sqlite://file.db`,
    /// `postgres://user@host/db`, `nats://host:4222`,
    /// `amqp://user:password@host:5672/%2f`, or `in-process` (in memory:
    /// events not yet consumed are lost when the process dies; for tests).
    #[arg(long, env = "BROKER_URL")]
    broker_url: Option<String>,
    /// A prefix for every queue name on the broker (`staging.`).
    #[arg(long, env = "BROKER_NAMESPACE")]
    broker_namespace: Option<String>,
    /// With an embedded broker, the port of the audit service this
    /// process also runs (0 picks a free one).
    #[arg(long, env = "AUDIT_PORT", default_value_t = 8081)]
    audit_port: u16,
    /// With an embedded broker, where the audit service keeps its trail.
    #[arg(
        long,
        env = "AUDIT_DATABASE_URL",
        default_value = "sqlite://company-data-audit.db"
    )]
    audit_database_url: String,
    /// With an embedded broker, the port of the importer this process
    /// also runs (0 picks a free one).
    #[arg(long, env = "IMPORTER_PORT", default_value_t = 8082)]
    importer_port: u16,
    #[command(subcommand)]
    command: Option<Command>,
}

/// One-off commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one use case once: its input as JSON (`--input`, or standard
    /// input), its output printed as JSON; exit 1 with a problem document
    /// on failure, 2 when it cannot be called.
    Call {
        /// The use case's keyname (`create_schema`, ...).
        use_case: String,
        /// The input as a JSON document; `-` or absent reads standard input.
        #[arg(long)]
        input: Option<String>,
    },
    /// Lists the outbox's events whose publication keeps failing (SQL
    /// databases only).
    Stuck,
    /// Makes a stuck event due again, by its outbox id.
    Redrive {
        /// The outbox id, as `stuck` lists it.
        id: i64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    match args.command {
        // Standard output carries the call's result alone.
        Some(Command::Call { .. }) => bisslog::logging::init_on_stderr(),
        _ => bisslog::logging::init(),
    }
    let broker_url = args.broker_url.clone().unwrap_or_else(|| {
        // With nothing kept, nothing to keep events for.
        if args.database_url == "memory" {
            "in-process".to_owned()
        } else {
            launch::EMBEDDED_BROKER_URL.to_owned()
        }
    });
    let broker = || launch::connect_broker(Some(&broker_url), args.broker_namespace.as_deref());
    match &args.command {
        None => serve(&args, broker().await?)
            .await
            .map(|()| ExitCode::SUCCESS),
        Some(Command::Call { use_case, input }) => {
            // Events the call publishes wait in the outbox (SQL) until the
            // service's relay runs; on the in-process broker they are lost
            // with this process.
            let registry = Registry::build(&args.database_url, broker().await?.broker).await?;
            let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
            Ok(bisslog::command::run_call(
                &registry.service,
                use_case,
                input.as_deref(),
                &mut stdout.lock(),
                &mut stderr.lock(),
            )
            .await)
        }
        Some(Command::Stuck) => outbox_command(&args.database_url, None)
            .await
            .map(|()| ExitCode::SUCCESS),
        Some(Command::Redrive { id }) => outbox_command(&args.database_url, Some(*id))
            .await
            .map(|()| ExitCode::SUCCESS),
    }
}

/// Serves HTTP, the consumer and the schedule until SIGTERM or Ctrl-C.
async fn serve(args: &Args, connected: ConnectedBroker) -> anyhow::Result<()> {
    let embedded = connected.embedded();
    let broker = connected.broker;
    let registry = Registry::build(&args.database_url, Arc::clone(&broker))
        .await
        .with_context(|| "cannot build the service (check DATABASE_URL or --database-url)")?;

    let signal = launch::shutdown_signal();
    let consumers = Consumers::new(registry.service.clone(), Arc::clone(&broker))
        .start()
        .await?;
    let schedules = registry.schedules().start()?;
    let relay: Option<RunningRelay> = registry
        .outbox
        .as_ref()
        .map(|o| o.relay(Arc::clone(&broker)).spawn());
    // Bound first: the importer asks the registry over HTTP.
    let address = SocketAddr::new(args.host, args.port);
    let listener = launch::listen(address).await?;
    let address = listener.local_addr()?;
    // An embedded broker (in memory or in a SQLite file) is this
    // machine's: the audit service that consumes the registry's events,
    // and the importer that sends it insertion requests, run here too.
    let (audit, importer) = if embedded {
        let audit_address = SocketAddr::new(args.host, args.audit_port);
        let audit = launch::start_audit(
            &args.audit_database_url,
            Arc::clone(&broker),
            audit_address,
            signal.clone(),
        )
        .await?;
        let importer_address = SocketAddr::new(args.host, args.importer_port);
        let importer = launch::start_importer(
            &format!("http://{address}"),
            Arc::clone(&broker),
            registry.records.clone(),
            importer_address,
            signal.clone(),
        )
        .await?;
        (Some(audit), Some(importer))
    } else {
        (None, None)
    };

    let server = HttpServer::builder(registry.service)
        .served_elsewhere([Trigger::Consumer, Trigger::Schedule])
        // The OpenAPI document at /openapi.json, rendered at /docs.
        .openapi(bisslog::http::ApiDocs::new())
        .build()?;
    let database = args.database_url.split("://").next().unwrap_or("memory");
    tracing::info!(
        checkpoint_id = "listening",
        "company data registry listening on http://{address} (database: {database}, broker: {})",
        broker.name()
    );
    server
        .serve_until(listener, launch::stopped(signal))
        .await?;

    // HTTP has drained; now the messages and ticks in flight, then the outbox.
    consumers.shutdown().await;
    schedules.shutdown().await;
    if let Some(importer) = importer {
        importer.wait().await;
    }
    if let Some(audit) = audit {
        audit.wait().await;
    }
    if let Some(relay) = relay {
        relay.shutdown().await;
    }
    tracing::info!(checkpoint_id = "stopped", "company data registry stopped");
    Ok(())
}

/// `stuck` and `redrive`: the outbox, for operators. `redrive` carries
/// the outbox id; `None` lists the stuck events.
async fn outbox_command(database_url: &str, redrive: Option<i64>) -> anyhow::Result<()> {
    let store = SqlStore::open(database_url)
        .await
        .with_context(|| "the outbox commands need a SQL database (DATABASE_URL)")?;
    let outbox = Outbox::new(store.database().clone());
    match redrive {
        None => {
            let stuck = outbox.stuck(100).await?;
            if stuck.is_empty() {
                println!("no stuck events ({} pending)", outbox.pending().await?);
            }
            for row in stuck {
                println!(
                    "{}\t{}\tqueue={}\tattempts={}\tlast error: {}",
                    row.id,
                    row.message_id,
                    row.queue,
                    row.attempts,
                    row.last_error.as_deref().unwrap_or("-")
                );
            }
        }
        Some(id) => {
            if outbox.redrive(id).await? {
                println!("event {id} is due again");
            } else {
                anyhow::bail!("no unpublished event has the id {id}");
            }
        }
    }
    Ok(())
}
