//! A service: its metadata, the use cases that implement it and the
//! adapters behind its external interactions, checked against each other.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bisslog_core::{Adapter, CallDispatcher, Trigger, UseCase};
use bisslog_messaging::UnitOfWork;
use indexmap::IndexMap;
use schemars::JsonSchema;

use crate::dispatch::{Calls, UseCaseHandle};
use crate::metrics::Metrics;
use crate::resilience::{BreakerState, Interaction};
use crate::trace::{Tracer, TracerSlot};
use bisslog_schema::Criticality;

/// A checked service: every use case of the metadata is implemented, and
/// every external interaction has an adapter. Cheap to clone.
///
/// ```
/// use bisslog_core::{Ctx, Error, NoInput, UseCase};
/// use bisslog_runtime::Service;
///
/// struct Ping;
/// impl UseCase for Ping {
///     type Input = NoInput;
///     type Output = &'static str;
///     type Error = Error;
///     async fn run(&self, _: &Ctx, _: NoInput) -> Result<&'static str, Error> { Ok("pong") }
/// }
///
/// let metadata = bisslog_schema::validate_str(
///     "metadata.yml",
///     "name: ping\nuse_cases:\n  ping:\n    name: ping\n    triggers: [{type: http, options: {path: /ping}}]\n",
/// )
/// .into_service()
/// .unwrap();
///
/// let service = Service::builder(metadata.clone()).use_case("ping", Ping).build().unwrap();
/// assert!(service.use_case("ping").is_some());
///
/// // Code and metadata that disagree are refused, naming each keyname.
/// let error = Service::builder(metadata).use_case("pong", Ping).build().unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "the service `ping` does not match its metadata:\n  \
///      - use case `ping` is declared in the metadata but not registered\n  \
///      - use case `pong` is registered but not declared in the metadata"
/// );
/// ```
#[derive(Clone)]
pub struct Service(Arc<Inner>);

struct Inner {
    metadata: bisslog_schema::ServiceMetadata,
    use_cases: IndexMap<String, UseCaseHandle>,
    adapters: Vec<(String, Arc<dyn Adapter>)>,
    blanks: Vec<String>,
    unit_of_work: Option<Arc<dyn UnitOfWork>>,
    readiness_timeout: Duration,
    metrics: Option<Metrics>,
    /// The guards of its external interactions, by keyname.
    interactions: IndexMap<String, Interaction>,
    /// The tracer of its spans, set once (by the runner when OTLP is
    /// configured); its handles read the same slot.
    tracer: TracerSlot,
    /// Set when the process begins to shut down: readiness fails from then on.
    shutting_down: std::sync::atomic::AtomicBool,
}

/// How long one adapter's readiness check may take by default: under the
/// probe timeout of every common orchestrator.
pub const DEFAULT_READINESS_TIMEOUT: Duration = Duration::from_secs(1);

impl Service {
    /// Starts building a service from its (validated) metadata.
    pub fn builder(metadata: bisslog_schema::ServiceMetadata) -> ServiceBuilder {
        ServiceBuilder {
            use_cases: Vec::new(),
            adapters: Vec::new(),
            blanks: Vec::new(),
            unit_of_work: None,
            readiness_timeout: DEFAULT_READINESS_TIMEOUT,
            metrics: true,
            tracer: None,
            interactions: std::sync::Mutex::new(crate::resilience::interactions(&metadata)),
            metadata,
        }
    }

    /// The guard of the external interaction with this keyname: the
    /// policies its metadata declares. Adapters make their requests inside
    /// [`Interaction::call`].
    pub fn interaction(&self, keyname: &str) -> Option<&Interaction> {
        self.0.interactions.get(keyname)
    }

    /// The guards of every external interaction, in declaration order.
    pub fn interactions(&self) -> impl Iterator<Item = &Interaction> {
        self.0.interactions.values()
    }

