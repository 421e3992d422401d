//! The broker's statements. `$n` placeholders work on both engines.

/// Records a queue; provisioning it again changes nothing.
pub(super) const PROVISION: &str = "INSERT INTO bisslog_broker_queues (name, created_at_ms) \
    VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";

/// Whether a queue was provisioned.
pub(super) const QUEUE_EXISTS: &str = "SELECT COUNT(*) FROM bisslog_broker_queues WHERE name = $1";

/// Stores a message for a provisioned queue, in one statement (so it is
/// committed when it returns). A message whose id the queue already holds
/// is a duplicate publication (a relay sending again after a crash): it is
/// accepted and stored once, as JetStream's deduplication does.
pub(super) const PUBLISH: &str = "INSERT INTO bisslog_broker_messages \
    (queue, message_id, headers, payload, deliveries, available_at_ms, created_at_ms) \
    SELECT $1, $2, $3, $4, 0, $5, $5 \
    WHERE EXISTS (SELECT 1 FROM bisslog_broker_queues WHERE name = $1) \
    ON CONFLICT (queue, message_id) DO NOTHING";

/// Claims up to `$5` due messages of a queue for `$1` until `$2`: one
/// UPDATE, which SQLite runs as a write transaction from its start, so two
/// claimers never take the same row.
pub(super) const CLAIM_SQLITE: &str = "UPDATE bisslog_broker_messages \
    SET deliveries = deliveries + 1, lease_owner = $1, lease_until_ms = $2 \
    WHERE id IN (SELECT id FROM bisslog_broker_messages \
        WHERE queue = $3 AND available_at_ms <= $4 \
        AND (lease_until_ms IS NULL OR lease_until_ms <= $4) \
        ORDER BY id LIMIT $5) \
    RETURNING id, message_id, headers, payload, deliveries";

/// The same on PostgreSQL; `SKIP LOCKED` lets instances sharing the
/// database claim from one queue side by side without waiting on each
/// other's rows.
pub(super) const CLAIM_POSTGRES: &str = "UPDATE bisslog_broker_messages m \
    SET deliveries = m.deliveries + 1, lease_owner = $1, lease_until_ms = $2 \
    FROM (SELECT id FROM bisslog_broker_messages \
        WHERE queue = $3 AND available_at_ms <= $4 \
        AND (lease_until_ms IS NULL OR lease_until_ms <= $4) \
        ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED) due \
    WHERE m.id = due.id \
    RETURNING m.id, m.message_id, m.headers, m.payload, m.deliveries";

/// When the next message of a queue becomes claimable: delayed retries
/// and leases of other subscribers.
pub(super) const NEXT_DUE: &str = "SELECT MIN(CASE \
        WHEN lease_until_ms IS NOT NULL AND lease_until_ms > available_at_ms THEN lease_until_ms \
        ELSE available_at_ms END) \
    FROM bisslog_broker_messages WHERE queue = $1";

/// Acknowledged: the messages are done with. `$1` is a JSON array of
/// `[id, lease_owner]` pairs; a row is deleted only under the claim that
/// acknowledges it. Returns the ids deleted.
pub(super) const ACK_SQLITE: &str = "DELETE FROM bisslog_broker_messages \
    WHERE (id, lease_owner) IN (SELECT value ->> 0, value ->> 1 FROM json_each($1)) \
    RETURNING id";

/// The same on PostgreSQL.
pub(super) const ACK_POSTGRES: &str = "DELETE FROM bisslog_broker_messages m \
    USING jsonb_array_elements($1::jsonb) AS a(pair) \
    WHERE m.id = (a.pair ->> 0)::bigint AND m.lease_owner = a.pair ->> 1 \
    RETURNING m.id";

/// Retried: claimable again from `$3`.
pub(super) const RETRY: &str = "UPDATE bisslog_broker_messages \
    SET available_at_ms = $3, lease_owner = NULL, lease_until_ms = NULL \
    WHERE id = $1 AND lease_owner = $2";

/// Still being worked on: the lease runs until `$3`.
pub(super) const KEEP_ALIVE: &str = "UPDATE bisslog_broker_messages SET lease_until_ms = $3 \
    WHERE id = $1 AND lease_owner = $2";

/// A delivery dropped unsettled: claimable again at once.
pub(super) const RELEASE: &str = "UPDATE bisslog_broker_messages \
    SET lease_owner = NULL, lease_until_ms = NULL WHERE id = $1 AND lease_owner = $2";

