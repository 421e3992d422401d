//! Processing one delivery: read the message, call the use case in its
//! transaction, settle the delivery exactly once.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bisslog_core::{Ctx, ErrorKind, TraceContext, TransactionId, Trigger, UseCaseError as _};
use bisslog_schema::DeliverySemantic;
use tokio::sync::watch;

use crate::dispatch::{UseCaseHandle, end_work};
use crate::mapper::{Body, InputMapper, Sources, unread_text};
use crate::messaging::settle::{Failed, RetryPolicy, Settlement, settle};
use crate::trace::{Span, SpanKind, SpanStart, attributes};
use bisslog_messaging::publish_provisioning;
use bisslog_messaging::{Broker, BrokerError, Delivery};
use bisslog_messaging::{DeadLetter, DeadLetterCause, Message};

/// A consumer trigger bound to its use case: everything processing needs.
pub(crate) struct Binding {
    pub(crate) handle: UseCaseHandle,
    pub(crate) mapper: InputMapper,
    pub(crate) reads_context: bool,
    pub(crate) queue: String,
    /// Whether the queue is a command or an event queue.
    pub(crate) kind: bisslog_messaging::QueueKind,
    pub(crate) consumer: String,
    pub(crate) dead_letter_queue: String,
    pub(crate) semantic: DeliverySemantic,
    pub(crate) policy: RetryPolicy,
    pub(crate) keep_alive_every: Duration,
    /// The longest one call may take (the trigger's `timeout`, else the
    /// runner's default).
    pub(crate) timeout: Duration,
    /// Whether the call is told when its timeout falls (a
    /// [`Deadline`](crate::resilience::Deadline) in its context): only
    /// where the use case has interactions with retries to stop, as an
    /// HTTP route does (it costs a clock read and a context entry).
    pub(crate) deadline: bool,
    pub(crate) provision: bool,
    /// `partition` is set: keyed messages run one at a time per key, in
    /// arrival order, and are retried in place.
    pub(crate) ordered: bool,
    /// `partition: event.<path>`: the payload member a message without a
    /// key is ordered by.
    pub(crate) key_path: Option<Vec<String>>,
    /// This trigger's series, when the service has metrics.
    pub(crate) metrics: Option<crate::metrics::Consumer>,
}

/// Counts a delivery in flight until dropped.
struct InFlight<'a>(Option<&'a crate::metrics::Consumer>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(metrics) = self.0 {
            metrics.in_flight.dec();
        }
    }
}

/// Counts a delivery as received (and redelivered after the first).
fn received(binding: &Binding, attempt: u32) -> InFlight<'_> {
    if let Some(metrics) = &binding.metrics {
        metrics.received.inc();
        if attempt > 1 {
            metrics.redelivered.inc();
        }
        metrics.in_flight.inc();
    }
    InFlight(binding.metrics.as_ref())
}

/// Counts a settlement's retry or dead letter.
fn count_settlement(binding: &Binding, settlement: &Settlement) {
    let Some(metrics) = &binding.metrics else {
        return;
    };
    match settlement {
        Settlement::Ack => {}
        Settlement::Retry(_) => {
            metrics.retried.inc();
        }
        Settlement::DeadLetter(reason) => {
            metrics
                .dead_lettered(dead_letter_reason(reason.cause))
                .inc();
        }
    }
}

fn dead_letter_reason(cause: DeadLetterCause) -> crate::metrics::DeadLetterReason {
    use crate::metrics::DeadLetterReason;
    match cause {
        DeadLetterCause::Malformed => DeadLetterReason::Malformed,
        DeadLetterCause::RetriesExhausted => DeadLetterReason::AttemptsExhausted,
        _ => DeadLetterReason::Permanent,
    }
}

/// What a call that did not fail came to.
enum Ran {
    /// The use case ran.
    Called,
    /// The message was handled before (an `exactly-once` inbox hit): the
    /// redelivery was skipped.
    Duplicate,
}

