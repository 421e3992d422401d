//! One distributed trace through the system, as an OpenTelemetry collector
//! receives it: the services export their spans over OTLP/HTTP to a
//! receiver that decodes the real protobuf. An HTTP request with a
//! `traceparent` → the registry's `insert_company_data` → the outbox relay
//! → the broker → the audit service's `record_insertion`, all in the
//! caller's trace, each span the child of the one before; on the
//! in-process broker (one process) and on NATS and RabbitMQ (separate
//! processes). A message a foreign producer publishes with a `traceparent`
//! continues that trace too.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/otlp.rs"]
mod otlp;
mod support;

use bisslog::messaging::Broker as _;
use bisslog_sql::testing::TestDatabase;
use otlp::{Collector, ReceivedSpan};
use reqwest::Method as M;
use support::{AUDIT, REGISTRY, RealBroker, Server};

/// The caller's trace: what a gateway or another traced service sends.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
/// The trace of the foreign producer's message.
const FOREIGN_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const FOREIGN_SPAN: &str = "b7ad6b7169203331";

/// The trace of an import: importer → registry over HTTP and the broker.
const IMPORT_TRACE: &str = "5b8efff798038103d269b633813fc60c";
const IMPORT_SPAN: &str = "eee19b7ec3c1b174";

const REGISTRY_NAME: &str = "company registry data";
const AUDIT_NAME: &str = "company data audit";
const IMPORTER_NAME: &str = "company data importer";

/// The span of `trace` named `name`, panicking with the trace's spans.
fn span<'s>(spans: &'s [ReceivedSpan], trace: &str, name: &str) -> &'s ReceivedSpan {
    spans
        .iter()
        .find(|s| s.trace_id == trace && s.name == name)
        .unwrap_or_else(|| {
            let names: Vec<_> = spans
                .iter()
                .filter(|s| s.trace_id == trace)
                .map(|s| (&s.service, &s.name, &s.span_id, &s.parent_span_id))
                .collect();
            panic!("no span `{name}` in trace {trace}; it has {names:#?}")
        })
}

/// Whether every span of `names` arrived in `trace`: each service's
/// spans come in batches of their own, in any order.
fn arrived<'a>(trace: &'a str, names: &'a [&'a str]) -> impl Fn(&[ReceivedSpan]) -> bool + 'a {
    move |spans| {
        names
            .iter()
            .all(|name| spans.iter().any(|s| s.trace_id == trace && s.name == *name))
    }
}

/// The spans of an insertion, from its use case to the audit's.
const INSERTED: [&str; 4] = [
    "insert_company_data",
    "send company_data.inserted",
    "process company_data.inserted",
    "record_insertion",
];

/// [`INSERTED`] and the HTTP request's span.
const POSTED: [&str; 5] = [
    "POST /company/data/{schema_keyname}",
    "insert_company_data",
    "send company_data.inserted",
    "process company_data.inserted",
    "record_insertion",
];

/// The chain from the relayed event to the audit's use case, under the
/// span `producer` of `trace`.
fn assert_relayed_and_audited(spans: &[ReceivedSpan], trace: &str, producer: &ReceivedSpan) {
    let send = span(spans, trace, "send company_data.inserted");
    assert_eq!(send.parent_span_id, producer.span_id, "{send:#?}");
    assert_eq!(send.kind, 4, "a producer span");
    assert_eq!(send.service, REGISTRY_NAME);
    assert_eq!(
        send.attribute("messaging.destination.name"),
        Some("company_data.inserted")
    );
    // The event has two subscribers where the importer runs too: the
    // audit's is the one followed here.
    let process = spans
        .iter()
        .find(|s| {
            s.trace_id == trace
                && s.name == "process company_data.inserted"
                && s.service == AUDIT_NAME
        })
        .unwrap_or_else(|| panic!("no audit span processing the event in {trace}"));
    assert_eq!(process.parent_span_id, send.span_id, "{process:#?}");
    assert_eq!(process.kind, 5, "a consumer span");
    assert_eq!(process.service, AUDIT_NAME);
    assert_eq!(process.attribute("bisslog.attempt"), Some("1"));
    let recorded = span(spans, trace, "record_insertion");
    assert_eq!(recorded.parent_span_id, process.span_id, "{recorded:#?}");
    assert_eq!(recorded.service, AUDIT_NAME);
    assert_eq!(recorded.attribute("bisslog.trigger"), Some("consumer"));
    assert_eq!(recorded.attribute("bisslog.outcome"), Some("success"));
}

