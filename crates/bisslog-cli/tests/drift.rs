//! `bisslog drift`, run as a user runs it: golden outputs for fixture
//! observations, exit codes, and a real service whose use cases call
//! through their guards (one interaction declared, one not), observed by
//! the test kit and served by a running server.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::path::{Path, PathBuf};

use bisslog_core::{Ctx, Error, NoInput, UseCase};
use bisslog_http::HttpServer;
use bisslog_runtime::Service;
use bisslog_runtime::resilience::{AttemptError, Interaction};
use bisslog_testkit::TestService;
use support::{assert_golden, bisslog, stderr, stdout};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drift")
}

#[test]
fn human_output_lists_each_finding_per_use_case_and_exits_1_on_an_undeclared_use() {
    let output = bisslog(
        &fixtures(),
        &["drift", "metadata.yml", "--observed", "observed"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    assert_golden("drift-undeclared.txt", &stdout(&output));
}

#[test]
fn json_output_has_every_use_case_with_its_lists() {
    let output = bisslog(
        &fixtures(),
        &[
            "drift",
            "metadata.yml",
            "--observed",
            "observed",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["undeclared"], 1);
    assert_eq!(document["never_used"], 1);
    assert!(
        document["note"]
            .as_str()
            .unwrap()
            .contains("Interaction::call")
    );
    assert_golden("drift-undeclared.json", &text);
}

#[test]
fn observations_matching_the_metadata_are_no_drift_and_exit_0() {
    for format in ["text", "human"] {
        let output = bisslog(
            &fixtures(),
            &[
                "drift",
                "metadata.yml",
                "--observed",
                "clean.json",
                "--format",
                format,
            ],
        );
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(
            stdout(&output),
            "service `registry`: no drift (observed: clean.json)\n"
        );
    }
}

#[test]
fn a_declaration_never_used_alone_does_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    let observed = dir.path().join("observed.json");
    std::fs::write(
        &observed,
        r#"{"service": "registry", "uses": [{"use_case": "get_schema", "interaction": "schemas db"}]}"#,
    )
    .unwrap();
    let output = bisslog(
        &fixtures(),
        &[
            "drift",
            "metadata.yml",
            "--observed",
            observed.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert_eq!(text.matches("NEVER-USED").count(), 3, "{text}");
    assert!(!text.contains("UNDECLARED"));
    assert!(text.contains("\nnote: "), "{text}");
}

#[test]
fn bad_input_is_exit_2_with_a_message() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["drift", "metadata.yml", "--observed", "not-a-document.json"],
            "not-a-document.json is not an observation document",
        ),
        (
            &[
                "drift",
                "metadata.yml",
                "--observed",
                "observed/4302-0.json",
            ],
            "no observations of service `registry` in observed/4302-0.json; it holds `audit`",
        ),
        (
            &["drift", "metadata.yml", "--observed", "missing"],
            "cannot read missing",
        ),
        (
            &["drift", "missing.yml", "--observed", "observed"],
            "missing.yml",
        ),
        (
            &[
                "drift",
                "metadata.yml",
                "--from",
                "https://registry.example",
            ],
            "is not an http:// URL",
        ),
    ];
    for (args, message) in cases {
        let output = bisslog(&fixtures(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "", "{args:?}");
    }
    // Neither source, or both: a usage error.
    for args in [
        &["drift", "metadata.yml"][..],
        &[
            "drift",
            "metadata.yml",
            "--observed",
            "observed",
            "--from",
            "http://127.0.0.1:1",
        ],
    ] {
        assert_eq!(
            bisslog(&fixtures(), args).status.code(),
            Some(2),
            "{args:?}"
        );
    }
}

#[test]
fn metadata_with_errors_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("metadata.yml"),
        "name: registry\nuse_cases: 3\n",
    )
    .unwrap();
    let observed = fixtures().join("clean.json");
    let output = bisslog(
        dir.path(),
        &[
            "drift",
            "metadata.yml",
            "--observed",
            observed.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("nothing compared"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_directory_with_no_observations_says_how_to_get_some() {
    let dir = tempfile::tempdir().unwrap();
    let output = bisslog(
        &fixtures(),
        &[
            "drift",
            "metadata.yml",
            "--observed",
            dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("BISSLOG_OBSERVED_INTERACTIONS"),
        "{}",
        stderr(&output)
    );
}

// --- a real service -----------------------------------------------------------

/// Calls each of its interactions once, through its guard.
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

/// The fixture's service: `get_schema` declares only the database and
/// also asks the registry; `notify_owner` is never called.
fn service() -> Service {
    let text = std::fs::read_to_string(fixtures().join("metadata.yml")).unwrap();
    let metadata = bisslog_schema::validate_str("metadata.yml", &text)
        .into_service()
        .unwrap();
    let builder = Service::builder(metadata);
    let db = builder.interaction("schemas db");
    let registry = builder.interaction("company registry");
    let mailer = builder.interaction("mailer");
    builder
        .use_case("get_schema", Calls(vec![db.clone(), registry.clone()]))
        .use_case("import_schemas", Calls(vec![registry, db]))
        .use_case("notify_owner", Calls(vec![mailer]))
        .blank("schemas db")
        .blank("company registry")
        .blank("mailer")
        .build()
        .unwrap()
}

/// Drives the calls the fixture's observations hold.
async fn drive(kit: &TestService) {
    assert_eq!(kit.get("/schemas/language").await.unwrap().status(), 204);
    assert_eq!(kit.post_json("/imports", &()).await.unwrap().status(), 204);
}

#[tokio::test]
async fn a_test_run_observed_by_the_kit_reports_exactly_the_undeclared_call() {
    let dir = tempfile::tempdir().unwrap();
    let kit = TestService::new(service()).unwrap();
    drive(&kit).await;
    kit.write_observed_interactions(dir.path()).unwrap();
    let observed = dir.path().to_str().unwrap().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        bisslog(
            &fixtures(),
            &[
                "drift",
                "metadata.yml",
                "--observed",
                &observed,
                "--format",
                "json",
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_golden("drift-undeclared.json", &stdout(&output));
}

/// A server on 127.0.0.1 for `service`; its base URL and what stops it.
async fn serve(service: Service, endpoint: bool) -> (String, tokio::sync::oneshot::Sender<()>) {
    let server = HttpServer::builder(service)
        .observed_interactions_endpoint(endpoint)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve_until(listener, async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_service_is_read_from_its_endpoint() {
    let service = service();
    let kit = TestService::new(service.clone()).unwrap();
    drive(&kit).await;
    let (base, stop) = serve(service, true).await;
    let from = base.clone();
    let output = tokio::task::spawn_blocking(move || {
        bisslog(&fixtures(), &["drift", "metadata.yml", "--from", &from])
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let findings: Vec<&str> = text.lines().take(2).collect();
    assert_eq!(
        findings,
        [
            "UNDECLARED  use case `get_schema` calls `company registry` without declaring it",
            "NEVER-USED  use case `notify_owner` declares `mailer`, never seen called",
        ]
    );
    assert!(
        text.contains(&format!("(observed: {base}/interactions/observed)")),
        "{text}"
    );
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_not_serving_the_endpoint_gets_a_hint() {
    let (base, stop) = serve(service(), false).await;
    let output = tokio::task::spawn_blocking(move || {
        bisslog(&fixtures(), &["drift", "metadata.yml", "--from", &base])
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("/interactions/observed: 404"), "{text}");
    assert!(text.contains("hint: "), "{text}");
    let _ = stop.send(());
}
