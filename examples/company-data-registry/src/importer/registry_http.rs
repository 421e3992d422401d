//! The registry's HTTP API, as the importer asks it: `GET /schemas`.

use std::time::Duration;

use bisslog::core::{Adapter, Error, ErrorKind};
use serde::Deserialize;

use super::domain::RegistrySchemas;

/// How long the registry has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A client of the registry at a base URL (`http://127.0.0.1:8080`).
#[derive(Debug, Clone)]
pub struct RegistryHttp {
    client: reqwest::Client,
    base: String,
}

/// The part of a schema the importer reads.
#[derive(Debug, Deserialize)]
struct SchemaSummary {
    schema_keyname: String,
}

impl RegistryHttp {
    /// A client of the registry at `base`.
    pub fn new(base: &str) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    async fn get(&self, path: &str) -> Result<reqwest::Response, Error> {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.get(&url);
        // The registry's spans join the import's trace.
        if let Some(trace) = bisslog::trace::current_context() {
            request = request.header(bisslog::core::trace::TRACEPARENT, trace.traceparent());
            if let Some(state) = trace.state() {
                request = request.header(bisslog::core::trace::TRACESTATE, state);
            }
        }
        let response = request.send().await.map_err(|e| {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Connection
            };
            Error::new(kind, "registry-unreachable", format!("GET {url}: {e}")).with_source(e)
        })?;
        if !response.status().is_success() {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "registry-refused",
                format!("GET {url} answered {}", response.status()),
            ));
        }
        Ok(response)
    }
}

// No readiness probe of its own: the importer stays ready while the
// registry restarts, and an import meanwhile gets a 503.
impl Adapter for RegistryHttp {}

impl RegistrySchemas for RegistryHttp {
    async fn schema_exists(&self, schema_keyname: &str) -> Result<bool, Error> {
        let response = self.get("/schemas").await?;
        let schemas: Vec<SchemaSummary> = response.json().await.map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                "registry-answer-unreadable",
                format!("the registry's schema list is not what the importer reads: {e}"),
            )
            .with_source(e)
        })?;
        Ok(schemas.iter().any(|s| s.schema_keyname == schema_keyname))
    }
}
