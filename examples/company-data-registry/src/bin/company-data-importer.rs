//! Run with: `BROKER_URL=nats://127.0.0.1:4222 cargo run -p company-data-registry --bin company-data-importer`
//!
//! The company data importer on its own: it serves `POST
//! /imports/{schema_keyname}` on 127.0.0.1:8082 and queues one insertion
//! request per record on the registry's `company_data_insertion.queue`, on
//! PostgreSQL, NATS JetStream or RabbitMQ, once the registry (`REGISTRY_URL`) confirms
//! the schema exists; `GET /imports/{schema_keyname}/progress`
//! reads the registry's database (`REGISTRY_DATABASE_URL`) directly, the
//! deliberate shared database of the example. (With an embedded broker
//! the registry runs it in its own process instead.)

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Parser;
use company_data_registry::importer::adapters::RegistryDatabase;
use company_data_registry::launch;

/// The company data importer.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8082)]
    port: u16,
    /// The registry's database, read for progress: `sqlite://file.db` or
    /// `postgres://...` (the registry's `DATABASE_URL`).
    #[arg(
        long,
        env = "REGISTRY_DATABASE_URL",
        default_value = "sqlite://company-data-registry.db"
    )]
    registry_database_url: String,
    /// The registry's HTTP API, asked whether a schema exists.
    #[arg(long, env = "REGISTRY_URL", default_value = "http://127.0.0.1:8080")]
    registry_url: String,
    /// The broker the registry consumes from: `postgres://...`, `nats://...`,
    /// `amqp://...`, or `sqlite://...` (a file on this machine).
    #[arg(long, env = "BROKER_URL")]
    broker_url: String,
    /// A prefix for every queue name on the broker (`staging.`).
    #[arg(long, env = "BROKER_NAMESPACE")]
    broker_namespace: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    bisslog::logging::init();
    let args = Args::parse();
    let broker = launch::connect_shared_broker(
        &args.broker_url,
        args.broker_namespace.as_deref(),
        "the importer",
    )
    .await?;
    let records = RegistryDatabase::connect(&args.registry_database_url)
        .await
        .context("cannot open the registry's database (REGISTRY_DATABASE_URL)")?;
    let signal = launch::shutdown_signal();
    let address = SocketAddr::new(args.host, args.port);
    let importer = launch::start_importer(&args.registry_url, broker, records, address, signal)
        .await
        .context("the importer could not start")?;
    importer.wait().await;
    tracing::info!(checkpoint_id = "stopped", "company data importer stopped");
    Ok(())
}
