//! One trace from a call through the outbox to the consumer: the use case
//! publishes through the outbox, the relay's "send {queue}" span is the
//! child of the use-case span, and the consumed message continues the
//! relay span. Without a tracer the relay sends the stored trace headers
//! as they are. On real SQLite files and PostgreSQL databases.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use bisslog_core::{Ctx, Error, Event, Publisher, Trigger, UseCase};
use bisslog_messaging::{Broker, Message};
use bisslog_runtime::Service;
use bisslog_runtime::mapper::Mapped;
use bisslog_runtime::messaging::{Consumers, InProcessBroker};
use bisslog_runtime::trace::{MemoryTracer, RecordedSpans, SpanKind, Tracer};
use bisslog_sql::testing::TestDatabase;
use bisslog_sql::{Database, Outbox, RelayConfig};

const METADATA: &str = "
name: traced
use_cases:
  announce:
    external_interactions:
      - keyname: events
        type_interaction: publisher
  observe:
    triggers: [{type: consumer, options: {queue: things.added}}]
";

/// Publishes `{"n": 1}` through the outbox.
struct Announce(Outbox);

impl UseCase for Announce {
    type Input = serde_json::Value;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, _: serde_json::Value) -> Result<(), Error> {
        self.0
            .publish("things.added", Event::json(&serde_json::json!({"n": 1}))?)
            .await
    }
}

struct Observe;

impl UseCase for Observe {
    type Input = serde_json::Value;
    type Output = ();
    type Error = Error;

    async fn run(&self, _: &Ctx, _: serde_json::Value) -> Result<(), Error> {
        Ok(())
    }
}

fn service(db: &Database, outbox: &Outbox, tracer: Option<Tracer>) -> Service {
    let metadata = bisslog_schema::validate_str("traced.yml", METADATA)
        .into_service()
        .unwrap();
    let mut builder = Service::builder(metadata)
        .use_case("announce", Announce(outbox.clone()))
        .use_case("observe", Observe)
        .adapter("events", outbox.clone())
        .unit_of_work(db.clone());
    if let Some(tracer) = tracer {
        builder = builder.tracer(tracer);
    }
    builder.build().unwrap()
}

/// Calls `announce` once, then relays the outbox to `broker`.
async fn announce_and_relay(
    service: &Service,
    outbox: &Outbox,
    broker: &InProcessBroker,
    tracer: Option<Tracer>,
) {
    let input = Mapped::Owned(serde_json::json!({}));
    service
        .use_case("announce")
        .unwrap()
        .call(Ctx::new("announce", Trigger::Direct), &input)
        .await
        .unwrap();
    broker.provision("things.added").await.unwrap();
    let mut relay = outbox
        .relay(broker.clone())
        .config(RelayConfig::default().lease_ttl(Duration::from_secs(5)));
    if let Some(tracer) = tracer {
        relay = relay.tracer(tracer);
    }
    let report = relay.relay_once().await.unwrap();
    assert_eq!(report.published, 1, "{report:?}");
}

async fn one_trace_from_the_call_to_the_consumer(test: TestDatabase) {
    let db = test.database.clone();
    db.migrate(&[]).await.unwrap();
    let outbox = Outbox::new(db.clone());
    let (tracer, spans) = MemoryTracer::recording();
    let service = service(&db, &outbox, Some(tracer.clone()));
    let broker = InProcessBroker::new();
    announce_and_relay(&service, &outbox, &broker, Some(tracer)).await;

    let call = spans.named("announce").unwrap();
    let send = spans.named("send things.added").unwrap();
    assert_eq!(send.kind, SpanKind::Producer);
    assert_eq!(send.parent.as_ref(), Some(&call.context));
    assert_eq!(send.context.trace_id(), call.context.trace_id());
    assert_eq!(send.attribute("messaging.system"), Some("in-process"));
    assert_eq!(
        send.attribute("messaging.destination.name"),
        Some("things.added")
    );
    assert_eq!(send.attribute("messaging.operation.type"), Some("send"));
    let sent: Vec<Message> = broker.messages("things.added");
    assert_eq!(
        send.attribute("messaging.message.id"),
        Some(sent[0].id.as_str())
    );
    assert_eq!(sent[0].trace_context().as_ref(), Some(&send.context));

    let running = Consumers::new(service, broker.clone())
        .start()
        .await
        .unwrap();
    broker.idle("things.added").await;
    running.shutdown().await;
    let process = consumed(&spans);
    assert_eq!(process.parent.as_ref(), Some(&send.context));
    let observe = spans.named("observe").unwrap();
    assert_eq!(observe.parent.as_ref(), Some(&process.context));
    assert_eq!(observe.context.trace_id(), call.context.trace_id());
    test.drop_database().await;
}

fn consumed(spans: &RecordedSpans) -> bisslog_runtime::trace::FinishedSpan {
    spans
        .named("process things.added")
        .unwrap_or_else(|| panic!("no process span: {:?}", spans.finished()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_from_the_call_to_the_consumer_on_sqlite() {
    one_trace_from_the_call_to_the_consumer(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_from_the_call_to_the_consumer_on_postgres() {
    if let Some(test) = TestDatabase::postgres().await {
        one_trace_from_the_call_to_the_consumer(test).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tracer_the_relay_sends_the_stored_trace_unchanged() {
    let test = TestDatabase::sqlite().await;
    let db = test.database.clone();
    db.migrate(&[]).await.unwrap();
    let outbox = Outbox::new(db.clone());
    // The service traces its calls; the relay does not.
    let (tracer, spans) = MemoryTracer::recording();
    let service = service(&db, &outbox, Some(tracer));
    let broker = InProcessBroker::new();
    announce_and_relay(&service, &outbox, &broker, None).await;
    let call = spans.named("announce").unwrap();
    assert!(spans.named("send things.added").is_none());
    let sent = broker.messages("things.added");
    assert_eq!(sent[0].trace_context().as_ref(), Some(&call.context));
    test.drop_database().await;
}
