//! `/openapi.json` and `/docs` of a running server, over a real socket:
//! the metadata's document typed by the registered use cases (no
//! hand-written description), every status the server answers listed for
//! its operation, and a page that needs no network.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog_core::{Completion, Ctx, Error, ErrorKind, UseCase, UseCaseError};
use bisslog_http::{ApiDocs, HttpConfig, HttpServer};
use bisslog_runtime::Service;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const METADATA: &str = r#"
name: calculator
description: Adds numbers
use_cases:
  add:
    name: add
    description: Adds two numbers
    criticality: high
    triggers:
      - type: http
        options: {method: post, path: "/sums/{label}", mapper: {path_query.label: label, body.a: a, body.b: b}}
  forget:
    name: forget
    triggers: [{type: http, options: {method: delete, path: "/sums/{label}", mapper: {path_query.label: label}}}]
  register:
    name: register
    triggers:
      - type: http
        options: {method: post, path: "/labels", rate_limit: 1000r/s}
  annotate:
    name: annotate
    triggers:
      - type: http
        options: {method: put, path: "/labels/{label}/note", mapper: {path_query.label: label, body: note}}
"#;

#[derive(Deserialize, schemars::JsonSchema)]
struct AddInput {
    /// The name of the sum.
    label: String,
    a: i64,
    b: i64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Sum {
    label: String,
    result: i64,
}

struct Add;
impl UseCase for Add {
    type Input = AddInput;
    type Output = Sum;
    type Error = Error;
    async fn run(&self, _: &Ctx, i: AddInput) -> Result<Sum, Error> {
        Ok(Sum {
            label: i.label,
            result: i.a + i.b,
        })
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct LabelInput {
    label: String,
}

struct Forget;
impl UseCase for Forget {
    type Input = LabelInput;
    type Output = ();
    type Error = Error;
    async fn run(&self, _: &Ctx, i: LabelInput) -> Result<(), Error> {
        drop(i.label);
        Ok(())
    }
}

/// Registering: a 201 whose failures are exactly a conflict.
#[derive(Deserialize, schemars::JsonSchema)]
struct NewLabel {
    label: String,
    #[serde(default)]
    colour: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("the label `{0}` already exists")]
struct Taken(String);

impl UseCaseError for Taken {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Conflict
    }
    fn kinds() -> &'static [ErrorKind] {
        &[ErrorKind::Conflict]
    }
}

struct Register;
impl UseCase for Register {
    type Input = NewLabel;
    type Output = NewLabelOutput;
    type Error = Taken;
    const COMPLETION: Completion = Completion::Created;
    async fn run(&self, _: &Ctx, i: NewLabel) -> Result<NewLabelOutput, Taken> {
        drop(i.colour);
        if i.label == "taken" {
            return Err(Taken(i.label));
        }
        Ok(NewLabelOutput { label: i.label })
    }
}

#[derive(Serialize, schemars::JsonSchema)]
struct NewLabelOutput {
    label: String,
}

/// A whole body filling one field.
#[derive(Deserialize, schemars::JsonSchema)]
struct NoteInput {
    label: String,
    note: Note,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Note {
    text: String,
}

struct Annotate;
impl UseCase for Annotate {
    type Input = NoteInput;
    type Output = ();
    type Error = std::convert::Infallible;
    async fn run(&self, _: &Ctx, i: NoteInput) -> Result<(), std::convert::Infallible> {
        drop((i.label, i.note.text));
        Ok(())
    }
}

fn service() -> Service {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    Service::builder(metadata)
        .use_case("add", Add)
        .use_case("forget", Forget)
        .use_case("register", Register)
        .use_case("annotate", Annotate)
        .build()
        .unwrap()
}

fn docs() -> ApiDocs {
    ApiDocs::new().version("2.0.0")
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let response = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap()
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, response.text().await.unwrap())
}

#[tokio::test]
async fn a_running_server_serves_its_openapi_document_and_an_offline_docs_page() {
    let server = HttpServer::builder(service())
        .openapi(docs())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));

    let (status, media, body) = get(addr, "/openapi.json").await;
    assert_eq!((status, media.as_str()), (200, "application/json"));
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], "2.0.0");
    let add = &doc["paths"]["/sums/{label}"]["post"];
    assert_eq!(add["operationId"], "add");
    assert_eq!(add["x-bisslog-criticality"], "high");
    // The body holds the fields the mapper reads from it, typed as the
    // input fields they fill.
    let body_schema = &add["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body_schema["properties"]["a"]["type"], "integer");
    assert_eq!(body_schema["properties"]["b"]["type"], "integer");
    assert!(body_schema["properties"].get("label").is_none());
    let ok = &add["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(ok["$ref"], "#/components/schemas/Sum");
    assert_eq!(
        doc["components"]["schemas"]["Sum"]["properties"]["result"]["type"],
        "integer"
    );
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // A unit output answers 204.
    let forget = &doc["paths"]["/sums/{label}"]["delete"]["responses"];
    assert!(forget.get("200").is_none());
    assert_eq!(forget["204"]["description"], "done; nothing to return");
    check_with_openapi_spec_validator(&body);

    let (status, media, page) = get(addr, "/docs").await;
    assert_eq!((status, media.as_str()), (200, "text/html; charset=utf-8"));
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("<title>calculator</title>"));
    assert!(page.contains("id=\"add\""));
    assert!(page.contains("/sums/{label}"));
    assert!(
        !page.contains("<script") && !page.contains("src=") && !page.contains("<link"),
        "the page loads nothing from anywhere"
    );

    // The use cases are still served.
    let sum: Value = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap()
        .post(format!("http://{addr}/sums/x"))
        .json(&json!({"a": 2, "b": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sum, json!({"label": "x", "result": 5}));

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// The served document, checked by `openapi-spec-validator` when
/// `BISSLOG_TEST_OPENAPI_VALIDATOR` names it (`.ci/run` does; under
/// `CI=true` it must).
fn check_with_openapi_spec_validator(document: &str) {
    let Some(validator) = std::env::var_os("BISSLOG_TEST_OPENAPI_VALIDATOR") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "BISSLOG_TEST_OPENAPI_VALIDATOR is not set: under CI=true this check must run"
        );
        eprintln!("skipping: set BISSLOG_TEST_OPENAPI_VALIDATOR to check the served document");
        return;
    };
    // One file per check: the tests of this binary run at once, and a
    // path shared by two of them was removed under the other's validator.
    static CHECKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("bisslog-served-{}-{n}.json", std::process::id()));
    std::fs::write(&path, document).unwrap();
    let output = std::process::Command::new(validator)
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "openapi-spec-validator on the served document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn without_openapi_the_documents_are_not_served() {
    let server = HttpServer::builder(service()).build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    assert_eq!(get(addr, "/openapi.json").await.0, 404);
    assert_eq!(get(addr, "/docs").await.0, 404);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// Serves the documented service until the returned sender is used.
async fn start() -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    // A small body limit: the 413 below is answered to a body the socket
    // takes whole, so the refusal cannot race the sending.
    let config = HttpConfig {
        body_limit: 256,
        ..HttpConfig::default()
    };
    let server = HttpServer::builder(service())
        .config(config)
        .openapi(docs())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    (addr, stop, task)
}