/// Opens the "process {queue}" span of a delivery, child of the trace the
/// message carries; [`Span::none`] without a tracer.
fn consumer_span(binding: &Binding, broker: &dyn Broker, message: &Message, attempt: u32) -> Span {
    Span::start(binding.handle.tracer(), || {
        SpanStart::new(format!("process {}", binding.queue), SpanKind::Consumer)
            .parent(message.trace_context().as_ref())
            .attribute(attributes::MESSAGING_SYSTEM, broker.system())
            .attribute(attributes::MESSAGING_DESTINATION, binding.queue.clone())
            .attribute(attributes::MESSAGING_OPERATION, "process")
            .attribute(attributes::MESSAGING_MESSAGE_ID, message.id.clone())
            .attribute(attributes::ATTEMPT, attempt)
    })
}

/// The trace parent of a message's call: the consumer span when there is
/// one, else the message's own trace, carried on untouched.
fn call_parent(span: &Span, message: &Message) -> Option<TraceContext> {
    match span.context() {
        Some(context) => Some(context.clone()),
        None => message.trace_context(),
    }
}

/// Records on the consumer span how the delivery was settled, and the
/// failure that led to a retry or a dead letter.
fn record_settlement(
    span: &mut Span,
    settlement: &'static str,
    failure: Option<(ErrorKind, &str)>,
) {
    span.set_attribute(attributes::SETTLEMENT, settlement);
    if let Some((kind, reason)) = failure {
        span.set_attribute(attributes::ERROR_TYPE, crate::trace::kind_name(kind));
        span.set_error(reason);
    }
}

