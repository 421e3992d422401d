//! A service built from its metadata: `Service::build` refuses code that
//! disagrees with it, naming every disagreement at once (each
//! `BuildProblem`, and `blank()` as the one way to run without an adapter
//! on purpose); readiness asks every adapter at once, each within its
//! bound, so `/health/ready` answers in about the timeout whatever hangs
//! (it used to ask them in turn: 15 s during a PostgreSQL outage).

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use bisslog_core::{
    Adapter, BoxFuture, Ctx, Error, ErrorKind, NoInput, Trigger, UnitOfWorkId, UseCase,
    UseCaseError,
};
use bisslog_messaging::UnitOfWork;
use bisslog_runtime::{
    BuildProblem, DEFAULT_READINESS_TIMEOUT, MemoryInbox, Service, UnservedTrigger,
};

struct Noop;

impl UseCase for Noop {
    type Input = NoInput;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
        Ok(())
    }
}

// --- building ---------------------------------------------------------------
struct Store;
impl Adapter for Store {}

const METADATA: &str = "
name: shop
use_cases:
  order:
    name: order
    triggers: [{type: http, options: {path: /order, method: POST}}]
    external_interactions:
      - {keyname: orders_db, type_interaction: database}
      - {keyname: mailer, type_interaction: notifier}
  ship:
    name: ship
    triggers:
      - {type: consumer, options: {queue: orders.placed, delivery_semantic: exactly-once}}
    external_interactions:
      - {keyname: orders_db, type_interaction: database}
";

fn metadata() -> bisslog_schema::ServiceMetadata {
    bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap()
}

#[test]
fn every_disagreement_is_reported_at_once() {
    let error = Service::builder(metadata())
        .use_case("order", Noop)
        .use_case("order", Noop)
        .use_case("refund", Noop)
        .adapter("orders_db", Store)
        .adapter("ledger", Store)
        .build()
        .unwrap_err();
    assert_eq!(error.service, "shop");
    assert_eq!(
        error.problems,
        [
            BuildProblem::UseCaseRegisteredTwice("order".into()),
            BuildProblem::UseCaseNotRegistered("ship".into()),
            BuildProblem::UseCaseNotDeclared("refund".into()),
            BuildProblem::InteractionWithoutAdapter {
                keyname: "mailer".into(),
                use_cases: vec!["order".into()],
            },
            BuildProblem::AdapterNotDeclared("ledger".into()),
            BuildProblem::ExactlyOnceWithoutUnitOfWork {
                use_case: "ship".into(),
                queue: "orders.placed".into(),
            },
        ]
    );
    let text = error.to_string();
    assert!(
        text.starts_with("the service `shop` does not match its metadata:"),
        "{text}"
    );
    assert!(
        text.contains("external interaction `mailer` (used by `order`) has no adapter; bind one, or call `blank(\"mailer\")`"),
        "{text}"
    );
    assert!(text.contains("call `unit_of_work(..)`"), "{text}");
}

#[test]
fn a_blank_interaction_builds_and_is_listed() {
    let service = Service::builder(metadata())
        .use_case("order", Noop)
        .use_case("ship", Noop)
        .adapter("orders_db", Store)
        .blank("mailer")
        .unit_of_work(MemoryInbox::new())
        .build()
        .unwrap();
    assert_eq!(service.blank_interactions(), ["mailer".to_owned()]);
}

#[test]
fn a_blank_for_an_undeclared_interaction_is_refused() {
    let error = Service::builder(metadata())
        .use_case("order", Noop)
        .use_case("ship", Noop)
        .adapter("orders_db", Store)
        .adapter("mailer", Store)
        .blank("fax")
        .unit_of_work(MemoryInbox::new())
        .build()
        .unwrap_err();
    assert_eq!(
        error.problems,
        [BuildProblem::AdapterNotDeclared("fax".into())]
    );
}

/// An adapter that must write in the unit of work `needs` (as the SQL
/// outbox needs its database's).
struct Outboxish {
    needs: &'static str,
}
impl Adapter for Outboxish {
    fn required_unit_of_work(&self) -> Option<UnitOfWorkId> {
        Some(UnitOfWorkId::new(self.needs))
    }
}