    /// Every use case seen calling through each interaction, as
    /// `(use case, interaction)` pairs sorted by interaction then use case:
    /// what `bisslog drift` compares with the metadata.
    pub fn observed_interactions(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .0
            .interactions
            .values()
            .flat_map(|interaction| {
                interaction
                    .observed_use_cases()
                    .into_iter()
                    .map(|use_case| (use_case, interaction.keyname().to_owned()))
            })
            .collect();
        pairs.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        pairs
    }

    /// The interactions whose circuit breaker is not closed, with whether
    /// a use case of high criticality (`high` or above) declares them: such
    /// a breaker makes the service not ready; otherwise it is degraded.
    pub fn open_circuits(&self) -> Vec<(String, BreakerState, bool)> {
        self.0
            .interactions
            .values()
            .filter_map(|interaction| {
                let state = interaction.breaker_state();
                (state != BreakerState::Closed).then(|| {
                    let keyname = interaction.keyname();
                    let critical = self.0.metadata.use_cases.values().any(|use_case| {
                        use_case.criticality >= Criticality::High
                            && use_case
                                .external_interactions
                                .iter()
                                .any(|declared| declared.keyname == keyname)
                    });
                    (keyname.to_owned(), state, critical)
                })
            })
            .collect()
    }

    /// The tracer the service's spans go to, when tracing is on.
    pub fn tracer(&self) -> Option<&Tracer> {
        self.0.tracer.get()
    }

    /// Turns tracing on for this service and every handle of it, once (a
    /// second tracer is refused and given back). Set it before serving:
    /// calls already running are not traced.
    pub fn set_tracer(&self, tracer: Tracer) -> Result<(), Tracer> {
        self.0.tracer.set(tracer)
    }

    /// The service's metrics registry, unless turned off with
    /// [`ServiceBuilder::metrics`].
    pub fn metrics(&self) -> Option<&Metrics> {
        self.0.metrics.as_ref()
    }

    /// The service's metadata.
    pub fn metadata(&self) -> &bisslog_schema::ServiceMetadata {
        &self.0.metadata
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.0.metadata.name
    }

    /// A use case by keyname.
    pub fn use_case(&self, keyname: &str) -> Option<&UseCaseHandle> {
        self.0.use_cases.get(keyname)
    }

    /// Every use case, in metadata order.
    pub fn use_cases(&self) -> impl Iterator<Item = &UseCaseHandle> {
        self.0.use_cases.values()
    }

    /// The unit of work every use-case call runs in, if the service has one.
    pub fn unit_of_work(&self) -> Option<&Arc<dyn UnitOfWork>> {
        self.0.unit_of_work.as_ref()
    }

    /// Marks the service as shutting down: from now on
    /// [`readiness`](Service::readiness) fails, so `/health/ready` answers
    /// 503 and load balancers stop sending requests, while the entry points
    /// still finish what they have. Every clone sees it; it cannot be undone.
    pub fn begin_shutdown(&self) {
        self.0
            .shutting_down
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`begin_shutdown`](Service::begin_shutdown) has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.0
            .shutting_down
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The external interactions bound to blank adapters.
    pub fn blank_interactions(&self) -> &[String] {
        &self.0.blanks
    }