/// Processes and settles one delivery.
///
/// A transient failure goes back to the broker (`Delivery::retry`) unless
/// `in_place` is given (a keyed message of a trigger that orders by key):
/// then the delivery is kept, its lease kept alive, and the call runs
/// again here after the policy's delay, so that the later messages of its
/// key, waiting for this one to be settled, stay behind it. The attempt
/// number counts those runs on top of the broker's. When `in_place` turns
/// `true` (the consumer stops) during the wait, the delivery is released
/// to the broker at once instead.
///
/// An acknowledgement is returned unawaited ([`PendingAck`]): the caller
/// waits for the broker's answer without holding the message's place
/// among the calls in flight (on Redis or the SQL broker it is a round
/// trip that the next messages need not wait for). At-most-once
/// acknowledgements are awaited here, before the call, as they must be.
pub(crate) async fn process(
    binding: &Binding,
    broker: &dyn Broker,
    delivery: Box<dyn Delivery>,
    in_place: Option<&watch::Receiver<bool>>,
) -> Option<PendingAck> {
    let mut attempt = delivery.attempt();
    let _in_flight = received(binding, attempt);
    loop {
        let mut span = consumer_span(binding, broker, delivery.message(), attempt);
        let parent = call_parent(&span, delivery.message());
        if binding.semantic == DeliverySemantic::AtMostOnce {
            // Boxed: the rarer paths stay out of every message's future.
            Box::pin(at_most_once(
                binding, broker, delivery, attempt, parent, &mut span,
            ))
            .await;
            return None;
        }
        // Pinned where it is made: passed by value, the call's future
        // (hundreds of bytes) was copied once more per message. A call past
        // its timeout is dropped (cancelled) at the end of this block,
        // before the delivery is settled.
        let outcome = {
            let work = pin!(run(binding, delivery.message(), attempt, parent));
            let every = binding.keep_alive_every;
            match with_keep_alive(Some(delivery.as_ref()), work, every, Some(binding.timeout)).await
            {
                Ok(outcome) => outcome,
                Err(TimedOut) => Err(timed_out(binding, delivery.message(), attempt)),
            }
        };
        let duplicate = matches!(outcome, Ok(Ran::Duplicate));
        // Kept for the span only: settling consumes the failure.
        let failure = match &outcome {
            Err(failed) if span.is_recording() => Some((failed.kind, failed.reason.clone())),
            _ => None,
        };
        let settlement = settle(outcome.map(drop), attempt, &binding.policy);
        count_settlement(binding, &settlement);
        if span.is_recording() {
            let name = match &settlement {
                Settlement::Ack if duplicate => "duplicate",
                Settlement::Ack => "ack",
                Settlement::Retry(_) if in_place.is_some() => "retry-in-place",
                Settlement::Retry(_) => "retry",
                Settlement::DeadLetter(_) => "dead-letter",
            };
            let failure = failure
                .as_ref()
                .map(|(kind, reason)| (*kind, reason.as_str()));
            record_settlement(&mut span, name, failure);
        }
        match settlement {
            Settlement::Ack => {
                span.end();
                // Not waiting for a batch's answer: at-least-once (and
                // exactly-once, whose inbox drops a redelivery) lets a lost
                // acknowledgement bring the message back.
                return Some(delivery.ack_queued());
            }
            Settlement::Retry(delay) => {
                if let Some(stopped) = in_place {
                    span.end();
                    tracing::debug!(queue = %binding.queue, attempt, delay_ms = delay.as_millis() as u64,
                        "retrying the message in place: the later ones of its key wait");
                    if Box::pin(wait_in_place(binding, delivery.as_ref(), delay, stopped)).await {
                        attempt = attempt.saturating_add(1);
                        continue;
                    }
                    // Released, not retried: put back where it was (RabbitMQ,
                    // the in-process broker) or at once (JetStream, SQL), ahead
                    // of the later messages of its key this consumer releases
                    // after it.
                    if let Err(error) = delivery.release().await {
                        tracing::warn!(queue = %binding.queue, error = %error,
                            "the message could not be released; the broker will deliver it again");
                    }
                    return None;
                }
                tracing::debug!(queue = %binding.queue, attempt, delay_ms = delay.as_millis() as u64, "retrying the message");
                if let Err(error) = delivery.retry(delay).await {
                    tracing::warn!(queue = %binding.queue, error = %error,
                        "the retry could not be scheduled; the broker will deliver the message again");
                }
            }
            Settlement::DeadLetter(reason) => {
                Box::pin(dead_letter(binding, broker, delivery, &reason)).await;
            }
        }
        span.end();
        return None;
    }
}

/// An acknowledgement on its way to the broker (see [`process`]).
pub(crate) type PendingAck = bisslog_core::BoxFuture<'static, Result<(), BrokerError>>;

/// Reports a failed acknowledgement: the broker will deliver the message
/// again, which at-least-once allows.
pub(crate) fn acknowledged(queue: &str, outcome: Result<(), BrokerError>) {
    if let Err(error) = outcome {
        tracing::warn!(queue = %queue, error = %error,
            "the acknowledgement failed; the message may be delivered again");
    }
}

/// Waits `delay` before a retry in place, keeping the delivery's lease
/// alive: `true` when the wait ended, `false` when the consumer began to
/// stop first.
async fn wait_in_place(
    binding: &Binding,
    delivery: &dyn Delivery,
    delay: Duration,
    stopped: &watch::Receiver<bool>,
) -> bool {
    let mut stopped = stopped.clone();
    if *stopped.borrow_and_update() {
        return false;
    }
    if delay.is_zero() {
        return true;
    }
    let sleep = pin!(tokio::time::sleep(delay));
    let wait = with_keep_alive(Some(delivery), sleep, binding.keep_alive_every, None);
    let waited = tokio::select! {
        _ = wait => true,
        _ = stopped.wait_for(|stop| *stop) => false,
    };
    waited && !*stopped.borrow()
}

