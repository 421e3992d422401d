//! Run with: `cargo run -p company-data-registry` (`-- --help` lists the
//! commands: serve, call, config, check, openapi, asyncapi, metadata, outbox).
//!
//! Serves the company data registry on 127.0.0.1:8080, its data in a SQLite
//! file of the working directory, with the embedded durable broker (another
//! SQLite file there): the audit service (8081) and the importer (8082) run
//! in this process too, and no event is lost if it dies. `DATABASE_URL=memory`
//! keeps nothing (and, with no `BROKER_URL`, the broker is in-process);
//! `BROKER_URL=postgres://...`, `nats://...` or `amqp://...` moves the
//! messages to a server, and the other two services to their own binaries.

use bisslog::app::{ConnectionUrl, Settings};
use company_data_registry::compose::{self, RegistrySettings};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    bisslog::app!()
        .settings::<RegistrySettings>()
        .defaults(Settings {
            port: 8080,
            database_url: ConnectionUrl::new("sqlite://company-data-registry.db"),
            ..Settings::default()
        })
        // Events kept in a SQLite file beside the data; with nothing kept
        // (DATABASE_URL=memory), nothing to keep them for: in-process.
        .default_broker(|settings| {
            (settings.database_url.expose() != "memory")
                .then(|| ConnectionUrl::new("sqlite://company-data-broker.db"))
        })
        .run(compose::registry)
        .await
}
