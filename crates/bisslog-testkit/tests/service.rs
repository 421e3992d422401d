//! `TestService` drives each trigger kind of a real service through the
//! real routes, consumers and scheduler code, with no socket.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bisslog_core::{Ctx, Error, ErrorKind, UseCase, WebSocketConnections};
use bisslog_http::StatusPolicy;
use bisslog_messaging::{DeadLetterCause, Message};
use bisslog_runtime::Service;
use bisslog_testkit::{
    KitError, RecordingConnections, Settlement, TEST_CONNECTION_ID, TestService, Tick, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

const METADATA: &str = r#"
name: greeter
use_cases:
  greet:
    name: greet
    triggers:
      - type: http
        options: {method: get, path: "/hello/{name}"}
      - type: consumer
        options: {queue: greetings, max_retries: 2, retry_delay: 5}
      - type: websocket
        options: {route_key: greet}
  relay:
    name: relay a message to another connection
    external_interactions:
      - {keyname: connections, type_interaction: websocket, operation: send}
    triggers:
      - type: websocket
        options: {route_key: relay}
  report:
    name: report
    triggers:
      - type: schedule
        keyname: morning
        options:
          cronjob: "0 6 * * *"
          timezone: Europe/Madrid
          event: {period: daily}
          max_attempts: 3
"#;

#[derive(Deserialize, schemars::JsonSchema)]
struct Name {
    name: String,
}

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
struct Greeting {
    message: String,
}

/// Greets, except `nobody` (not found: permanent) and `flaky`
/// (unavailable: transient).
struct Greet;

impl UseCase for Greet {
    type Input = Name;
    type Output = Greeting;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Name) -> Result<Greeting, Error> {
        match input.name.as_str() {
            "nobody" => Err(Error::new(
                ErrorKind::NotFound,
                "unknown-name",
                "nobody is not known here",
            )),
            "flaky" => Err(Error::new(
                ErrorKind::Unavailable,
                "store-down",
                "the store is down",
            )),
            name => Ok(Greeting {
                message: format!("Hello, {name}!"),
            }),
        }
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Relayed {
    to: String,
    text: String,
}

/// Pushes a message to another connection, from the sender's.
struct Relay(RecordingConnections);

impl UseCase for Relay {
    type Input = Relayed;
    type Output = ();
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: Relayed) -> Result<(), Error> {
        let from = ctx.attribute("connection_id").cloned();
        self.0
            .send(&input.to, json!({"from": from, "text": input.text}))
            .await
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Period {
    period: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Report {
    period: String,
    run: u32,
}

/// Fails transiently `failures` times, then reports.
struct MakeReport {
    runs: Arc<AtomicU32>,
    failures: u32,
}

impl UseCase for MakeReport {
    type Input = Period;
    type Output = Report;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Period) -> Result<Report, Error> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        if run <= self.failures {
            return Err(Error::new(ErrorKind::Timeout, "slow-store", "too slow"));
        }
        Ok(Report {
            period: input.period,
            run,
        })
    }
}

fn service(failures: u32, connections: &RecordingConnections) -> (Service, Arc<AtomicU32>) {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    let service = Service::builder(metadata)
        .use_case("greet", Greet)
        .use_case("relay", Relay(connections.clone()))
        .adapter("connections", connections.clone())
        .use_case(
            "report",
            MakeReport {
                runs: Arc::clone(&runs),
                failures,
            },
        )
        .build()
        .unwrap();
    (service, runs)
}

fn kit_failing_reports(failures: u32) -> (TestService, Arc<AtomicU32>) {
    let (service, runs) = service(failures, &RecordingConnections::new());
    (TestService::new(service).unwrap(), runs)
}

fn kit() -> TestService {
    kit_failing_reports(0).0
}

#[tokio::test]
async fn an_http_request_gets_the_output_and_the_transaction_id() {
    let kit = kit();
    let request = http::Request::get("/hello/Ana")
        .header("x-transaction-id", "tx-42")
        .body(())
        .unwrap();
    let answer = kit.request(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.transaction_id(), Some("tx-42"));
    let greeting: Greeting = answer.json().unwrap();
    assert_eq!(greeting.message, "Hello, Ana!");
    assert!(answer.problem().is_err(), "a success is not a problem");
}

#[tokio::test]
async fn an_http_failure_is_the_problem_document_production_sends() {
    let kit = kit();
    let answer = kit.get("/hello/nobody").await.unwrap();
    assert_eq!(answer.status(), 404);
    let problem = answer.problem().unwrap();
    assert_eq!(problem.status, 404);
    assert_eq!(problem.code, "unknown-name");
    assert_eq!(problem.detail, "nobody is not known here");
    assert_eq!(
        Some(problem.transaction_id.as_str()),
        answer.transaction_id()
    );

    // The routes' own refusals too: an unknown path, a method not allowed.
    assert_eq!(
        kit.get("/nowhere").await.unwrap().problem().unwrap().status,
        404
    );
    let wrong_method = kit.post_json("/hello/Ana", &json!({})).await.unwrap();
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(kit.get("/health/live").await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_message_that_succeeds_is_acknowledged() {
    let settled = kit()
        .deliver("greetings", &json!({"name": "Ana"}))
        .await
        .unwrap();
    assert_eq!(settled, Settlement::Acked);
}

#[tokio::test]
async fn a_transient_failure_is_retried_with_the_trigger_delay_until_the_last_attempt() {
    let kit = kit();
    let flaky = || Message::new(&br#"{"name":"flaky"}"#[..]);
    assert_eq!(
        kit.deliver_message("greetings", flaky(), 1).await.unwrap(),
        Settlement::Retried {
            attempt: 1,
            delay: Duration::from_secs(5)
        }
    );
    assert_eq!(
        kit.deliver_message("greetings", flaky(), 2).await.unwrap(),
        Settlement::Retried {
            attempt: 2,
            delay: Duration::from_secs(10)
        }
    );
    let Settlement::DeadLettered {
        queue,
        cause,
        reason,
        attempts,
    } = kit.deliver_message("greetings", flaky(), 3).await.unwrap()
    else {
        panic!("max_retries: 2 allows three deliveries");
    };
    assert_eq!(queue, "greetings.dlq");
    assert_eq!(cause, DeadLetterCause::RetriesExhausted);
    assert!(reason.starts_with("store-down: "), "{reason}");
    assert_eq!(attempts, 3);
}

#[tokio::test]
async fn permanent_failures_and_unreadable_payloads_are_dead_lettered_at_once() {
    let kit = kit();
    let Settlement::DeadLettered { cause, reason, .. } = kit
        .deliver("greetings", &json!({"name": "nobody"}))
        .await
        .unwrap()
    else {
        panic!("not found is permanent");
    };
    assert_eq!(cause, DeadLetterCause::Rejected);
    assert!(reason.contains("unknown-name"), "{reason}");

    let not_json = Message::new(&b"hello?"[..]);
    let Settlement::DeadLettered { cause, .. } =
        kit.deliver_message("greetings", not_json, 1).await.unwrap()
    else {
        panic!("a payload that is not JSON cannot be retried into shape");
    };
    assert_eq!(cause, DeadLetterCause::Malformed);

    let error = kit.deliver("nowhere", &json!({})).await.unwrap_err();
    assert!(matches!(error, KitError::UnknownQueue { .. }));
    assert_eq!(
        error.to_string(),
        "no consumer trigger consumes `nowhere`; the service consumes: `greetings`"
    );
}

#[tokio::test]
async fn a_schedule_tick_runs_with_the_trigger_event() {
    let (kit, runs) = kit_failing_reports(0);
    // 06:00 in Madrid is 05:00 UTC in winter.
    let at: Timestamp = "2026-01-15T05:00:00Z".parse().unwrap();
    let tick = kit.tick("report", at).await.unwrap();
    assert_eq!(
        tick,
        Tick::Ran {
            attempts: 1,
            output: Some(json!({"period": "daily", "run": 1}))
        }
    );
    assert!(kit.tick("report/morning", at).await.unwrap().ran());
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_tick_retries_transient_failures_up_to_max_attempts() {
    let at: Timestamp = "2026-07-15T04:00:00Z".parse().unwrap();
    let (kit, _) = kit_failing_reports(2);
    assert!(matches!(
        kit.tick("report", at).await.unwrap(),
        Tick::Ran { attempts: 3, .. }
    ));
    let (kit, _) = kit_failing_reports(5);
    let Tick::Failed {
        attempts,
        kind,
        code,
        ..
    } = kit.tick("report", at).await.unwrap()
    else {
        panic!("three attempts are not enough for five failures");
    };
    assert_eq!(
        (attempts, kind, code.as_str()),
        (3, ErrorKind::Timeout, "slow-store")
    );
}

#[tokio::test]
async fn a_tick_that_never_comes_or_of_no_trigger_is_refused() {
    let kit = kit();
    let error = kit
        .tick("report", "2026-01-15T06:00:00Z".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "2026-01-15T06:00:00Z is not a tick of `report/morning` (`0 6 * * *`); the next one is 2026-01-16T05:00:00Z"
    );
    let error = kit
        .tick("greet", "2026-01-15T05:00:00Z".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no schedule trigger is `greet`; the schedule triggers are: `report/morning`"
    );
}

#[tokio::test]
async fn a_websocket_message_gets_the_reply_frame() {
    let kit = kit();
    let reply = kit
        .websocket("greet", &json!({"name": "Ana"}))
        .await
        .unwrap();
    assert_eq!(reply, Some(json!({"message": "Hello, Ana!"})));

    let failed = kit
        .websocket("greet", &json!({"name": "nobody"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed["status"], 404);
    assert_eq!(failed["code"], "unknown-name");

    // No such route key and no `$default`: the endpoint's own refusal.
    let refused = kit.websocket("shout", &json!({})).await.unwrap().unwrap();
    assert_eq!(refused["code"], "no-route");
    let malformed = kit.websocket_text("not json").await.unwrap();
    assert_eq!(malformed["code"], "malformed-message");
}

#[tokio::test]
async fn deliveries_side_by_side_each_get_their_own_settlement() {
    let kit = kit();
    let (nobody, ana) = (json!({"name": "nobody"}), json!({"name": "Ana"}));
    let (rejected, acked) = tokio::join!(
        kit.deliver("greetings", &nobody),
        kit.deliver("greetings", &ana),
    );
    assert!(matches!(
        rejected.unwrap(),
        Settlement::DeadLettered {
            cause: DeadLetterCause::Rejected,
            ..
        }
    ));
    assert_eq!(acked.unwrap(), Settlement::Acked);
}

#[tokio::test]
async fn a_use_case_that_pushes_to_another_connection_is_seen_by_the_fake() {
    let connections = RecordingConnections::new();
    let kit = TestService::new(service(0, &connections).0).unwrap();
    let reply = kit
        .websocket("relay", &json!({"to": "c-2", "text": "hi"}))
        .await
        .unwrap();
    assert_eq!(reply, None, "relay replies nothing to the sender");
    assert_eq!(
        connections.sent("c-2"),
        vec![json!({"from": TEST_CONNECTION_ID, "text": "hi"})]
    );
    connections.close("c-2").await.unwrap();
    let gone = kit
        .websocket("relay", &json!({"to": "c-2", "text": "again"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone["status"], 404);
    assert_eq!(gone["code"], "connection-gone");
}

#[tokio::test]
async fn the_http_side_is_configured_as_the_composition_configures_it() {
    let kit = TestService::with_http(service(0, &RecordingConnections::new()).0, |http| {
        http.status_policy(
            StatusPolicy::default().with(ErrorKind::NotFound, http::StatusCode::GONE),
        )
    })
    .unwrap();
    let answer = kit.get("/hello/nobody").await.unwrap();
    assert_eq!(answer.status(), 410);
    assert_eq!(answer.problem().unwrap().code, "unknown-name");
}
