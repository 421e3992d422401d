//! Run with: `BROKER_URL=nats://127.0.0.1:4222 cargo run -p company-data-registry --bin company-data-importer`
//!
//! The company data importer alone: `POST /imports/{schema_keyname}` on
//! 127.0.0.1:8082 queues one insertion request per record for the registry
//! (`REGISTRY_URL`), whose database (`REGISTRY_DATABASE_URL`) it reads for
//! progress. (With an embedded broker the registry runs it.)

use bisslog::app::Settings;
use company_data_registry::compose::{self, ImporterSettings};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    bisslog::app!("importer.yml")
        .settings::<ImporterSettings>()
        .defaults(Settings {
            port: 8082,
            ..Settings::default()
        })
        .run(compose::importer)
        .await
}
