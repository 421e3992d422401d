//! The runtime loop of a real function binary (`lambda-echo`) against a
//! local mock of the Lambda Runtime API, and the cold-start benchmark.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bisslog_lambda::SCHEDULE_KEY;
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

/// How long any one step may take before the test fails.
const STEP: Duration = Duration::from_secs(30);

/// What the function posted for an invocation.
#[derive(Debug)]
struct Outcome {
    id: String,
    /// `response`, `error`, or `init-error`.
    kind: &'static str,
    body: Value,
    at: Instant,
}

#[derive(Clone)]
struct Api {
    events: Arc<Mutex<mpsc::UnboundedReceiver<(String, Value)>>>,
    outcomes: mpsc::UnboundedSender<Outcome>,
}

/// A mock Runtime API on 127.0.0.1: invocations are queued with `invoke`,
/// what the function posts comes out of `outcome`.
struct MockRuntimeApi {
    address: SocketAddr,
    events: mpsc::UnboundedSender<(String, Value)>,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
    server: tokio::task::JoinHandle<()>,
}

impl MockRuntimeApi {
    async fn start() -> Self {
        let (events, queued) = mpsc::unbounded_channel();
        let (posted, outcomes) = mpsc::unbounded_channel();
        let api = Api {
            events: Arc::new(Mutex::new(queued)),
            outcomes: posted,
        };
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(|s, p, b| record(s, p, b, "response")),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(|s, p, b| record(s, p, b, "error")),
            )
            .route(
                "/2018-06-01/runtime/init/error",
                post(
                    |State(api): State<Api>, body: axum::body::Bytes| async move {
                        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let _ = api.outcomes.send(Outcome {
                            id: String::new(),
                            kind: "init-error",
                            body,
                            at: Instant::now(),
                        });
                        StatusCode::ACCEPTED
                    },
                ),
            )
            .with_state(api);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            address,
            events,
            outcomes,
            server,
        }
    }

    fn invoke(&self, id: &str, event: Value) {
        self.events.send((id.to_owned(), event)).unwrap();
    }

    /// The next thing `function` posts; fails at once if it exits.
    async fn outcome(&mut self, function: &mut tokio::process::Child) -> Outcome {
        let posted = tokio::time::timeout(STEP, async {
            tokio::select! {
                outcome = self.outcomes.recv() => outcome.expect("the mock is running"),
                status = function.wait() => panic!("the function exited: {status:?}"),
            }
        });
        posted.await.expect("the function answered in time")
    }

    /// Starts the function binary against this API.
    fn spawn(&self, binary: &str) -> tokio::process::Child {
        self.spawn_with(binary, &[])
    }

    /// Starts the function binary against this API with more variables.
    fn spawn_with(&self, binary: &str, variables: &[(&str, &str)]) -> tokio::process::Child {
        tokio::process::Command::new(binary)
            .envs(variables.iter().copied())
            .env("AWS_LAMBDA_RUNTIME_API", self.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "lambda-echo")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/lambda-echo")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("RUST_LOG", "error")
            // As the generated template sets it: CloudFormation names queues.
            .env(
                bisslog_lambda::QUEUES_VARIABLE,
                r#"{"echoes": "arn:aws:sqs:eu-west-1:123456789012:stack-EchoesQueue-1X2Y"}"#,
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the function binary starts")
    }
}

impl Drop for MockRuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `GET /next`: the next queued invocation, with Lambda's headers.
async fn next(State(api): State<Api>) -> impl IntoResponse {
    let Some((id, event)) = api.events.lock().await.recv().await else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:lambda-echo"
            .parse()
            .unwrap(),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=1;Sampled=0"
            .parse()
            .unwrap(),
    );
    headers.insert("content-type", "application/json".parse().unwrap());
    (StatusCode::OK, headers, event.to_string())
}

async fn record(
    State(api): State<Api>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
    kind: &'static str,
) -> StatusCode {
    let at = Instant::now();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = api.outcomes.send(Outcome { id, kind, body, at });
    StatusCode::ACCEPTED
}

fn http_api_event() -> Value {
    json!({
        "version": "2.0",
        "routeKey": "POST /echo/{id}",
        "rawPath": "/echo/7",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/echo/7"}, "stage": "$default"},
        "body": "{\"x\": 1}",
        "isBase64Encoded": false
    })
}