/// Settled before the use case runs: a crash now loses the message, never
/// runs it twice.
async fn at_most_once(
    binding: &Binding,
    broker: &dyn Broker,
    delivery: Box<dyn Delivery>,
    attempt: u32,
    parent: Option<TraceContext>,
    span: &mut Span,
) {
    let message = delivery.message().clone();
    if let Err(error) = delivery.ack().await {
        tracing::warn!(queue = %binding.queue, message_id = %message.id, error = %error,
            "the message could not be acknowledged; it is not processed (at-most-once)");
        return;
    }
    // Already acknowledged: nothing to keep alive, only the time to bound.
    let work = pin!(run(binding, &message, attempt, parent));
    let outcome =
        match with_keep_alive(None, work, binding.keep_alive_every, Some(binding.timeout)).await {
            Ok(outcome) => outcome,
            Err(TimedOut) => Err(timed_out(binding, &message, attempt)),
        };
    let failure = outcome.as_ref().err().map(|f| (f.kind, f.reason.as_str()));
    record_settlement(
        span,
        if failure.is_some() {
            "dead-letter"
        } else {
            "ack"
        },
        failure,
    );
    if let Err(failed) = outcome {
        if let Some(metrics) = &binding.metrics {
            let reason = if failed.malformed {
                crate::metrics::DeadLetterReason::Malformed
            } else {
                crate::metrics::DeadLetterReason::Permanent
            };
            metrics.dead_lettered(reason).inc();
        }
        let reason = DeadLetter {
            cause: if failed.malformed {
                DeadLetterCause::Malformed
            } else {
                DeadLetterCause::Rejected
            },
            reason: failed.reason,
            attempts: attempt,
        };
        // Already acknowledged: a copy in the dead-letter queue is all that
        // keeps it.
        let copy = message.dead_lettered(&reason, &binding.queue);
        if let Err(error) =
            publish_provisioning(broker, &binding.dead_letter_queue, &copy, binding.provision).await
        {
            tracing::error!(queue = %binding.queue, message_id = %message.id, error = %error,
                "an at-most-once message failed and could not be dead-lettered; it is lost");
        }
    }
}

/// Sends a copy to the dead-letter queue, then acknowledges the original;
/// when the copy cannot be sent, the original is retried instead, so the
/// message is never lost.
async fn dead_letter(
    binding: &Binding,
    broker: &dyn Broker,
    delivery: Box<dyn Delivery>,
    reason: &DeadLetter,
) {
    let message = delivery.message();
    tracing::warn!(
        checkpoint_id = "dead-letter",
        queue = %binding.queue,
        dead_letter_queue = %binding.dead_letter_queue,
        message_id = %message.id,
        cause = reason.cause.as_str(),
        attempts = reason.attempts,
        "dead-lettering the message: {}", reason.reason
    );
    let copy = message.dead_lettered(reason, &binding.queue);
    match publish_provisioning(broker, &binding.dead_letter_queue, &copy, binding.provision).await {
        Ok(()) => {
            if let Err(error) = delivery.ack().await {
                tracing::warn!(queue = %binding.queue, error = %error,
                    "the dead-lettered message could not be acknowledged; it may be delivered again");
            }
        }
        Err(error) => {
            let delay = binding.policy.delay(reason.attempts);
            tracing::error!(queue = %binding.queue, error = %error,
                "the dead-letter queue refused the message; it will be delivered again");
            if let Err(error) = delivery.retry(delay).await {
                tracing::warn!(queue = %binding.queue, error = %error, "the retry could not be scheduled");
            }
        }
    }
}

/// `work` ran past its time limit and was given up.
struct TimedOut;

/// Runs `work`, telling the broker `delivery` is still alive every `every`
/// while it runs, and giving it up once it has run `limit`. A call
/// that completes on its first poll sets no timer and reads no clock: the
/// limit is measured from the end of that poll, where the call first
/// waits (a future cannot be cancelled while it is being polled anyway).
async fn with_keep_alive<F: Future>(
    delivery: Option<&dyn Delivery>,
    mut work: std::pin::Pin<&mut F>,
    every: Duration,
    limit: Option<Duration>,
) -> Result<F::Output, TimedOut> {
    let first = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(output) => Ok(output),
        // Boxed: the timers stay out of the future of calls that do not
        // need them.
        Poll::Pending => Box::pin(keep_alive(delivery, work, every, limit)).await,
    }
}

