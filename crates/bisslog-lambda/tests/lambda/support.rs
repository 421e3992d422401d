//! The test service: every use case records its calls and echoes its input.

use std::sync::{Arc, Mutex};

use bisslog_core::{Ctx, Error, ErrorKind, Trigger, UseCase};
use bisslog_lambda::LambdaHandler;
use bisslog_runtime::Service;
use serde_json::{Value, json};

pub const METADATA: &str = r#"
name: lambda-test
use_cases:
  hello:
    name: hello
    triggers:
      - type: http
        options: {method: post, path: "/hello/{who}"}
  root:
    name: root
    triggers:
      - type: http
        options: {method: get, path: /, mapper: {params.key: key}}
  my_path:
    name: my path
    triggers:
      - type: http
        options:
          method: get
          path: /my/path
          mapper:
            params.Parameter1: parameter
            headers.cookie: cookie
            headers.header2: header2
  upload:
    name: upload
    triggers:
      - type: http
        options: {method: post, path: /upload}
  lookup:
    name: lookup
    triggers:
      - type: http
        options: {method: get, path: "/things/{id}"}
  connect:
    name: connect
    triggers:
      - type: websocket
        options:
          route_key: $connect
          mapper: {connection_id: connection, route_key: route, headers.host: host}
  chat:
    name: chat
    triggers:
      - type: websocket
        options:
          route_key: $default
          mapper: {connection_id: connection, route_key: route, body.text: text}
  disconnect:
    name: disconnect
    triggers:
      - type: websocket
        options: {route_key: $disconnect, mapper: {connection_id: connection}}
  take_order:
    name: take order
    triggers:
      - type: consumer
        options: {queue: orders, timeout: 200}
      - type: consumer
        options: {queue: orders.fifo}
  greet:
    name: greet
    triggers:
      - type: consumer
        options: {queue: snsNetTest}
  instance_changed:
    name: instance changed
    triggers:
      - type: consumer
        options:
          queue: EC2 Instance State-change Notification
          mapper: {event.instance-id: instance, event.state: state}
  nightly_report:
    name: nightly report
    triggers:
      - type: http
        options: {method: get, path: /report}
      - type: schedule
        options: {cronjob: "0 3 * * *", event: {report: nightly}}
  explode:
    name: explode
    triggers:
      - type: schedule
        options: {cronjob: "0 * * * *"}
"#;

/// One recorded call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub use_case: String,
    pub trigger: Trigger,
    pub input: Value,
    pub parent: Option<String>,
    /// The call's trace context (its own span, else the one it continues).
    pub trace: Option<String>,
}

/// Every call, in order.
#[derive(Clone, Default)]
pub struct Calls(Arc<Mutex<Vec<Call>>>);

impl Calls {
    pub fn all(&self) -> Vec<Call> {
        self.0.lock().unwrap().clone()
    }

    pub fn only(&self) -> Call {
        let calls = self.all();
        assert_eq!(calls.len(), 1, "{calls:#?}");
        calls[0].clone()
    }

    pub fn inputs(&self) -> Vec<Value> {
        self.all().into_iter().map(|c| c.input).collect()
    }
}

/// Records its input and echoes it. It fails when the input says
/// `"fail": true`, never finishes when it says `"hang": true`, `lookup`
/// does not find `missing`, `explode` panics.
struct Recorder {
    calls: Calls,
}

impl UseCase for Recorder {
    type Input = Value;
    type Output = Value;
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: Value) -> Result<Value, Error> {
        self.calls.0.lock().unwrap().push(Call {
            use_case: ctx.use_case().to_owned(),
            trigger: ctx.trigger(),
            input: input.clone(),
            parent: ctx.parent_transaction_id().map(|t| t.text().into_owned()),
            trace: ctx.trace_context().map(|t| t.traceparent()),
        });
        if ctx.use_case() == "explode" {
            panic!("exploded on purpose");
        }
        if ctx.use_case() == "lookup" && input["id"] == "missing" {
            return Err(Error::not_found(
                "thing-not-found",
                "there is no thing `missing`",
            ));
        }
        if input["hang"] == json!(true) {
            std::future::pending::<()>().await;
        }
        if input["fail"] == json!(true) {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "told-to-fail",
                "the input said so",
            ));
        }
        Ok(input)
    }
}

pub fn service(calls: &Calls) -> Service {
    service_traced(calls, None)
}

/// The service, its spans going to `tracer` when there is one.
pub fn service_traced(calls: &Calls, tracer: Option<bisslog_runtime::trace::Tracer>) -> Service {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .expect("the test metadata is valid");
    let mut builder = Service::builder(metadata.clone());
    for keyname in metadata.use_cases.keys() {
        builder = builder.use_case(
            keyname.clone(),
            Recorder {
                calls: calls.clone(),
            },
        );
    }
    if let Some(tracer) = tracer {
        builder = builder.tracer(tracer);
    }
    builder.build().expect("the test service builds")
}

pub fn handler() -> (LambdaHandler, Calls) {
    let calls = Calls::default();
    let handler = LambdaHandler::new(service(&calls)).expect("the handler builds");
    (handler, calls)
}

/// A handler whose spans a `MemoryTracer` records.
pub fn traced_handler() -> (LambdaHandler, Calls, bisslog_runtime::trace::RecordedSpans) {
    let calls = Calls::default();
    let (tracer, spans) = bisslog_runtime::trace::MemoryTracer::recording();
    let handler =
        LambdaHandler::new(service_traced(&calls, Some(tracer))).expect("the handler builds");
    (handler, calls, spans)
}

/// A fixture from `tests/fixtures`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A response's `body` parsed as JSON.
pub fn body_json(response: &Value) -> Value {
    let body = response["body"].as_str().expect("a text body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{body}: {e}"))
}