#[tokio::test]
async fn bodies_statuses_and_failures_come_from_the_registered_types() {
    let (addr, stop, task) = start().await;
    let doc: Value = serde_json::from_str(&get(addr, "/openapi.json").await.2).unwrap();
    let statuses = |op: &Value| -> Vec<String> {
        op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };

    // No mapper: the body is the input; `label` is required, `colour` not.
    let register = &doc["paths"]["/labels"]["post"];
    assert_eq!(register["requestBody"]["required"], true);
    let body = &register["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["required"], json!(["label"]));
    assert!(body["properties"]["colour"].is_object());
    // 201 from `COMPLETION`; 409 the only use-case failure besides the
    // input's (400, 422); 413 and 415 for the body, 429 for the rate
    // limit; 500, 503 and 504 always.
    assert_eq!(
        statuses(register),
        [
            "201", "400", "409", "413", "415", "422", "429", "500", "503", "504"
        ]
    );
    assert_eq!(
        register["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewLabelOutput"
    );
    assert_eq!(
        register["responses"]["409"]["$ref"],
        "#/components/responses/Conflict"
    );
    assert_eq!(
        doc["components"]["responses"]["Conflict"]["content"]["application/problem+json"]["schema"]
            ["$ref"],
        "#/components/schemas/Problem"
    );

    // `body: note`: the body is the `note` field, required as it is.
    let annotate = &doc["paths"]["/labels/{label}/note"]["put"];
    assert_eq!(annotate["requestBody"]["required"], true);
    assert_eq!(
        annotate["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Note"
    );
    // An infallible use case fails only as the transport does.
    assert_eq!(
        statuses(annotate),
        ["204", "400", "413", "415", "422", "500", "503", "504"]
    );

    // `bisslog_core::Error` can be of any kind: every status it maps to.
    let add = &doc["paths"]["/sums/{label}"]["post"];
    for status in ["401", "403", "404", "409"] {
        assert!(add["responses"].get(status).is_some(), "{status}");
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn every_status_the_server_answers_is_documented_for_its_operation() {
    let (addr, stop, task) = start().await;
    let doc: Value = serde_json::from_str(&get(addr, "/openapi.json").await.2).unwrap();
    let client = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap();
    let url = format!("http://{addr}/labels");
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (client.post(&url).json(&json!({"label": "a"})), 201),
        (client.post(&url).json(&json!({"label": "taken"})), 409),
        (client.post(&url).json(&json!({"colour": "red"})), 422),
        (
            client
                .post(&url)
                .header("content-type", "application/json")
                .body("{"),
            400,
        ),
        (
            client
                .post(&url)
                .header("content-type", "text/plain")
                .body("label"),
            415,
        ),
        (
            client
                .post(&url)
                .header("content-type", "application/json")
                .body(vec![b' '; 4096]),
            413,
        ),
    ];
    let operation = &doc["paths"]["/labels"]["post"];
    for (request, expected) in cases {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert_eq!(status, expected);
        let documented = &operation["responses"][status.to_string()];
        assert!(documented.is_object(), "{status} is not documented");
        if status >= 400 {
            let media = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(media, "application/problem+json", "{status}");
        }
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

const GUARDED: &str = r#"
name: guarded
use_cases:
  add:
    name: add
    authorization: {roles: [adder, admin], scopes: [sums.write]}
    triggers:
      - type: http
        options: {method: post, path: "/sums/{label}", mapper: {path_query.label: label, body.a: a, body.b: b}}
  forget:
    name: forget
    authorization: {owner: label}
    triggers: [{type: http, options: {method: delete, path: "/sums/{label}", authenticator: partner, mapper: {path_query.label: label}}}]
  register:
    name: register
    authorization: public
    triggers: [{type: http, options: {method: post, path: "/labels"}}]
  annotate:
    name: annotate
    triggers:
      - type: http
        options: {method: put, path: "/labels/{label}/note", authenticator: keys, mapper: {path_query.label: label, body: note}}
"#;

/// A service's own authenticator, which describes no scheme.
struct Partner;
impl bisslog_http::Authenticator for Partner {
    fn authenticate<'a>(
        &'a self,
        _: &'a http::request::Parts,
    ) -> bisslog_core::BoxFuture<'a, Result<serde_json::Map<String, Value>, Error>> {
        Box::pin(async { Err(Error::unauthenticated("no-partner", "partners only")) })
    }
}

fn guarded_server() -> HttpServer {
    use bisslog_http::api_key::{ApiKeys, hash_key};
    use bisslog_http::jwt::{JwtAuthenticator, JwtKeys};
    let metadata = bisslog_schema::validate_str("metadata.yml", GUARDED)
        .into_service()
        .unwrap();
    let service = Service::builder(metadata)
        .use_case("add", Add)
        .use_case("forget", Forget)
        .use_case("register", Register)
        .use_case("annotate", Annotate)
        .build()
        .unwrap();
    let jwt = JwtAuthenticator::builder(JwtKeys::hmac_secret([7u8; 32]).unwrap())
        .build()
        .unwrap();
    let keys = ApiKeys::parse(&format!("importer:{}\n", hash_key("k-1"))).unwrap();
    HttpServer::builder(service)
        .openapi(docs())
        .authenticator("jwt", jwt)
        .authenticator("keys", keys)
        .authenticator("partner", Partner)
        .authenticate_all_with("jwt")
        .build()
        .unwrap()
}

/// The served document of a guarded service is the golden
/// `tests/golden/guarded.openapi.json` (`BLESS=1` rewrites it).
#[tokio::test]
async fn the_served_document_names_the_authenticator_guarding_each_route() {
    let server = guarded_server();
    let printed = server.openapi_document(&docs());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));
    let (_, _, body) = get(addr, "/openapi.json").await;
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc, printed, "served and printed documents are the same");

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["jwt"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": schemes["jwt"]["description"].clone()})
    );
    assert_eq!(schemes["keys"]["type"], "apiKey");
    assert_eq!(schemes["keys"]["name"], "x-api-key");
    assert_eq!(schemes["partner"]["scheme"], "bearer");
    let add = &doc["paths"]["/sums/{label}"]["post"];
    assert_eq!(add["security"], json!([{"jwt": ["sums.write"]}]));
    assert_eq!(
        add["x-bisslog-authorization"],
        json!({"roles": ["adder", "admin"], "scopes": ["sums.write"]})
    );
    let forget = &doc["paths"]["/sums/{label}"]["delete"];
    assert_eq!(forget["security"], json!([{"partner": []}]));
    let register = &doc["paths"]["/labels"]["post"];
    assert_eq!(register["security"], json!([]));
    assert!(register["responses"].get("401").is_none());
    let annotate = &doc["paths"]["/labels/{label}/note"]["put"];
    assert_eq!(annotate["security"], json!([{"keys": []}]));

    // What the document says is what the server answers.
    let client = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap();
    let refused = client
        .post(format!("http://{addr}/sums/x"))
        .json(&json!({"a": 1, "b": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    assert!(add["responses"]["401"].is_object());
    let open = client
        .post(format!("http://{addr}/labels"))
        .json(&json!({"label": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status().as_u16(), 201, "public: no credentials needed");

    let text = bisslog_openapi::DocumentFormat::Json.write(&doc);
    let golden =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/guarded.openapi.json");
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &text).unwrap();
    } else {
        let expected = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("{} is missing; run with BLESS=1", golden.display()));
        assert!(
            expected == text,
            "{} differs (run with BLESS=1 to accept, then review the diff)",
            golden.display()
        );
    }
    check_with_openapi_spec_validator(&body);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