#[tokio::test]
async fn a_panicking_use_case_is_an_invocation_error_and_the_next_invocation_succeeds() {
    let mut api = MockRuntimeApi::start().await;
    let mut function = api.spawn(env!("CARGO_BIN_EXE_lambda-echo"));

    api.invoke(
        "req-1",
        json!({SCHEDULE_KEY: {"use_case": "boom", "trigger": 0}}),
    );
    api.invoke("req-2", http_api_event());
    api.invoke(
        "req-3",
        json!({"Records": [{
            "messageId": "m-1",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:stack-EchoesQueue-1X2Y",
            "body": "{\"n\": 1}"
        }]}),
    );

    let boom = api.outcome(&mut function).await;
    assert_eq!(
        (boom.id.as_str(), boom.kind),
        ("req-1", "error"),
        "{boom:?}"
    );
    assert_eq!(boom.body["errorType"], "bisslog::UseCaseFailed");
    assert!(
        boom.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("the use case `boom` panicked: boom"),
        "{boom:?}"
    );

    let echo = api.outcome(&mut function).await;
    assert_eq!(
        (echo.id.as_str(), echo.kind),
        ("req-2", "response"),
        "{echo:?}"
    );
    assert_eq!(echo.body["statusCode"], 200);
    assert_eq!(echo.body["body"], r#"{"id":"7","x":1}"#);

    let batch = api.outcome(&mut function).await;
    assert_eq!((batch.id.as_str(), batch.kind), ("req-3", "response"));
    assert_eq!(batch.body, json!({"batchItemFailures": []}));

    assert!(
        function.try_wait().unwrap().is_none(),
        "the function keeps running"
    );
    function.kill().await.unwrap();
}

/// An OTLP/HTTP receiver on 127.0.0.1: the names of the spans it was sent.
async fn otlp_receiver() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message as _;

    let names = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = names.clone();
    let router = Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| async move {
            let Ok(request) = ExportTraceServiceRequest::decode(body) else {
                return StatusCode::BAD_REQUEST;
            };
            let spans = request
                .resource_spans
                .into_iter()
                .flat_map(|r| r.scope_spans)
                .flat_map(|s| s.spans);
            kept.lock().unwrap().extend(spans.map(|span| span.name));
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (endpoint, names)
}

/// Lambda freezes the environment once it has the response: the runtime
/// loop flushes each invocation's spans before posting it. The batch delay
/// is ten minutes and the function keeps running, so only that flush can
/// have sent them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invocations_spans_are_exported_before_its_response() {
    let (endpoint, names) = otlp_receiver().await;
    let mut api = MockRuntimeApi::start().await;
    let mut function = api.spawn_with(
        env!("CARGO_BIN_EXE_lambda-echo"),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    );
    for (round, id) in ["req-1", "req-2"].into_iter().enumerate() {
        api.invoke(id, http_api_event());
        let echo = api.outcome(&mut function).await;
        assert_eq!((echo.id.as_str(), echo.kind), (id, "response"), "{echo:?}");
        assert_eq!(echo.body["statusCode"], 200);
        let received = names.lock().unwrap().clone();
        let server = received.iter().filter(|n| *n == "POST /echo/{id}").count();
        let call = received.iter().filter(|n| *n == "echo").count();
        assert_eq!((server, call), (round + 1, round + 1), "{received:?}");
    }
    assert!(
        function.try_wait().unwrap().is_none(),
        "the function keeps running"
    );
    function.kill().await.unwrap();
}

#[test]
fn outside_lambda_the_function_says_what_is_missing() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lambda-echo"))
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .stdin(Stdio::null())
        .output()
        .expect("the function binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AWS_LAMBDA_RUNTIME_API is not set") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

/// Process start → the first invocation's response reaching the Runtime
/// API, for the binary in `BISSLOG_LAMBDA_ECHO` (build it with `cargo
/// build --release -p bisslog-lambda --bin lambda-echo`; the test's own
/// debug build otherwise), `BISSLOG_COLD_STARTS` times (default 25). See
/// `bench/lambda-cold-start.sh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run with bench/lambda-cold-start.sh"]
async fn cold_start() {
    let binary = std::env::var("BISSLOG_LAMBDA_ECHO")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_lambda-echo").to_owned());
    // Another function's first event (an HTTP API request answered 200).
    let event = match std::env::var("BISSLOG_COLD_START_EVENT") {
        Ok(path) if !path.is_empty() => {
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        }
        _ => http_api_event(),
    };
    let runs: usize = std::env::var("BISSLOG_COLD_STARTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(25);
    let mut times = Vec::with_capacity(runs);
    for run in 0..runs {
        let mut api = MockRuntimeApi::start().await;
        // Queued before the start, as Lambda has the event waiting.
        api.invoke(&format!("cold-{run}"), event.clone());
        let started = Instant::now();
        let mut function = api.spawn(&binary);
        let outcome = api.outcome(&mut function).await;
        assert_eq!(outcome.kind, "response", "{outcome:?}");
        assert_eq!(outcome.body["statusCode"], 200);
        times.push(outcome.at.duration_since(started));
        function.kill().await.unwrap();
    }
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let size = std::fs::metadata(&binary).unwrap().len();
    println!(
        "lambda cold start of {binary} ({:.1} MiB), {runs} runs: median {:.2} ms, min {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        size as f64 / (1024.0 * 1024.0),
        ms(times[runs / 2]),
        ms(times[0]),
        ms(times[(runs * 9 / 10).min(runs - 1)]),
        ms(times[runs - 1]),
    );
}