async fn keep_alive<F: Future>(
    delivery: Option<&dyn Delivery>,
    mut work: std::pin::Pin<&mut F>,
    every: Duration,
    limit: Option<Duration>,
) -> Result<F::Output, TimedOut> {
    let now = tokio::time::Instant::now();
    let mut ticks = tokio::time::interval_at(now + every, every);
    let deadline = limit.and_then(|limit| now.checked_add(limit));
    let mut expired = pin!(async move {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    });
    loop {
        tokio::select! {
            biased;
            output = work.as_mut() => return Ok(output),
            () = &mut expired => return Err(TimedOut),
            _ = ticks.tick(), if delivery.is_some() => {
                if let Some(delivery) = delivery
                    && let Err(error) = delivery.keep_alive().await
                {
                    tracing::debug!(error = %error, "the keep-alive failed");
                }
            }
        }
    }
}

/// The failure of a call given up after the trigger's timeout: transient,
/// so it is retried (and dead-lettered once the retries are spent).
fn timed_out(binding: &Binding, message: &Message, attempt: u32) -> Failed {
    let error = binding.handle.timed_out(Trigger::Consumer, binding.timeout);
    let limit_ms = u64::try_from(binding.timeout.as_millis()).unwrap_or(u64::MAX);
    tracing::warn!(queue = %binding.queue, message_id = %message.id, attempt, timeout_ms = limit_ms,
        "the message's use case did not finish within its timeout; it was cancelled");
    Failed {
        kind: error.kind(),
        malformed: false,
        reason: format!("{}: {error}", error.code()),
    }
}

/// Reads the message and calls the use case in its transaction, in the
/// trace of `parent`.
async fn run(
    binding: &Binding,
    message: &Message,
    attempt: u32,
    parent: Option<TraceContext>,
) -> Result<Ran, Failed> {
    let text = std::str::from_utf8(&message.payload)
        .map_err(|e| malformed(format!("the payload is not UTF-8 text: {e}")))?;
    // A mapper that reads nothing but the payload's members deserializes
    // the input from the text in one pass; the others map part by part.
    let fast = binding.mapper.map_text(text);
    let body = match fast {
        Some(_) => None,
        None => Some(read_payload(text, &binding.mapper)?),
    };
    let ctx = message_ctx(
        &binding.handle,
        binding.reads_context,
        &binding.queue,
        message,
        attempt,
        parent,
    );
    if binding.deadline
        && let Some(at) = tokio::time::Instant::now().checked_add(binding.timeout)
    {
        // Never later than the runner gives the call up (it counts from
        // where the call first waits, after this): the interactions'
        // retries stop before the call is cancelled.
        let _ = crate::resilience::Deadline::attach(&ctx, at);
    }
    let transaction_id = ctx.transaction_id().clone();

    let consumer =
        (binding.semantic == DeliverySemantic::ExactlyOnce).then_some(binding.consumer.as_str());
    let inbox = match open_inbox(&binding.handle, consumer, &binding.queue, message, &ctx).await {
        Ok(Inbox::Recorded(work)) => Some(work),
        Ok(Inbox::Unused) => None,
        Ok(Inbox::Duplicate) => {
            if let Some(metrics) = &binding.metrics {
                metrics.inbox_duplicates.inc();
            }
            return Ok(Ran::Duplicate);
        }
        Err(error) => return Err(failed_with(&transaction_id, &error)),
    };

    let (sources, mapped);
    let input = match (&fast, body) {
        (Some(input), _) => input,
        (None, Some(body)) => {
            sources = MessageSources { message, body };
            mapped = binding.mapper.map(&sources, ctx.attributes());
            &mapped
        }
        (None, None) => return Err(malformed("the payload could not be read".to_owned())),
    };
    // Awaited where it is made: a call's future kept in a variable was
    // copied into the await.
    let mut outcome = binding.handle.call_for_outcome(ctx.clone(), input).await;
    if let Some(work) = inbox {
        outcome = end_work(work.as_ref(), outcome).await;
    }
    outcome.map(|_| Ran::Called).map_err(|failure| {
        // The one-pass read does not check the payload first: say so
        // precisely when it was not JSON at all.
        if let Some(e) = unread_text(text, failure.as_ref()) {
            return malformed(format!("the payload is not JSON: {e}"));
        }
        failed_with(&transaction_id, failure.as_ref())
    })
}

