//! SQS batches: every record is routed to the consumer triggers of its
//! queue (the last segment of `eventSourceARN`), and the response lists
//! exactly the records that failed, for the event source mapping's
//! `ReportBatchItemFailures`: SQS deletes the others and delivers the
//! failed ones again. One record never fails the whole invocation.
//!
//! Records of a standard queue run concurrently (up to [`CONCURRENCY`] at
//! once). Records of a FIFO queue (`.fifo`) run one after the other in
//! order, and the first failure stops the batch: it and every record after
//! it are reported failed, so SQS keeps the group's order.

use bisslog_messaging::Message;
use bytes::Bytes;
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::error::LambdaError;
use crate::routing::Routing;

/// Records of a standard queue processed at once.
pub(crate) const CONCURRENCY: usize = 10;

/// Processes a batch; the `batchItemFailures` response.
pub(crate) async fn handle(routing: &Routing, event: &Value) -> Result<Value, LambdaError> {
    let records: &[Value] = event
        .get("Records")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    // SQS names FIFO queues `*.fifo`, whatever the metadata calls them.
    let fifo = records.iter().any(|record| {
        record
            .get("eventSourceARN")
            .and_then(Value::as_str)
            .is_some_and(|arn| arn.ends_with(".fifo"))
    });
    let mut failed: Vec<&Value> = Vec::new();
    if fifo {
        let mut stopped = false;
        for record in records {
            if stopped || process(routing, record).await.is_err() {
                stopped = true;
                failed.push(record);
            }
        }
    } else {
        // The futures are made first: a stream of closures returning
        // futures that borrow would make this future not `Send`.
        let calls: Vec<_> = records.iter().map(|r| process(routing, r)).collect();
        let outcomes: Vec<Result<(), LambdaError>> = futures_util::stream::iter(calls)
            .buffered(CONCURRENCY)
            .collect()
            .await;
        failed.extend(
            records
                .iter()
                .zip(outcomes)
                .filter(|(_, outcome)| outcome.is_err())
                .map(|(record, _)| record),
        );
    }
    let mut failures = Vec::with_capacity(failed.len());
    for record in failed {
        let Some(id) = record.get("messageId").and_then(Value::as_str) else {
            // SQS cannot be told which record failed: fail them all, the
            // only way not to lose it.
            return Err(LambdaError::malformed(
                "SQS event",
                "a record without `messageId` failed",
            ));
        };
        failures.push(json!({"itemIdentifier": id}));
    }
    Ok(json!({"batchItemFailures": failures}))
}

/// The queue of the metadata the record comes from.
fn queue_of<'a>(routing: &'a Routing, record: &'a Value) -> Option<&'a str> {
    record
        .get("eventSourceARN")
        .and_then(Value::as_str)
        .map(|arn| routing.routes.queue_of(arn))
}

/// Processes one record; a failure has been logged.
async fn process(routing: &Routing, record: &Value) -> Result<(), LambdaError> {
    let id = record
        .get("messageId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let outcome = deliver(routing, record, id).await;
    if let Err(error) = &outcome {
        tracing::warn!(message_id = id, error = %error, "the SQS record failed");
    }
    outcome
}

async fn deliver(routing: &Routing, record: &Value, id: &str) -> Result<(), LambdaError> {
    if record.get("eventSource").and_then(Value::as_str) != Some("aws:sqs") {
        return Err(LambdaError::unmatched(format!(
            "the record `{id}` of an SQS batch, which is not an SQS record"
        )));
    }
    let Some(queue) = queue_of(routing, record) else {
        return Err(LambdaError::malformed(
            "SQS record",
            format!("the record `{id}` has no `eventSourceARN`"),
        ));
    };
    let message = message(record, id);
    let attempt = record
        .get("attributes")
        .and_then(|a| a.get("ApproximateReceiveCount"))
        .and_then(Value::as_str)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let seen = format!("an SQS record from queue `{queue}`");
    super::consume(routing, "aws_sqs", queue, &message, attempt, &seen)
        .await
        .map(drop)
}

/// The record as a message: the body is the payload; string message
/// attributes are headers (`transaction-id` makes the publisher's
/// transaction the call's parent, `message-id` is the id when a bisslog
/// publisher set it, else SQS's `messageId`).
fn message(record: &Value, id: &str) -> Message {
    let payload = record
        .get("body")
        .and_then(Value::as_str)
        .map(|b| Bytes::copy_from_slice(b.as_bytes()))
        .unwrap_or_default();
    let attributes = record
        .get("messageAttributes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, attribute)| {
            let value = attribute.get("stringValue").and_then(Value::as_str)?;
            Some((name.as_str(), value))
        });
    Message::from_headers(payload, attributes, || id.to_owned())
}
