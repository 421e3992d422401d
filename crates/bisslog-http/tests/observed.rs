//! `GET /interactions/observed` over a real socket: the use cases seen
//! calling each external interaction, an undeclared call included; the
//! endpoint turned off; a metadata route on its path refused.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog_core::{Ctx, Error, NoInput, UseCase};
use bisslog_http::{HttpError, HttpServer, OBSERVED_INTERACTIONS_PATH};
use bisslog_runtime::Service;
use bisslog_runtime::resilience::{AttemptError, Interaction};
use tokio::sync::oneshot;

const METADATA: &str = r#"
name: registry
use_cases:
  get_schema:
    triggers:
      - {type: http, options: {method: get, path: /schema}}
    external_interactions:
      - {keyname: schemas db, type_interaction: database}
  import_schemas:
    triggers:
      - {type: http, options: {method: post, path: /import}}
    external_interactions:
      - {keyname: company registry, type_interaction: external_system}
"#;

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

fn service(metadata: &str) -> Service {
    let metadata = bisslog_schema::validate_str("metadata.yml", metadata)
        .into_service()
        .unwrap();
    let builder = Service::builder(metadata);
    let db = builder.interaction("schemas db");
    let registry = builder.interaction("company registry");
    builder
        // Declares only the database, and also asks the registry.
        .use_case("get_schema", Calls(vec![db, registry]))
        .use_case("import_schemas", Calls(vec![]))
        .blank("schemas db")
        .blank("company registry")
        .build()
        .unwrap()
}

/// A server on 127.0.0.1; its base URL and what stops it.
async fn start(endpoint: bool) -> (String, oneshot::Sender<()>) {
    let server = HttpServer::builder(service(METADATA))
        .observed_interactions_endpoint(endpoint)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve_until(listener, async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

#[tokio::test]
async fn the_use_cases_seen_calling_each_interaction_are_served_as_json() {
    let (base, stop) = start(true).await;
    let client = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap();
    let observed = format!("{base}{OBSERVED_INTERACTIONS_PATH}");
    let before: serde_json::Value = client
        .get(&observed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        before,
        serde_json::json!({"service": "registry", "uses": []})
    );

    let answer = client.get(format!("{base}/schema")).send().await.unwrap();
    assert_eq!(answer.status(), 204, "a use case with no output");
    let response = client.get(&observed).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        document,
        serde_json::json!({
            "service": "registry",
            "uses": [
                {"use_case": "get_schema", "interaction": "company registry"},
                {"use_case": "get_schema", "interaction": "schemas db"},
            ],
        })
    );
    let _ = stop.send(());
}

#[tokio::test]
async fn the_endpoint_can_be_turned_off() {
    let (base, stop) = start(false).await;
    let response = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap()
        .get(format!("{base}{OBSERVED_INTERACTIONS_PATH}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let _ = stop.send(());
}

#[test]
fn a_metadata_route_on_its_path_is_a_conflict() {
    let taken = METADATA.replace("path: /schema}", "path: /interactions/observed}");
    let error = HttpServer::builder(service(&taken)).build().err().unwrap();
    assert!(
        matches!(&error, HttpError::RouteConflict { path, .. } if path == OBSERVED_INTERACTIONS_PATH),
        "{error}"
    );
    // Turned off, the path is the use case's.
    assert!(
        HttpServer::builder(service(&taken))
            .observed_interactions_endpoint(false)
            .build()
            .is_ok()
    );
}