/// A unit of work with an id (as a database is one).
struct NamedWork(&'static str);
impl UnitOfWork for NamedWork {
    fn begin(&self) -> std::sync::Arc<dyn bisslog_messaging::Work> {
        MemoryInbox::new().begin()
    }
    fn id(&self) -> Option<UnitOfWorkId> {
        Some(UnitOfWorkId::new(self.0))
    }
}

fn with_mailer(mailer: impl Adapter) -> bisslog_runtime::ServiceBuilder {
    Service::builder(metadata())
        .use_case("order", Noop)
        .use_case("ship", Noop)
        .adapter("orders_db", Store)
        .adapter("mailer", mailer)
}

#[test]
fn an_adapter_that_needs_a_unit_of_work_is_refused_without_it() {
    let problem = |configured: Option<&str>| BuildProblem::AdapterWithoutItsUnitOfWork {
        keyname: "mailer".into(),
        required: "db-1".into(),
        configured: configured.map(str::to_owned),
    };
    // No unit of work that is not the one it needs: refused, named.
    let error = with_mailer(Outboxish { needs: "db-1" })
        .unit_of_work(MemoryInbox::new())
        .build()
        .unwrap_err();
    assert_eq!(
        error.problems,
        [problem(Some("a unit of work of no database"))]
    );
    let text = error.to_string();
    assert!(text.contains("`mailer`"), "{text}");
    assert!(text.contains("unit_of_work(db)"), "{text}");
    let error = with_mailer(Outboxish { needs: "db-1" })
        .unit_of_work(NamedWork("db-2"))
        .build()
        .unwrap_err();
    assert_eq!(error.problems, [problem(Some("db-2"))]);
    // And with no unit of work at all (next to the exactly-once consumer's
    // problem).
    let error = with_mailer(Outboxish { needs: "db-1" })
        .build()
        .unwrap_err();
    assert!(error.problems.contains(&problem(None)), "{error}");
    // Its unit of work: builds.
    with_mailer(Outboxish { needs: "db-1" })
        .unit_of_work(NamedWork("db-1"))
        .build()
        .unwrap();
    // Shared through an `Arc`, it still tells what it needs.
    let error = with_mailer(std::sync::Arc::new(Outboxish { needs: "db-1" }))
        .unit_of_work(MemoryInbox::new())
        .build()
        .unwrap_err();
    assert_eq!(
        error.problems,
        [problem(Some("a unit of work of no database"))]
    );
}

// --- readiness --------------------------------------------------------------
/// Answers after `delay`, with `answer`; never when `delay` is `None`.
struct Check {
    delay: Option<Duration>,
    fails: bool,
}

impl Adapter for Check {
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            match self.delay {
                Some(delay) => tokio::time::sleep(delay).await,
                None => std::future::pending().await,
            }
            if self.fails {
                Err(Error::new(ErrorKind::Unavailable, "down", "it is down"))
            } else {
                Ok(())
            }
        })
    }
}

fn service(timeout: Option<Duration>) -> Service {
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: checks\nuse_cases:\n  noop:\n    name: noop\n    triggers: [{type: http, options: {path: /noop}}]\n    external_interactions:\n      - {keyname: hangs, type_interaction: database}\n      - {keyname: slow_fails, type_interaction: database}\n      - {keyname: slow_fine, type_interaction: database}\n      - {keyname: fine, type_interaction: database}\n",
    )
    .into_service()
    .unwrap();
    let secs = |s: f64| Some(Duration::from_secs_f64(s));
    let mut builder = Service::builder(metadata)
        .use_case("noop", Noop)
        .adapter(
            "hangs",
            Check {
                delay: None,
                fails: false,
            },
        )
        .adapter(
            "slow_fails",
            Check {
                delay: secs(0.6),
                fails: true,
            },
        )
        .adapter(
            "slow_fine",
            Check {
                delay: secs(0.9),
                fails: false,
            },
        )
        .adapter(
            "fine",
            Check {
                delay: secs(0.0),
                fails: false,
            },
        );
    if let Some(timeout) = timeout {
        builder = builder.readiness_timeout(timeout);
    }
    builder.build().unwrap()
}

#[tokio::test(start_paused = true)]
async fn adapters_are_asked_at_once_each_within_the_timeout() {
    let service = service(None);
    let started = tokio::time::Instant::now();
    let failures = service.readiness().await;
    // In turn, this would have taken forever (and 1.5 s without the hang).
    assert_eq!(started.elapsed(), DEFAULT_READINESS_TIMEOUT);
    let failing: Vec<(&str, String)> = failures
        .iter()
        .map(|(keyname, error)| (keyname.as_str(), error.code().into_owned()))
        .collect();
    assert_eq!(
        failing,
        [
            ("hangs", "readiness-timeout".to_owned()),
            ("slow_fails", "down".to_owned())
        ]
    );
    assert_eq!(failures[0].1.kind(), ErrorKind::Timeout);
}

#[tokio::test(start_paused = true)]
async fn the_timeout_is_configurable() {
    let service = service(Some(Duration::from_millis(700)));
    let started = tokio::time::Instant::now();
    let failing: Vec<String> = service
        .readiness()
        .await
        .into_iter()
        .map(|(keyname, _)| keyname)
        .collect();
    assert_eq!(started.elapsed(), Duration::from_millis(700));
    // The 0.9 s check that would have passed is now too slow.
    assert_eq!(failing, ["hangs", "slow_fails", "slow_fine"]);
}

// --- what a process does not serve ------------------------------------------

#[test]
fn unserved_triggers_are_named_with_their_kind() {
    let service = Service::builder(metadata())
        .use_case("order", Noop)
        .use_case("ship", Noop)
        .adapter("orders_db", Store)
        .adapter("mailer", Store)
        .unit_of_work(MemoryInbox::new())
        .build()
        .unwrap();
    let unserved = service.unserved_triggers(&[Trigger::Http]);
    assert_eq!(
        unserved,
        [UnservedTrigger {
            use_case: "ship".to_owned(),
            trigger: Trigger::Consumer,
            description: "queue orders.placed".to_owned(),
        }]
    );
    assert!(
        service
            .unserved_triggers(&[Trigger::Http, Trigger::Consumer])
            .is_empty()
    );
}