/// The context of a message's call: the consumer trigger, the
/// publisher's transaction as parent, `trace_parent` as the trace it
/// continues, and the `queue`, `message_id` and `attempt` attributes when
/// the mapper reads `context.*`.
fn message_ctx(
    handle: &UseCaseHandle,
    reads_context: bool,
    queue: &str,
    message: &Message,
    attempt: u32,
    trace_parent: Option<TraceContext>,
) -> Ctx {
    let mut ctx = handle
        .ctx_builder(Trigger::Consumer)
        .maybe_trace_parent(trace_parent);
    if let Some(parent) = message
        .transaction_id
        .as_deref()
        .and_then(TransactionId::parse)
    {
        ctx = ctx.parent(parent);
    }
    if reads_context {
        ctx = ctx
            .attribute("queue", queue)
            .attribute("message_id", message.id.as_str())
            .attribute("attempt", attempt);
    }
    ctx.build()
}

/// Calls a consumer trigger's use case with one message, read and mapped
/// exactly as [`Consumers`](crate::messaging::Consumers) do, but settled by
/// the caller: for entry points where the platform owns delivery, retries
/// and dead letters (AWS Lambda's SQS, SNS and EventBridge events).
///
/// `mapper` is the trigger's ([`InputMapper::new`] of its `mapper`),
/// `queue` its queue, `attempt` the delivery count (1 for the first). A
/// payload that is not UTF-8 JSON fails with an
/// [`ErrorKind::Malformed`] error.
///
/// `inbox` is, for an `exactly-once` trigger, the consumer name its inbox
/// entries are kept under ([`consumer_name`](bisslog_messaging::consumer_name)):
/// the message id is recorded in the call's unit of work, and a message
/// already handled is not run again (the reply is then empty). Without a
/// unit of work, or with `None`, the call runs as any call does.
pub async fn call_with_message(
    handle: &UseCaseHandle,
    mapper: &InputMapper,
    queue: &str,
    message: &Message,
    attempt: u32,
    inbox: Option<&str>,
) -> Result<crate::Reply, crate::Failure> {
    let unreadable = |reason: String| -> crate::Failure {
        Box::new(bisslog_core::Error::new(
            ErrorKind::Malformed,
            "malformed-message",
            reason,
        ))
    };
    let text = std::str::from_utf8(&message.payload)
        .map_err(|e| unreadable(format!("the payload is not UTF-8 text: {e}")))?;
    // The platform's entry point opens its own span, if any; the call
    // continues the message's trace.
    let ctx = message_ctx(
        handle,
        mapper.reads_context(),
        queue,
        message,
        attempt,
        message.trace_context(),
    );
    let work = match open_inbox(handle, inbox, queue, message, &ctx).await {
        Ok(Inbox::Recorded(work)) => Some(work),
        Ok(Inbox::Unused) => None,
        Ok(Inbox::Duplicate) => {
            return Ok(crate::Reply {
                completion: bisslog_core::Completion::NoContent,
                body: None,
            });
        }
        Err(error) => return Err(Box::new(error)),
    };
    let call = match mapper.map_text(text) {
        Some(input) => handle.call(ctx, &input),
        None => {
            let body = read_payload(text, mapper).map_err(|failed| unreadable(failed.reason))?;
            let sources = MessageSources { message, body };
            let input = mapper.map(&sources, ctx.attributes());
            handle.call(ctx.clone(), &input)
        }
    };
    let mut outcome = call.await;
    if let Some(work) = work {
        outcome = end_work(work.as_ref(), outcome).await;
    }
    outcome.map_err(|failure| {
        // The one-pass read does not check the payload first.
        if let Some(e) = unread_text(text, failure.as_ref()) {
            return unreadable(format!("the payload is not JSON: {e}"));
        }
        failure
    })
}

