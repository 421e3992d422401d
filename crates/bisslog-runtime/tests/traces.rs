//! The spans of consumers and schedule ticks, recorded by a
//! `MemoryTracer`: a consumed message's "process {queue}" span continues
//! the trace the message carries and is the parent of the use-case span,
//! with how the delivery was settled; a tick is the root of a new trace.
//! Without a tracer, the message's trace still reaches the call.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};

use bisslog_core::{Ctx, Error, ErrorKind, TraceContext, UseCase};
use bisslog_messaging::{Broker, Message};
use bisslog_runtime::Service;
use bisslog_runtime::messaging::{ConsumerConfig, Consumers, InProcessBroker, RunningConsumers};
use bisslog_runtime::schedule::{Clock, Schedules};
use bisslog_runtime::trace::{FinishedSpan, MemoryTracer, RecordedSpans, SpanKind, Value};
use bisslog_runtime::{MemoryInbox, ServiceBuilder};

const METADATA: &str = "
name: traced
use_cases:
  handle:
    triggers: [{type: consumer, options: {queue: work, max_retries: 1}}]
  once:
    triggers: [{type: consumer, options: {queue: once, delivery_semantic: exactly-once}}]
  fragile:
    triggers: [{type: consumer, options: {queue: fragile, delivery_semantic: at-most-once}}]
  sweep:
    triggers: [{type: schedule, options: {cronjob: \"*/5 * * * *\"}}]
  slow:
    triggers: [{type: consumer, options: {queue: slow, timeout: 100, max_retries: 0}}]
";

const REMOTE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Input {
    #[serde(default)]
    outcome: String,
}

/// The trace context each call saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Option<TraceContext>>>>);

/// Does what the input says (`ok`, `invalid`, `unavailable`) and records
/// the call's trace context.
struct Obey(Seen);

impl UseCase for Obey {
    type Input = Input;
    type Output = ();
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: Input) -> Result<(), Error> {
        self.0.0.lock().unwrap().push(ctx.trace_context().cloned());
        match input.outcome.as_str() {
            "invalid" => Err(Error::invalid("bad-thing", "the thing is bad")),
            "unavailable" => Err(Error::new(ErrorKind::Unavailable, "later", "try later")),
            "hang" => std::future::pending().await,
            _ => Ok(()),
        }
    }
}

fn builder(seen: &Seen) -> ServiceBuilder {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    Service::builder(metadata)
        .use_case("handle", Obey(seen.clone()))
        .use_case("once", Obey(seen.clone()))
        .use_case("fragile", Obey(seen.clone()))
        .use_case("sweep", Obey(seen.clone()))
        .use_case("slow", Obey(seen.clone()))
        .unit_of_work(MemoryInbox::new())
}

async fn consume(service: Service) -> (InProcessBroker, RunningConsumers) {
    let broker = InProcessBroker::new();
    let running = Consumers::new(service, broker.clone())
        .config(ConsumerConfig::default())
        .start()
        .await
        .unwrap();
    (broker, running)
}

async fn traced() -> (InProcessBroker, RunningConsumers, RecordedSpans) {
    let (tracer, spans) = MemoryTracer::recording();
    let service = builder(&Seen::default()).tracer(tracer).build().unwrap();
    let (broker, running) = consume(service).await;
    (broker, running, spans)
}

fn remote() -> TraceContext {
    TraceContext::parse(REMOTE).unwrap().with_state("vendor=1")
}

fn message(outcome: &str) -> Message {
    let mut message = Message::new(format!(r#"{{"outcome":"{outcome}"}}"#));
    message.set_trace_context(&remote());
    message
}

fn of(spans: &RecordedSpans, name: &str) -> Vec<FinishedSpan> {
    spans
        .finished()
        .into_iter()
        .filter(|span| span.name == name)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_consumed_message_continues_its_trace_through_the_process_span() {
    let (broker, running, spans) = traced().await;
    let sent = message("ok");
    broker.publish("work", &sent).await.unwrap();
    broker.idle("work").await;
    running.shutdown().await;

    let process = spans.named("process work").unwrap();
    assert_eq!(process.kind, SpanKind::Consumer);
    assert_eq!(process.parent, Some(remote()));
    assert_eq!(process.context.trace_id(), remote().trace_id());
    assert_eq!(process.attribute("messaging.system"), Some("in-process"));
    assert_eq!(
        process.attribute("messaging.destination.name"),
        Some("work")
    );
    assert_eq!(
        process.attribute("messaging.operation.type"),
        Some("process")
    );
    assert_eq!(
        process.attribute("messaging.message.id"),
        Some(sent.id.as_str())
    );
    assert_eq!(process.value("bisslog.attempt"), Some(&Value::Int(1)));
    assert_eq!(process.attribute("bisslog.settlement"), Some("ack"));
    assert!(process.error.is_none());

    let call = spans.named("handle").unwrap();
    assert_eq!(call.parent.as_ref(), Some(&process.context));
}

/// A call given up at its trigger's timeout: the use-case span says it was
/// cancelled (it ended on drop like a success before), the process span
/// has the timeout.
#[tokio::test(start_paused = true)]
async fn a_call_cancelled_at_its_timeout_says_so_in_its_span() {
    let (broker, running, spans) = traced().await;
    broker.publish("slow", &message("hang")).await.unwrap();
    broker.idle("slow").await;
    running.shutdown().await;

    let call = spans.named("slow").unwrap();
    assert_eq!(call.attribute("bisslog.outcome"), Some("cancelled"));
    assert_eq!(call.attribute("error.type"), Some("cancelled"));
    assert!(
        call.error
            .as_deref()
            .is_some_and(|e| e.contains("cancelled")),
        "{:?}",
        call.error
    );
    let process = spans.named("process slow").unwrap();
    assert_eq!(call.parent.as_ref(), Some(&process.context));
    assert_eq!(process.attribute("error.type"), Some("timeout"));
}

#[tokio::test(start_paused = true)]
async fn retries_and_the_dead_letter_are_settlements_of_their_own_spans() {
    let (broker, running, spans) = traced().await;
    broker
        .publish("work", &message("unavailable"))
        .await
        .unwrap();
    broker.idle("work").await;
    running.shutdown().await;

    // max_retries: 1, so two deliveries.
    let process = of(&spans, "process work");
    let settled: Vec<_> = process
        .iter()
        .map(|span| {
            (
                span.value("bisslog.attempt").cloned(),
                span.attribute("bisslog.settlement"),
            )
        })
        .collect();
    assert_eq!(
        settled,
        [
            (Some(Value::Int(1)), Some("retry")),
            (Some(Value::Int(2)), Some("dead-letter")),
        ]
    );
    for span in &process {
        assert_eq!(span.parent, Some(remote()));
        assert_eq!(span.attribute("error.type"), Some("unavailable"));
        assert!(span.error.as_deref().unwrap().contains("try later"));
    }
    // The dead-lettered copy still belongs to the trace.
    let dead = broker.messages("work.dlq");
    assert_eq!(dead[0].trace_context(), Some(remote()));
}

#[tokio::test(start_paused = true)]
async fn a_skipped_redelivery_and_an_at_most_once_failure_say_so() {
    let (broker, running, spans) = traced().await;
    let mut first = message("ok");
    first.id = "m-1".to_owned();
    broker.publish("once", &first).await.unwrap();
    broker.idle("once").await;
    broker.publish("once", &first).await.unwrap();
    broker.idle("once").await;
    broker
        .publish("fragile", &message("invalid"))
        .await
        .unwrap();
    broker.idle("fragile").await;
    running.shutdown().await;

    let once: Vec<_> = of(&spans, "process once")
        .iter()
        .map(|span| span.attribute("bisslog.settlement").map(str::to_owned))
        .collect();
    assert_eq!(once, [Some("ack".to_owned()), Some("duplicate".to_owned())]);
    let fragile = spans.named("process fragile").unwrap();
    assert_eq!(fragile.attribute("bisslog.settlement"), Some("dead-letter"));
    assert_eq!(fragile.attribute("error.type"), Some("invalid"));
    let call = spans.named("fragile").unwrap();
    assert_eq!(call.parent.as_ref(), Some(&fragile.context));
}

#[tokio::test(start_paused = true)]
async fn without_a_tracer_the_message_trace_reaches_the_call() {
    let seen = Seen::default();
    let (broker, running) = consume(builder(&seen).build().unwrap()).await;
    broker.publish("work", &message("ok")).await.unwrap();
    broker.idle("work").await;
    running.shutdown().await;
    assert_eq!(*seen.0.lock().unwrap(), [Some(remote())]);
}

#[tokio::test(start_paused = true)]
async fn a_schedule_tick_is_the_root_of_a_trace() {
    let (tracer, spans) = MemoryTracer::recording();
    let service = builder(&Seen::default()).tracer(tracer).build().unwrap();
    let tick: jiff::Timestamp = "2026-03-01T00:05:00Z".parse().unwrap();
    let schedules = Schedules::new(service).clock(Clock::simulated(tick, 1));
    let run = schedules.run_tick("sweep", tick).await.unwrap();
    assert!(run.outcome.is_ok());

    let root = spans.named("tick sweep").unwrap();
    assert_eq!(root.kind, SpanKind::Internal);
    assert!(root.parent.is_none());
    assert_eq!(root.attribute("bisslog.schedule"), Some("*/5 * * * *"));
    assert_eq!(
        root.attribute("bisslog.scheduled_time"),
        Some("2026-03-01T00:05:00Z")
    );
    assert_eq!(root.attribute("bisslog.outcome"), Some("success"));
    let call = spans.named("sweep").unwrap();
    assert_eq!(call.parent.as_ref(), Some(&root.context));
    assert_eq!(call.context.trace_id(), root.context.trace_id());
}
