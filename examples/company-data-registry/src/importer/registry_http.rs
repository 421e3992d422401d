//! The registry's HTTP API, as the importer asks it: `GET /schemas`.

use std::time::Duration;

use bisslog::core::{Adapter, Error};
use bisslog::http_client::{ClientCredentials, ClientError, ServiceClient, ServiceClientBuilder};
use bisslog::resilience::Interaction;
use serde::Deserialize;

use super::domain::RegistrySchemas;

/// How long the registry has to answer at most, whatever the metadata's
/// policy (its `timeout` per attempt is shorter).
const TIMEOUT: Duration = Duration::from_secs(10);

/// A client of the registry at a base URL (`http://127.0.0.1:8080`). Its
/// requests carry the import's transaction id and trace, so the
/// registry's log lines and spans join the import's; its failures reach
/// the use case as error kinds (the registry down: `Connection`, 503).
/// Every request goes through the interaction's guard: the timeout,
/// retries and circuit breaker `importer.yml` declares for
/// `company registry data`.
#[derive(Debug, Clone)]
pub struct RegistryHttp {
    registry: ServiceClient,
}

/// The part of a schema the importer reads.
#[derive(Debug, Deserialize)]
struct SchemaSummary {
    schema_keyname: String,
}

impl RegistryHttp {
    /// A client of the registry at `base`, guarded by `interaction`
    /// (`bisslog::resilience::interactions(&metadata)[REGISTRY]`).
    /// `token`, when given, is sent as `Authorization: Bearer <token>`.
    pub fn new(
        base: &str,
        token: Option<&str>,
        interaction: Interaction,
    ) -> Result<Self, ClientError> {
        let mut registry = Self::builder(base, interaction);
        if let Some(token) = token {
            registry = registry.bearer_token(token);
        }
        Ok(Self {
            registry: registry.build()?,
        })
    }

    /// A client of the registry at `base`, guarded by `interaction`, that
    /// sends the bearer tokens `credentials` get from an OAuth 2.0 token
    /// endpoint (cached until they expire, renewed after a 401).
    pub fn with_client_credentials(
        base: &str,
        credentials: ClientCredentials,
        interaction: Interaction,
    ) -> Result<Self, ClientError> {
        let registry = Self::builder(base, interaction)
            .bearer_token_provider(credentials)
            .build()?;
        Ok(Self { registry })
    }

    fn builder(base: &str, interaction: Interaction) -> ServiceClientBuilder {
        ServiceClient::builder(base)
            .timeout(TIMEOUT)
            .interaction(interaction)
    }
}

// No readiness probe of its own: the importer stays ready while the
// registry restarts, and an import meanwhile gets a 503.
impl Adapter for RegistryHttp {}

impl RegistrySchemas for RegistryHttp {
    async fn schema_exists(&self, schema_keyname: &str) -> Result<bool, Error> {
        let schemas: Vec<SchemaSummary> = self.registry.get_json("/schemas").await?;
        Ok(schemas.iter().any(|s| s.schema_keyname == schema_keyname))
    }
}