    /// Asks every bound adapter whether it is ready, all at once, each
    /// within the readiness timeout (see
    /// [`ServiceBuilder::readiness_timeout`]); the failures, by interaction
    /// keyname, in binding order. A check that takes longer fails as
    /// `Timeout`, so the answer never takes much more than the timeout.
    ///
    /// An interaction whose circuit breaker is open or half-open fails
    /// too (`Unavailable`, `circuit-open`) when a use case of high
    /// criticality declares it (see [`Service::open_circuits`]).
    ///
    /// Once [`Service::begin_shutdown`] has been called, the answer is the
    /// single failure `service` (`Unavailable`, `shutting-down`), without
    /// asking the adapters.
    pub async fn readiness(&self) -> Vec<(String, bisslog_core::Error)> {
        if self.is_shutting_down() {
            return vec![(
                "service".to_owned(),
                bisslog_core::Error::new(
                    bisslog_core::ErrorKind::Unavailable,
                    "shutting-down",
                    "the service is shutting down",
                ),
            )];
        }
        let limit = self.0.readiness_timeout;
        let checks = self.0.adapters.iter().map(|(keyname, adapter)| async move {
            match tokio::time::timeout(limit, adapter.ready()).await {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some((keyname.clone(), error)),
                Err(_) => Some((
                    keyname.clone(),
                    bisslog_core::Error::new(
                        bisslog_core::ErrorKind::Timeout,
                        "readiness-timeout",
                        format!(
                            "the readiness check of `{keyname}` took longer than {} ms",
                            limit.as_millis()
                        ),
                    ),
                )),
            }
        });
        let mut failures: Vec<_> = futures_util::future::join_all(checks)
            .await
            .into_iter()
            .flatten()
            .collect();
        // An open breaker on what a critical use case needs: the service
        // cannot do its most important work, so it is not ready.
        for (keyname, state, critical) in self.open_circuits() {
            if critical {
                failures.push((
                    keyname.clone(),
                    bisslog_core::Error::new(
                        bisslog_core::ErrorKind::Unavailable,
                        crate::resilience::CIRCUIT_OPEN,
                        format!("the circuit breaker of `{keyname}` is {}", state.as_str()),
                    ),
                ));
            }
        }
        failures
    }

    /// The triggers of the metadata whose kinds are not in `served`: an
    /// entry point reports them at start-up rather than dropping them
    /// silently.
    pub fn unserved_triggers(&self, served: &[Trigger]) -> Vec<UnservedTrigger> {
        let mut unserved = Vec::new();
        for (keyname, use_case) in &self.0.metadata.use_cases {
            for trigger in &use_case.triggers {
                let kind = trigger_of(&trigger.kind);
                if !served.contains(&kind) {
                    unserved.push(UnservedTrigger {
                        use_case: keyname.clone(),
                        trigger: kind,
                        description: describe(&trigger.kind),
                    });
                }
            }
        }
        unserved
    }
}

/// A trigger of the metadata that no entry point of this process serves
/// (see [`Service::unserved_triggers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnservedTrigger {
    /// The use case's keyname.
    pub use_case: String,
    /// Its kind.
    pub trigger: Trigger,
    /// What it is, for people: `POST /schemas`, `queue orders`, `cron */5 * * * *`.
    pub description: String,
}

/// The kind of call a declared trigger makes.
fn trigger_of(kind: &bisslog_schema::TriggerKind) -> Trigger {
    use bisslog_schema::TriggerKind;
    match kind {
        TriggerKind::Http(_) => Trigger::Http,
        TriggerKind::WebSocket(_) => Trigger::WebSocket,
        TriggerKind::Consumer(_) => Trigger::Consumer,
        TriggerKind::Schedule(_) => Trigger::Schedule,
    }
}

