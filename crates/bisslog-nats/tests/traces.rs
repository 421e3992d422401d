//! W3C trace context across NATS: a message published by a plain
//! async-nats client with a `traceparent` header is continued by a bisslog
//! consumer. Against a real server (`BISSLOG_TEST_NATS_URL`; skipped,
//! saying so, when unset outside CI).

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::time::Duration;

use bisslog_core::{Ctx, Error, TraceContext, UseCase};
use bisslog_messaging::Broker;
use bisslog_runtime::Service;
use bisslog_runtime::messaging::Consumers;
use bisslog_runtime::trace::{MemoryTracer, RecordedSpans, SpanKind};
use bytes::Bytes;
use support::{connect, delete_streams, unique_queue};

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const STATE: &str = "vendor=opaque";

struct Handle;

impl UseCase for Handle {
    type Input = serde_json::Value;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, _: serde_json::Value) -> Result<(), Error> {
        Ok(())
    }
}

/// Waits, polling, until the span `name` has finished.
async fn finished(spans: &RecordedSpans, name: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while spans.named(name).is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no `{name}` span within 20 s: {:?}",
            spans.finished()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_plain_publish_with_a_traceparent_is_continued_by_the_consumer() {
    if !support::available() {
        return;
    }
    let broker = connect().await;
    let queue = unique_queue("trace");
    broker.provision(&queue).await.unwrap();
    let yaml = format!(
        "name: traced\nuse_cases:\n  handle:\n    triggers: [{{type: consumer, options: {{queue: {queue}}}}}]\n"
    );
    let metadata = bisslog_schema::validate_str("metadata.yml", &yaml)
        .into_service()
        .unwrap();
    let (tracer, spans) = MemoryTracer::recording();
    let service = Service::builder(metadata)
        .use_case("handle", Handle)
        .tracer(tracer)
        .build()
        .unwrap();
    let running = Consumers::new(service, broker.clone())
        .start()
        .await
        .unwrap();

    // Another service's producer: a plain JetStream publish.
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("traceparent", PARENT);
    headers.insert("tracestate", STATE);
    broker
        .jetstream()
        .publish_with_headers(queue.clone(), headers, Bytes::from_static(br#"{"n":1}"#))
        .await
        .unwrap()
        .await
        .unwrap();

    let name = format!("process {queue}");
    finished(&spans, &name).await;
    running.shutdown().await;
    let given = TraceContext::parse(PARENT).unwrap().with_state(STATE);
    let process = spans.named(&name).unwrap();
    assert_eq!(process.kind, SpanKind::Consumer);
    assert_eq!(process.parent, Some(given.clone()));
    assert_eq!(process.context.trace_id(), given.trace_id());
    assert_eq!(process.attribute("messaging.system"), Some("nats"));
    assert_eq!(process.attribute("bisslog.settlement"), Some("ack"));
    let call = spans.named("handle").unwrap();
    assert_eq!(call.parent.as_ref(), Some(&process.context));
    assert_eq!(call.context.trace_id(), given.trace_id());

    let stream = queue.replace('.', "_");
    delete_streams(&broker, &[&stream, &format!("{stream}_dlq")]).await;
}