/// The inbox of one call of an `exactly-once` trigger.
enum Inbox {
    /// Not exactly-once, or the service has no unit of work.
    Unused,
    /// The message id is recorded in this work, attached to the call's
    /// context; whoever called [`open_inbox`] ends it.
    Recorded(Arc<dyn bisslog_messaging::Work>),
    /// The message was handled before: the redelivery is skipped (its work
    /// already rolled back).
    Duplicate,
}

/// Records the message in the inbox of `consumer` (an `exactly-once`
/// trigger's consumer name; `None` otherwise), inside a unit of work begun
/// for the call and attached to `ctx`.
async fn open_inbox(
    handle: &UseCaseHandle,
    consumer: Option<&str>,
    queue: &str,
    message: &Message,
    ctx: &Ctx,
) -> Result<Inbox, bisslog_core::Error> {
    let Some(consumer) = consumer else {
        return Ok(Inbox::Unused);
    };
    let Some(work) = handle.begin_unit_of_work() else {
        return Ok(Inbox::Unused);
    };
    if !work.record_message(consumer, &message.id).await? {
        tracing::info!(transaction_id = %ctx.transaction_id(), message_id = %message.id, queue,
            "the message was already handled; skipping the redelivery");
        if let Err(error) = work.rollback().await {
            tracing::warn!(error = %error, "the unit of work could not be rolled back");
        }
        return Ok(Inbox::Duplicate);
    }
    // The runtime begins no other work for this call.
    let _ = bisslog_messaging::work::attach(ctx, Arc::clone(&work));
    Ok(Inbox::Recorded(work))
}

/// The failure of a call, as the policy sees it, logged with its cause.
fn failed_with(transaction_id: &TransactionId, error: &dyn bisslog_core::UseCaseError) -> Failed {
    let kind = error.kind();
    let malformed = kind == ErrorKind::Malformed || error.code() == "invalid-input";
    tracing::warn!(
        transaction_id = %transaction_id,
        kind = kind.as_str(),
        code = %error.code(),
        error = %error,
        "the message's use case failed"
    );
    Failed {
        kind,
        malformed,
        reason: format!("{}: {error}", error.code()),
    }
}

/// A payload that cannot be read.
fn malformed(reason: String) -> Failed {
    Failed {
        kind: ErrorKind::Malformed,
        malformed: true,
        reason,
    }
}

/// The payload as JSON, or why it is malformed.
fn read_payload<'m>(text: &'m str, mapper: &InputMapper) -> Result<Body<'m>, Failed> {
    let body = Body::parse(text).map_err(|e| malformed(format!("the payload is not JSON: {e}")))?;
    // With the default mapping a message's input is its payload as it
    // stands: no fields to split.
    Ok(if mapper.reads_body_fields() && !mapper.is_default() {
        body.with_fields()
    } else {
        body
    })
}

/// A message as mapper sources: `event.*` reads the payload, `headers.*`
/// the headers.
struct MessageSources<'m> {
    message: &'m Message,
    body: Body<'m>,
}

impl Sources for MessageSources<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.message.header(name)
    }

    fn headers(&self) -> Vec<(&str, &str)> {
        self.message.all_headers().collect()
    }

    fn body(&self) -> Option<&Body<'_>> {
        Some(&self.body)
    }
}
