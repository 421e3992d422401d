//! The typed model of a service's metadata, with defaults resolved. This
//! is what the runtime and the code generators consume.
//!
//! Serializing a model (with `serde_json`, or [`to_yaml`](crate::to_yaml))
//! writes a canonical metadata file that loads back into the same model.

mod authorization;
mod criticality;
mod http;
mod interaction;
mod mapper;
mod policy;
mod trigger;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Serialize;

pub use authorization::Authorization;
pub use criticality::Criticality;
pub use http::{HttpPath, HttpTrigger, Method, RateLimit, RatePeriod};
pub use interaction::{ExternalInteraction, InteractionType};
pub use mapper::{Mapper, MapperEntry, MapperSource, SourcePart};
pub use policy::{BulkheadSpec, CircuitBreakerSpec, ResiliencePolicy, RetrySpec};
pub(crate) use trigger::partition_key_path;
pub use trigger::{
    ConsumerTrigger, DeliverySemantic, MisfirePolicy, OverlapPolicy, QueueKind, ScheduleTrigger,
    TriggerKind, TriggerMetadata, WebSocketTrigger,
};

/// A service: the top level of a metadata file.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(title = "bisslog service metadata", rename = "Service")]
pub struct ServiceMetadata {
    /// The service's name (required, non-empty).
    pub name: String,
    /// Free text for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A free classification, such as `microservice`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A free classification, such as `functional`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_type: Option<String>,
    /// The team that owns the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Free labels.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(default, schema_with = "crate::json_schema::tags")]
    pub tags: IndexMap<String, String>,
    /// The resilience policy every external interaction starts from; each
    /// entry's own keys win over it, field by field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interaction_defaults: Option<ResiliencePolicy>,
    /// The use cases, by keyname, in file order.
    #[schemars(default)]
    pub use_cases: IndexMap<String, UseCaseMetadata>,
    /// Keys starting with `x-`, kept for tools that extend the format.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

impl ServiceMetadata {
    /// The resilience policy of the calls `use_case` makes through the
    /// interaction `interaction`: the use case's entry for it merged over
    /// `interaction_defaults`, or the defaults alone when the use case does
    /// not declare it (or does not exist). Fields still absent get the
    /// built-in values ([`RetrySpec::BUILT_IN`], ...) when their block is
    /// present.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let service = bisslog_schema::load_str("metadata.yml", "
    /// name: registry
    /// interaction_defaults:
    ///   timeout: 2s
    ///   retry: {max_attempts: 3, initial_delay: 100ms}
    /// use_cases:
    ///   getAll:
    ///     name: get all
    ///     external_interactions:
    ///       - keyname: registry
    ///         retry: {max_attempts: 5}
    /// ").unwrap();
    /// let policy = service.policy_for("getAll", "registry");
    /// assert_eq!(policy.timeout, Some(Duration::from_secs(2)));
    /// let retry = policy.retry.unwrap();
    /// assert_eq!(retry.max_attempts, Some(5));
    /// assert_eq!(retry.initial_delay, Some(Duration::from_millis(100)));
    /// ```
    pub fn policy_for(&self, use_case: &str, interaction: &str) -> ResiliencePolicy {
        let defaults = self.interaction_defaults.clone().unwrap_or_default();
        let entry = self.use_cases.get(use_case).and_then(|u| {
            u.external_interactions
                .iter()
                .find(|i| i.keyname == interaction)
        });
        match entry {
            Some(entry) => entry.policy.merged_over(&defaults),
            None => defaults,
        }
    }

    /// Whether any external interaction of `use_case` retries (its
    /// [`policy_for`](Self::policy_for) has a `retry`): the entry points
    /// then tell the call when its timeout falls, so that no retry starts
    /// that would end past it.
    ///
    /// ```
    /// let service = bisslog_schema::load_str("metadata.yml", "
    /// name: registry
    /// use_cases:
    ///   getAll:
    ///     name: get all
    ///     external_interactions:
    ///       - keyname: registry
    ///         retry: {max_attempts: 5}
    ///   ping:
    ///     name: ping
    ///     external_interactions:
    ///       - keyname: registry
    /// ").unwrap();
    /// assert!(service.retries_in("getAll"));
    /// assert!(!service.retries_in("ping"));
    /// ```
    pub fn retries_in(&self, use_case: &str) -> bool {
        self.use_cases.get(use_case).is_some_and(|spec| {
            spec.external_interactions.iter().any(|interaction| {
                self.policy_for(use_case, &interaction.keyname)
                    .retry
                    .is_some()
            })
        })
    }

    /// The authorization rule of the trigger at `trigger_index` of
    /// `use_case`: the trigger's own `authorization`, else the use case's.
    /// `None` when neither declares one, and always for consumer and
    /// schedule triggers, which run as the service itself.
    ///
    /// ```
    /// let service = bisslog_schema::load_str("metadata.yml", "
    /// name: registry
    /// use_cases:
    ///   createSchema:
    ///     name: create schema
    ///     authorization: {roles: [schema-manager]}
    ///     triggers:
    ///       - type: http
    ///         options: {method: post, path: /schemas}
    ///       - type: http
    ///         options: {method: put, path: /schemas, authorization: {roles: [admin]}}
    ///       - type: consumer
    ///         options: {queue: schemas}
    /// ").unwrap();
    /// assert_eq!(service.authorization_for("createSchema", 0).unwrap().roles, ["schema-manager"]);
    /// assert_eq!(service.authorization_for("createSchema", 1).unwrap().roles, ["admin"]);
    /// assert!(service.authorization_for("createSchema", 2).is_none());
    /// ```
    pub fn authorization_for(
        &self,
        use_case: &str,
        trigger_index: usize,
    ) -> Option<&Authorization> {
        let use_case = self.use_cases.get(use_case)?;
        let own = match &use_case.triggers.get(trigger_index)?.kind {
            TriggerKind::Http(http) => http.authorization.as_ref(),
            TriggerKind::WebSocket(ws) => ws.authorization.as_ref(),
            TriggerKind::Consumer(_) | TriggerKind::Schedule(_) => return None,
        };
        own.or(use_case.authorization.as_ref())
    }
}

/// A use case: one business operation of the service.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(rename = "UseCase")]
pub struct UseCaseMetadata {
    /// The use case's keyname: its key under `use_cases`.
    #[serde(skip)]
    #[schemars(skip)]
    pub keyname: String,
    /// A human-readable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who starts it (`end user`, `system`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// A free classification, such as `create functional data`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Who may call it through its HTTP and WebSocket triggers; a
    /// trigger's own `authorization` replaces it. `None`: no rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// How critical it is; `medium` when not given.
    #[schemars(default)]
    pub criticality: Criticality,
    /// Free labels.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(default, schema_with = "crate::json_schema::tags")]
    pub tags: IndexMap<String, String>,
    /// How it is started.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(default)]
    pub triggers: Vec<TriggerMetadata>,
    /// The ports it uses: a list of interactions, or a mapping from
    /// keynames to interactions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(default, schema_with = "crate::json_schema::external_interactions")]
    pub external_interactions: Vec<ExternalInteraction>,
    /// Keys starting with `x-`, kept for tools that extend the format.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extensions: IndexMap<String, serde_json::Value>,
}

impl UseCaseMetadata {
    /// The name to show people: `name`, or the keyname when there is none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.keyname)
    }

    /// The HTTP triggers, in order.
    pub fn http_triggers(&self) -> impl Iterator<Item = &HttpTrigger> {
        self.triggers.iter().filter_map(|t| match &t.kind {
            TriggerKind::Http(http) => Some(http),
            _ => None,
        })
    }
}
