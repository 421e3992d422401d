//! `Service::build` refuses code that disagrees with its metadata, naming
//! every disagreement at once: each `BuildProblem`, and `blank()` as the
//! one way to run without an adapter on purpose.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog_core::{Adapter, Ctx, Error, NoInput, UseCase};
use bisslog_runtime::{BuildProblem, MemoryInbox, Service};

struct Noop;

impl UseCase for Noop {
    type Input = NoInput;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
        Ok(())
    }
}

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

fn metadata() -> bisslog_schema::Service {
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