/// A claimed message never handed to the subscriber (it stopped first):
/// claimable again at once, and that claim does not count as a delivery.
pub(super) const UNCLAIM: &str = "UPDATE bisslog_broker_messages \
    SET lease_owner = NULL, lease_until_ms = NULL, deliveries = deliveries - 1 \
    WHERE id = $1 AND lease_owner = $2";

/// Every message of a queue: waiting, delayed, or delivered and unsettled.
pub(super) const DEPTH: &str = "SELECT COUNT(*) FROM bisslog_broker_messages WHERE queue = $1";

/// When the oldest message of a queue was published (rows go when
/// acknowledged; the index on `(queue, id)` finds the first).
pub(super) const OLDEST: &str =
    "SELECT created_at_ms FROM bisslog_broker_messages WHERE queue = $1 ORDER BY id LIMIT 1";

/// Records an event queue (`$2` empty) or a consumer name's copy of it;
/// again changes nothing.
pub(super) const PROVISION_EVENT: &str = "INSERT INTO bisslog_broker_events \
    (queue, consumer, created_at_ms) VALUES ($1, $2, $3) ON CONFLICT (queue, consumer) DO NOTHING";

/// Whether an event queue (`$2` empty) or a consumer's copy was recorded.
pub(super) const EVENT_EXISTS: &str =
    "SELECT COUNT(*) FROM bisslog_broker_events WHERE queue = $1 AND consumer = $2";

/// Stores an event in the copy of every consumer name, in one statement:
/// the copies are the queues `<queue>.<consumer>`. A message id a copy
/// already holds is stored once there. Returns the copies it was stored
/// in (whose subscribers to wake).
pub(super) const PUBLISH_EVENT: &str = "INSERT INTO bisslog_broker_messages \
    (queue, message_id, headers, payload, deliveries, available_at_ms, created_at_ms) \
    SELECT $1 || '.' || consumer, $2, $3, $4, 0, $5, $5 \
    FROM bisslog_broker_events WHERE queue = $1 AND consumer <> '' \
    ON CONFLICT (queue, message_id) DO NOTHING \
    RETURNING queue";

/// Stores `rows` messages of a batch in one statement, in the order
/// given: `$1` is the time, then each message's queue, id, headers and
/// payload (`$2`–`$5` for the first). A command is stored only in a
/// provisioned queue, as [`PUBLISH`] does; an event (`event`) in the copy
/// of every consumer name, as [`PUBLISH_EVENT`] does; a message id a
/// queue already holds is stored once.
///
/// The rows are a `VALUES` list whose columns both engines name
/// `column1`…; the last one is the message's place in the batch, so that
/// the rows get their ids (the order consumers claim them in) in it.
pub(super) fn publish_many(rows: usize, event: bool) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(400 + rows * 24);
    text.push_str(
        "INSERT INTO bisslog_broker_messages \
         (queue, message_id, headers, payload, deliveries, available_at_ms, created_at_ms) ",
    );
    text.push_str(if event {
        "SELECT batch.column1 || '.' || copies.consumer, "
    } else {
        "SELECT batch.column1, "
    });
    text.push_str("batch.column2, batch.column3, batch.column4, 0, $1, $1 FROM (VALUES ");
    for row in 0..rows {
        let first = 2 + 4 * row;
        let separator = if row == 0 { "" } else { ", " };
        // Writing to a `String` cannot fail.
        let _ = write!(
            text,
            "{separator}(${first}, ${}, ${}, ${}, {row})",
            first + 1,
            first + 2,
            first + 3
        );
    }
    text.push_str(") AS batch ");
    text.push_str(if event {
        // `WHERE true`: SQLite reads an `ON` after a join as the join's
        // unless a `WHERE` comes between.
        "JOIN bisslog_broker_events AS copies \
         ON copies.queue = batch.column1 AND copies.consumer <> '' \
         WHERE true ORDER BY batch.column5, copies.consumer"
    } else {
        "WHERE EXISTS (SELECT 1 FROM bisslog_broker_queues WHERE name = batch.column1) \
         ORDER BY batch.column5"
    });
    text.push_str(" ON CONFLICT (queue, message_id) DO NOTHING");
    text
}

/// The consumer names of an event queue's copies, with `""` for the event
/// queue's own record (present once it was provisioned).
pub(super) const EVENT_CONSUMERS: &str =
    "SELECT consumer FROM bisslog_broker_events WHERE queue = $1";
