//! Reading the outbox for operators: what is pending, what is stuck, and
//! sending a stuck event again.

use bisslog_core::Error;

use crate::clock::now_ms;
use crate::error::map_error;
use crate::on_engine;
use crate::outbox::Outbox;

/// One event of the outbox, as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Its position in the outbox.
    pub id: i64,
    /// The message id (the consumers' inbox key).
    pub message_id: String,
    /// The queue it goes to.
    pub queue: String,
    /// Its ordering key.
    pub key: Option<String>,
    /// Its event type.
    pub event_type: Option<String>,
    /// When it was stored (ms since the Unix epoch).
    pub created_at_ms: i64,
    /// Failed attempts to publish it.
    pub attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was last attempted.
    pub last_attempt_at_ms: Option<i64>,
    /// When the relay tries it next.
    pub next_attempt_at_ms: i64,
}

type Columns = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    i32,
    Option<String>,
    Option<i64>,
    i64,
);

const STUCK: &str = "SELECT id, message_id, queue, ordering_key, event_type, created_at_ms, attempts, \
    last_error, last_attempt_at_ms, next_attempt_at_ms FROM bisslog_outbox \
    WHERE published_at_ms IS NULL AND attempts > 0 ORDER BY id LIMIT $1";
const PENDING: &str = "SELECT COUNT(*) FROM bisslog_outbox WHERE published_at_ms IS NULL";
const REDRIVE: &str = "UPDATE bisslog_outbox SET attempts = 0, next_attempt_at_ms = $2 \
    WHERE id = $1 AND published_at_ms IS NULL";

impl Outbox {
    /// How many events are waiting to be published.
    pub async fn pending(&self) -> Result<i64, Error> {
        on_engine!(self.db.pool(), pool => {
            sqlx::query_scalar(PENDING).fetch_one(pool).await
        })
        .map_err(map_error)
    }

    /// The unpublished events whose publication has failed at least once,
    /// oldest first: what blocks its key, and why.
    pub async fn stuck(&self, limit: u32) -> Result<Vec<OutboxRow>, Error> {
        let rows: Vec<Columns> = on_engine!(self.db.pool(), pool => {
            sqlx::query_as(STUCK).bind(i64::from(limit)).fetch_all(pool).await
        })
        .map_err(map_error)?;
        Ok(rows.into_iter().map(row).collect())
    }

    /// Makes a stuck event due now, with its attempts reset. `false` when
    /// no unpublished event has this id.
    pub async fn redrive(&self, id: i64) -> Result<bool, Error> {
        let changed = on_engine!(self.db.pool(), pool => {
            sqlx::query(REDRIVE)
                .bind(id)
                .bind(now_ms())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map_error)?;
        if changed > 0 {
            self.wake().notify_one();
        }
        Ok(changed > 0)
    }
}

fn row(c: Columns) -> OutboxRow {
    OutboxRow {
        id: c.0,
        message_id: c.1,
        queue: c.2,
        key: c.3,
        event_type: c.4,
        created_at_ms: c.5,
        attempts: c.6,
        last_error: c.7,
        last_attempt_at_ms: c.8,
        next_attempt_at_ms: c.9,
    }
}
