//! Run with: `BROKER_URL=nats://127.0.0.1:4222 cargo run -p company-data-registry --bin company-data-audit`
//!
//! The company data audit service alone: it consumes the registry's
//! `company_data.inserted` events from a broker other processes reach and
//! serves `GET /audit/{schema_keyname}` on 127.0.0.1:8081, its trail in
//! `DATABASE_URL`. (With an embedded broker the registry runs it.)

use bisslog::app::{ConnectionUrl, Settings};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    bisslog::app!("audit.yml")
        .defaults(Settings {
            port: 8081,
            database_url: ConnectionUrl::new("sqlite://company-data-audit.db"),
            ..Settings::default()
        })
        .run(company_data_registry::compose::audit)
        .await
}
