//! Run with: `BROKER_URL=nats://127.0.0.1:4222 cargo run -p company-data-registry --bin company-data-audit`
//!
//! The company data audit service on its own: it consumes the registry's
//! `company_data.inserted` events from PostgreSQL, NATS JetStream or
//! RabbitMQ and
//! serves `GET /audit/{schema_keyname}` on 127.0.0.1:8081. (With an
//! embedded broker the registry runs it in its own process instead.)

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Parser;
use company_data_registry::launch;

/// The company data audit service.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8081)]
    port: u16,
    /// Where the trail lives: `sqlite://file.db`, `postgres://...` or `memory`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://company-data-audit.db"
    )]
    database_url: String,
    /// The broker the registry publishes to: `postgres://...`, `nats://...`,
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
        "the audit service",
    )
    .await?;
    let signal = launch::shutdown_signal();
    let address = SocketAddr::new(args.host, args.port);
    let audit = launch::start_audit(&args.database_url, broker, address, signal)
        .await
        .context("the audit service could not start")?;
    audit.wait().await;
    tracing::info!(checkpoint_id = "stopped", "company data audit stopped");
    Ok(())
}
