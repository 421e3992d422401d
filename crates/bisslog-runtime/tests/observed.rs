//! The observation document of a real service: calls made through the
//! guards the builder hands out are seen per use case, a call from a use
//! case that did not declare the interaction included.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog_core::{Ctx, Error, NoInput, Trigger, UseCase};
use bisslog_runtime::Service;
use bisslog_runtime::mapper::Mapped;
use bisslog_runtime::resilience::{AttemptError, Interaction, ObservedInteractions, ObservedUse};

const METADATA: &str = "
name: registry
use_cases:
  import_schemas:
    external_interactions:
      - {keyname: company registry, type_interaction: external_system}
  get_schema:
    external_interactions:
      - {keyname: schemas db, type_interaction: database}
";

/// Calls each of its interactions once.
struct Calls(Vec<Interaction>);

impl UseCase for Calls {
    type Input = NoInput;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
        for interaction in &self.0 {
            interaction
                .call(|_| async { Ok::<_, AttemptError>(()) })
                .await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_service_reports_every_use_case_seen_calling_through_its_guards() {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let builder = Service::builder(metadata);
    let registry = builder.interaction("company registry");
    let db = builder.interaction("schemas db");
    let service = builder
        // Declares only the database, and also asks the registry.
        .use_case("get_schema", Calls(vec![db, registry]))
        .use_case("import_schemas", Calls(vec![]))
        .blank("company registry")
        .blank("schemas db")
        .build()
        .unwrap();
    assert_eq!(
        ObservedInteractions::of(&service),
        ObservedInteractions {
            service: "registry".to_owned(),
            uses: vec![],
        }
    );
    let get_schema = service.use_case("get_schema").unwrap();
    for _ in 0..2 {
        let input = Mapped::Owned(serde_json::json!({}));
        get_schema
            .call(Ctx::new("get_schema", Trigger::Direct), &input)
            .await
            .unwrap();
    }
    assert_eq!(
        ObservedInteractions::of(&service).uses,
        [
            ObservedUse::new("get_schema", "company registry"),
            ObservedUse::new("get_schema", "schemas db"),
        ]
    );
}

/// A guard for a keyname the metadata does not declare is the service's
/// too: its uses are in the report, as undeclared.
#[tokio::test]
async fn guards_for_undeclared_keynames_are_reported() {
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: s\nuse_cases:\n  a:\n    triggers: [{type: http, options: {method: get, path: /a}}]\n",
    )
    .into_service()
    .unwrap();
    let builder = bisslog_runtime::Service::builder(metadata);
    let mailer = builder.interaction("mailer");
    let service = builder.use_case("a", Mails(mailer)).build().unwrap();
    service
        .use_case("a")
        .unwrap()
        .call(
            bisslog_core::Ctx::new("a", bisslog_core::Trigger::Direct),
            &bisslog_runtime::mapper::Mapped::Owned(serde_json::json!({})),
        )
        .await
        .unwrap();
    assert_eq!(
        service.observed_interactions(),
        [("a".to_owned(), "mailer".to_owned())]
    );
}

struct Mails(bisslog_runtime::resilience::Interaction);

impl bisslog_core::UseCase for Mails {
    type Input = serde_json::Value;
    type Output = serde_json::Value;
    type Error = bisslog_core::Error;

    async fn run(
        &self,
        _: &bisslog_core::Ctx,
        _: serde_json::Value,
    ) -> Result<serde_json::Value, bisslog_core::Error> {
        self.0
            .call(|_| async {
                Ok::<_, bisslog_runtime::resilience::AttemptError>(serde_json::json!(null))
            })
            .await
    }
}