/// A short description of a trigger for start-up reports.
fn describe(kind: &bisslog_schema::TriggerKind) -> String {
    use bisslog_schema::TriggerKind;
    match kind {
        TriggerKind::Http(http) => format!("{} {}", http.method, http.path),
        TriggerKind::WebSocket(ws) => format!("route key {}", ws.route_key),
        TriggerKind::Consumer(consumer) => format!("queue {}", consumer.queue),
        TriggerKind::Schedule(schedule) => format!("cron {}", schedule.cronjob),
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.0.metadata.name)
            .field("use_cases", &self.0.use_cases.keys().collect::<Vec<_>>())
            .field(
                "adapters",
                &self.0.adapters.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Registers use cases and adapters against the metadata; see
/// [`Service::builder`].
pub struct ServiceBuilder {
    metadata: bisslog_schema::ServiceMetadata,
    use_cases: Vec<UseCaseHandle>,
    adapters: Vec<(String, Arc<dyn Adapter>)>,
    blanks: Vec<String>,
    unit_of_work: Option<Arc<dyn UnitOfWork>>,
    readiness_timeout: Duration,
    metrics: bool,
    tracer: Option<Tracer>,
    /// Guards asked for keynames the metadata does not declare are added
    /// here, so the service reports their use too.
    interactions: std::sync::Mutex<IndexMap<String, Interaction>>,
}

impl ServiceBuilder {
    /// The guard of the external interaction with this keyname, with the
    /// policies the metadata declares for it (timeout, retry, circuit
    /// breaker, bulkhead): give it to the adapter serving the interaction,
    /// which makes each request inside [`Interaction::call`]. The service
    /// built keeps the same guard ([`Service::interaction`]) for its
    /// readiness, metrics and drift report. A keyname the metadata does not
    /// declare gets a guard that guards nothing and reports every use as
    /// undeclared (the service keeps it too, so the drift report lists
    /// those uses).
    pub fn interaction(&self, keyname: &str) -> Interaction {
        let mut interactions = self
            .interactions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        interactions
            .entry(keyname.to_owned())
            .or_insert_with(|| {
                Interaction::new(keyname, crate::resilience::Policy::default())
                    .declared_by(Vec::<String>::new())
            })
            .clone()
    }

    /// Uses `interactions` as the service's guards (made with
    /// [`resilience::interactions`](crate::resilience::interactions) from
    /// the same metadata before the builder, when adapters built earlier
    /// need theirs): the service then reports the same breakers and
    /// observations the adapters use.
    #[must_use]
    pub fn interactions(self, interactions: crate::resilience::Interactions) -> Self {
        self.interactions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(interactions);
        self
    }

    /// Registers the implementation of the use case with this keyname.
    ///
    /// Its input and output types describe themselves as JSON Schemas
    /// (`#[derive(schemars::JsonSchema)]` next to serde's derives), so the
    /// API documents of every entry point type their bodies from the code
    /// without a hand-written description; the handle keeps them in its
    /// [`Contract`](crate::Contract).
    #[must_use]
    pub fn use_case<U>(mut self, keyname: impl Into<String>, use_case: U) -> Self
    where
        U: UseCase,
        U::Input: JsonSchema,
        U::Output: JsonSchema,
    {
        let keyname = keyname.into();
        let criticality = self
            .metadata
            .use_cases
            .get(&keyname)
            .map(|u| u.criticality)
            .unwrap_or_default();
        self.use_cases
            .push(UseCaseHandle::new(&keyname, criticality, use_case));
        self
    }

    /// Binds an adapter to the external interaction with this keyname
    /// (`schema_division`); `/health/ready` asks it whether it is ready.
    #[must_use]
    pub fn adapter(mut self, keyname: impl Into<String>, adapter: impl Adapter) -> Self {
        self.adapters.push((keyname.into(), Arc::new(adapter)));
        self
    }

    /// Declares, on purpose, that nothing backs this external interaction
    /// yet. It is logged at WARN when the service is built.
    #[must_use]
    pub fn blank(mut self, keyname: impl Into<String>) -> Self {
        self.blanks.push(keyname.into());
        self
    }

    /// Runs every use-case call in a unit of work from `unit_of_work` (a
    /// `bisslog_sql::Database`): the writes of adapters that join it and
    /// the events published through the outbox commit together when the
    /// use case succeeds, and are rolled back when it fails. Consumers with
    /// `delivery_semantic: exactly-once` record their inbox entry in it.
    #[must_use]
    pub fn unit_of_work(mut self, unit_of_work: impl UnitOfWork) -> Self {
        self.unit_of_work = Some(Arc::new(unit_of_work));
        self
    }

    /// How long each adapter's readiness check may take before it counts
    /// as failed ([`DEFAULT_READINESS_TIMEOUT`], 1 s, unless set).
    #[must_use]
    pub fn readiness_timeout(mut self, timeout: Duration) -> Self {
        self.readiness_timeout = timeout;
        self
    }

    /// Whether the service keeps [metrics](crate::metrics) (on unless
    /// turned off here): without them, calls are not counted or timed.
    #[must_use]
    pub fn metrics(mut self, enabled: bool) -> Self {
        self.metrics = enabled;
        self
    }

    /// Sends the service's spans to `tracer` (the runner sets the OTLP
    /// tracer itself, see [`Service::set_tracer`]; a test gives a
    /// [`MemoryTracer`](crate::trace::MemoryTracer)).
    #[must_use]
    pub fn tracer(mut self, tracer: Tracer) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// Checks the registrations against the metadata and builds the
    /// service, or lists every disagreement.
    pub fn build(self) -> Result<Service, BuildError> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(BuildError {
                service: self.metadata.name.clone(),
                problems,
            });
        }
        for keyname in &self.blanks {
            tracing::warn!(
                interaction = keyname.as_str(),
                "external interaction `{keyname}` has a blank adapter: nothing backs it"
            );
        }
        let interactions = self
            .interactions
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let metrics = self.metrics.then(|| Metrics::new(&self.metadata.name));
        if let Some(metrics) = &metrics {
            for interaction in interactions.values() {
                interaction.attach_metrics(metrics);
            }
        }
        let tracer = TracerSlot::default();
        if let Some(given) = self.tracer {
            let _ = tracer.set(given);
        }
        let mut use_cases = IndexMap::with_capacity(self.use_cases.len());
        for keyname in self.metadata.use_cases.keys() {
            if let Some(handle) = self.use_cases.iter().find(|h| h.keyname() == keyname) {
                let criticality = self.metadata.use_cases[keyname].criticality;
                use_cases.insert(
                    keyname.clone(),
                    handle
                        .clone()
                        .with_criticality(criticality)
                        .with_metrics(metrics.clone())
                        .with_tracer(tracer.clone())
                        .with_unit_of_work(self.unit_of_work.clone()),
                );
            }
        }
        // Nested calls are counted in the callee's series: the dispatcher
        // takes them from the handles just completed.
        let calls: Arc<dyn CallDispatcher> =
            Arc::new(Calls::new(use_cases.values(), tracer.clone()));
        for handle in use_cases.values_mut() {
            *handle = handle.clone().with_calls(Arc::clone(&calls));
        }
        Ok(Service(Arc::new(Inner {
            metadata: self.metadata,
            use_cases,
            adapters: self.adapters,
            blanks: self.blanks,
            unit_of_work: self.unit_of_work,
            readiness_timeout: self.readiness_timeout,
            metrics,
            interactions,
            tracer,
            shutting_down: std::sync::atomic::AtomicBool::new(false),
        })))
    }

    fn problems(&self) -> Vec<BuildProblem> {
        let mut problems = Vec::new();
        let declared: BTreeSet<&str> = self.metadata.use_cases.keys().map(String::as_str).collect();
        let mut registered = BTreeSet::new();
        for handle in &self.use_cases {
            if !registered.insert(handle.keyname()) {
                problems.push(BuildProblem::UseCaseRegisteredTwice(
                    handle.keyname().to_owned(),
                ));
            }
        }
        for keyname in &declared {
            if !registered.contains(keyname) {
                problems.push(BuildProblem::UseCaseNotRegistered((*keyname).to_owned()));
            }
        }
        for keyname in &registered {
            if !declared.contains(keyname) {
                problems.push(BuildProblem::UseCaseNotDeclared((*keyname).to_owned()));
            }
        }
        let interactions = declared_interactions(&self.metadata);
        let bound: BTreeSet<&str> = self
            .adapters
            .iter()
            .map(|(k, _)| k.as_str())
            .chain(self.blanks.iter().map(String::as_str))
            .collect();
        for (keyname, users) in &interactions {
            if !bound.contains(keyname.as_str()) {
                problems.push(BuildProblem::InteractionWithoutAdapter {
                    keyname: keyname.clone(),
                    use_cases: users.clone(),
                });
            }
        }
        for keyname in &bound {
            if !interactions.contains_key(*keyname) {
                problems.push(BuildProblem::AdapterNotDeclared((*keyname).to_owned()));
            }
        }
        if self.unit_of_work.is_none() {
            for (use_case, queue) in crate::messaging::exactly_once_triggers(&self.metadata) {
                problems.push(BuildProblem::ExactlyOnceWithoutUnitOfWork { use_case, queue });
            }
        }
        let configured = self.unit_of_work.as_ref().and_then(|work| work.id());
        for (keyname, adapter) in &self.adapters {
            if let Some(required) = adapter.required_unit_of_work()
                && configured.as_ref() != Some(&required)
            {
                problems.push(BuildProblem::AdapterWithoutItsUnitOfWork {
                    keyname: keyname.clone(),
                    required: required.to_string(),
                    configured: self.unit_of_work.as_ref().map(|work| {
                        work.id().map_or_else(
                            || "a unit of work of no database".to_owned(),
                            |id| id.to_string(),
                        )
                    }),
                });
            }
        }
        problems
    }
}

