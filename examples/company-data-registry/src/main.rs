//! Run with: `cargo run -p company-data-registry`
//!
//! Serves the company data registry on 127.0.0.1:8080, storing data in a
//! SQLite file under the working directory; `DATABASE_URL=postgres://...`
//! moves it to PostgreSQL. See the README for a walk-through with curl.

use std::net::SocketAddr;

use anyhow::Context as _;
use bisslog::http::HttpServer;
use clap::Parser;
use company_data_registry::adapters::{MemoryStore, SqlStore};

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    bisslog::logging::init();
    let args = Args::parse();
    let metadata = company_data_registry::metadata().map_err(|report| {
        let text =
            bisslog::schema::render_report(&report, bisslog::schema::RenderOptions::default());
        anyhow::anyhow!("the embedded metadata is invalid:\n{text}")
    })?;
    let service = if args.database_url == "memory" {
        company_data_registry::service(metadata, MemoryStore::new())?
    } else {
        let store = SqlStore::open(&args.database_url)
            .await
            .with_context(|| "cannot open the database (set DATABASE_URL or --database-url)")?;
        company_data_registry::service(metadata, store)?
    };
    let server = HttpServer::new(service).build()?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let address = listener.local_addr()?;
    let database = args.database_url.split("://").next().unwrap_or("memory");
    tracing::info!(
        checkpoint_id = "listening",
        "company data registry listening on http://{address} (database: {database})"
    );
    server.serve(listener).await?;
    Ok(())
}