/// Creates the `counter` schema and inserts one record over HTTP with the
/// caller's `traceparent`.
async fn insert_with_the_callers_trace(registry: &Server) {
    let (status, _) = registry
        .send(M::POST, "/schemas", Some(support::counter_schema()))
        .await;
    assert_eq!(status, 201);
    let response = registry
        .client
        .post(registry.url("/company/data/counter"))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .json(&serde_json::json!({"n": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}

/// The HTTP part of the caller's trace; returns the use case's span.
fn assert_served_in_the_callers_trace(spans: &[ReceivedSpan]) -> ReceivedSpan {
    let server = span(spans, CALLER_TRACE, "POST /company/data/{schema_keyname}");
    assert_eq!(server.parent_span_id, CALLER_SPAN, "{server:#?}");
    assert_eq!(server.kind, 2, "a server span");
    assert_eq!(server.service, REGISTRY_NAME);
    assert_eq!(server.attribute("http.response.status_code"), Some("201"));
    assert_eq!(
        server.attribute("http.route"),
        Some("/company/data/{schema_keyname}")
    );
    let insert = span(spans, CALLER_TRACE, "insert_company_data");
    assert_eq!(insert.parent_span_id, server.span_id, "{insert:#?}");
    assert_eq!(insert.attribute("bisslog.trigger"), Some("http"));
    assert_eq!(insert.attribute("bisslog.criticality"), Some("high"));
    assert!(insert.attribute("bisslog.transaction_id").is_some());
    insert.clone()
}

fn otel_env(collector: &Collector) -> [(&'static str, &str); 2] {
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint.as_str()),
        // Batches leave every 100 ms; the shutdown flushes the rest.
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]
}

/// The registry with the audit service in its process, on the in-process
/// broker: both services' spans in one trace, each under its own name.
#[tokio::test]
async fn one_trace_from_a_request_to_the_audit_in_one_process() {
    let collector = Collector::start().await;
    let db = TestDatabase::sqlite().await;
    let [endpoint, delay] = otel_env(&collector);
    let registry = Server::spawn(
        REGISTRY,
        &[("DATABASE_URL", db.url.as_str()), endpoint, delay],
        "registry data listening on http://",
    );
    insert_with_the_callers_trace(&registry).await;
    let spans = collector.wait_for(arrived(CALLER_TRACE, &POSTED)).await;
    let insert = assert_served_in_the_callers_trace(&spans);
    assert_relayed_and_audited(&spans, CALLER_TRACE, &insert);

    // The importer asks the registry over HTTP, sending the trace on, and
    // queues the records: the registry's spans of both join the import's.
    let importer = registry.base_of("importer listening on http://");
    let response = registry
        .client
        .post(format!("{importer}/imports/counter"))
        .header("traceparent", format!("00-{IMPORT_TRACE}-{IMPORT_SPAN}-01"))
        .json(&serde_json::json!({"records": [{"n": 7}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let imported = [
        &[
            "import_company_data",
            "GET /schemas",
            "process company_data_insertion.queue",
        ][..],
        &INSERTED[..],
    ]
    .concat();
    let spans = collector.wait_for(arrived(IMPORT_TRACE, &imported)).await;
    let import = span(&spans, IMPORT_TRACE, "import_company_data");
    assert_eq!(import.service, IMPORTER_NAME);
    let asked = span(&spans, IMPORT_TRACE, "GET /schemas");
    assert_eq!(asked.parent_span_id, import.span_id, "{asked:#?}");
    assert_eq!(asked.service, REGISTRY_NAME);
    let insert = span(&spans, IMPORT_TRACE, "insert_company_data");
    assert_eq!(insert.attribute("bisslog.trigger"), Some("consumer"));
    assert_relayed_and_audited(&spans, IMPORT_TRACE, insert);

    // Off the runtime's thread: the collector answers the final exports.
    let output = tokio::task::spawn_blocking(move || registry.terminate())
        .await
        .unwrap();
    assert!(output.success());
    // The shutdown's final export: each service's registry under its name.
    for service in [REGISTRY_NAME, IMPORTER_NAME] {
        let names = collector.metric_names(service);
        assert!(
            names.iter().any(|n| n == "bisslog_use_case_calls")
                && names
                    .iter()
                    .any(|n| n == "bisslog_http_request_duration_seconds"),
            "{service}: {names:?}"
        );
    }
    db.drop_database().await;
}

/// The registry and the audit service as separate processes on `broker`.
async fn one_trace_between_processes(broker: RealBroker, database: TestDatabase) {
    let collector = Collector::start().await;
    let namespace = support::namespace(&format!("traces-{broker:?}").to_lowercase());
    let url = broker.url();
    let [endpoint, delay] = otel_env(&collector);
    let shared = [
        ("BROKER_URL", url.as_str()),
        ("BROKER_NAMESPACE", namespace.as_str()),
        endpoint,
        delay,
    ];
    let mut registry_env = vec![("DATABASE_URL", database.url.as_str())];
    registry_env.extend(shared);
    let registry = Server::spawn(
        REGISTRY,
        &registry_env,
        "registry data listening on http://",
    );
    let mut audit_env = vec![("DATABASE_URL", "memory")];
    audit_env.extend(shared);
    let audit = Server::spawn(AUDIT, &audit_env, "audit listening on http://");

    insert_with_the_callers_trace(&registry).await;
    let spans = collector.wait_for(arrived(CALLER_TRACE, &POSTED)).await;
    let insert = assert_served_in_the_callers_trace(&spans);
    assert_relayed_and_audited(&spans, CALLER_TRACE, &insert);

    // A producer that is not bisslog: only a `traceparent` header.
    let foreign = bisslog::messaging::Message::new(
        serde_json::to_vec(&serde_json::json!({"schema_keyname": "counter", "body": {"n": 2}}))
            .unwrap(),
    )
    .with_header(
        "traceparent",
        format!("00-{FOREIGN_TRACE}-{FOREIGN_SPAN}-01"),
    );
    support::client(broker, &namespace)
        .await
        .publish("company_data_insertion.queue", &foreign)
        .await
        .unwrap();
    let foreign_spans = [&["process company_data_insertion.queue"][..], &INSERTED[..]].concat();
    let spans = collector
        .wait_for(arrived(FOREIGN_TRACE, &foreign_spans))
        .await;
    let process = span(
        &spans,
        FOREIGN_TRACE,
        "process company_data_insertion.queue",
    );
    assert_eq!(process.parent_span_id, FOREIGN_SPAN, "{process:#?}");
    assert_eq!(process.service, REGISTRY_NAME);
    let insert = span(&spans, FOREIGN_TRACE, "insert_company_data");
    assert_eq!(insert.parent_span_id, process.span_id, "{insert:#?}");
    assert_eq!(insert.attribute("bisslog.trigger"), Some("consumer"));
    assert_relayed_and_audited(&spans, FOREIGN_TRACE, insert);

    // Off the runtime's thread: the collector answers the final exports.
    let stopped = tokio::task::spawn_blocking(move || [audit.terminate(), registry.terminate()])
        .await
        .unwrap();
    assert!(stopped.iter().all(std::process::ExitStatus::success));
    support::clean_up(broker, &namespace).await;
    database.drop_database().await;
}

#[tokio::test]
async fn one_trace_between_processes_on_nats() {
    if !RealBroker::Nats.available() {
        return;
    }
    one_trace_between_processes(RealBroker::Nats, TestDatabase::sqlite().await).await;
}

#[tokio::test]
async fn one_trace_between_processes_on_rabbitmq() {
    if !RealBroker::Amqp.available() {
        return;
    }
    one_trace_between_processes(RealBroker::Amqp, TestDatabase::sqlite().await).await;
}