/// Every external interaction keyname, with the use cases that declare it.
fn declared_interactions(
    metadata: &bisslog_schema::ServiceMetadata,
) -> IndexMap<String, Vec<String>> {
    let mut interactions: IndexMap<String, Vec<String>> = IndexMap::new();
    for (use_case, spec) in &metadata.use_cases {
        for interaction in &spec.external_interactions {
            let users = interactions.entry(interaction.keyname.clone()).or_default();
            if !users.contains(use_case) {
                users.push(use_case.clone());
            }
        }
    }
    interactions
}

/// Why a service could not be built: every disagreement between the code
/// and the metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BuildError {
    /// The service's name.
    pub service: String,
    /// Each disagreement.
    pub problems: Vec<BuildProblem>,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the service `{}` does not match its metadata:",
            self.service
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// One disagreement between a service's code and its metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildProblem {
    /// A use case of the metadata has no implementation.
    #[error("use case `{0}` is declared in the metadata but not registered")]
    UseCaseNotRegistered(String),
    /// An implementation names no use case of the metadata.
    #[error("use case `{0}` is registered but not declared in the metadata")]
    UseCaseNotDeclared(String),
    /// Two implementations for one keyname.
    #[error("use case `{0}` is registered twice")]
    UseCaseRegisteredTwice(String),
    /// A declared external interaction with no adapter (and not declared
    /// blank on purpose).
    #[error("external interaction `{keyname}` (used by {}) has no adapter; bind one, or call `blank(\"{keyname}\")` to run without it", quoted(.use_cases))]
    InteractionWithoutAdapter {
        /// The interaction's keyname.
        keyname: String,
        /// The use cases that declare it.
        use_cases: Vec<String>,
    },
    /// An `exactly-once` consumer needs an inbox, kept in the unit of work.
    #[error(
        "use case `{use_case}` consumes `{queue}` exactly-once, which needs a unit of work for its inbox; call `unit_of_work(..)` (a `bisslog_sql::Database`, or `MemoryInbox` in tests)"
    )]
    ExactlyOnceWithoutUnitOfWork {
        /// The use case.
        use_case: String,
        /// Its queue.
        queue: String,
    },
    /// An adapter bound to a keyname no use case declares.
    #[error("an adapter is bound to `{0}`, which no use case declares as an external interaction")]
    AdapterNotDeclared(String),
    /// An adapter that must write in the use case's unit of work (the SQL
    /// outbox) in a service whose calls run in no unit of work of its
    /// database: its writes would commit even when the use case fails.
    #[error(
        "the adapter bound to `{keyname}` writes in the use case's unit of work of {required}, but the service's calls run in {}; call `unit_of_work(db)` with that database (a clone of the `Database` the adapter was made from)",
        configured.as_deref().map_or_else(|| "no unit of work".to_owned(), |c| format!("another one ({c})"))
    )]
    AdapterWithoutItsUnitOfWork {
        /// The keyname the adapter is bound to.
        keyname: String,
        /// The unit of work it needs ([`bisslog_core::UnitOfWorkId`]).
        required: String,
        /// The service's unit of work, if it has one.
        configured: Option<String>,
    },
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
