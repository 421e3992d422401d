//! Publishing: a message in a statement of its own, or a batch in one
//! transaction (all of it or none).

use bisslog_messaging::{BrokerError, Message, Outgoing, QueueKind};

use super::SqlBroker;
use super::error::{broker_error, session_error};
use super::{row, sql, wake};
use crate::clock::now_ms;
use crate::on_engine;
use crate::session::Engine;

impl SqlBroker {
    /// Publishes one message outside any transaction (the statement
    /// commits it).
    pub(super) async fn insert(
        &self,
        queue: &str,
        kind: QueueKind,
        message: &Message,
    ) -> Result<(), BrokerError> {
        let row = Row::of(queue, kind, message)?;
        let mut connection = self
            .inner
            .db
            .statement_connection()
            .await
            .map_err(|e| broker_error("publishing", e))?;
        let mut stored = row
            .store(connection.engine())
            .await
            .map_err(|e| broker_error("publishing", e))?;
        if stored.is_empty() {
            let exists = row
                .queue_exists(connection.engine())
                .await
                .map_err(|e| broker_error("looking the queue up", e))?;
            if !exists {
                connection.reusable();
                return Err(row.no_queue());
            }
            // The queue exists now; it may not have when the message was
            // stored (another publisher or a subscriber provisioned it in
            // between): stored again, now nothing means a duplicate.
            stored = row
                .store(connection.engine())
                .await
                .map_err(|e| broker_error("publishing", e))?;
        }
        connection.reusable();
        self.wake(&stored);
        Ok(())
    }

    /// Stores a batch in one transaction: every message or none. A queue
    /// nobody provisioned fails the whole batch (`NoQueue`), as it fails a
    /// message published alone.
    ///
    /// The messages are stored a chunk at a time in multi-row statements,
    /// commands and events apart: on SQLite every statement is a round trip
    /// to the connection's thread, which cost more than the `INSERT`
    /// itself when each message had its own. An event queue is looked up
    /// once (whether it was provisioned, and its consumers' copies, to
    /// wake); command queues only when a statement stored fewer messages
    /// than it was given (a queue missing, or a duplicate).
    pub(super) async fn insert_batch(&self, batch: &[Outgoing<'_>]) -> Result<(), BrokerError> {
        if batch.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let rows = batch
            .iter()
            .map(|outgoing| Row::at(outgoing.queue, outgoing.kind, outgoing.message, now))
            .collect::<Result<Vec<_>, _>>()?;
        let mut session = self
            .inner
            .db
            .transaction()
            .await
            .map_err(|e| session_error("publishing", e))?;
        // The batch's queues, each once, in the order they first appear.
        let mut queues: Vec<&Row<'_>> = Vec::new();
        for row in &rows {
            if !queues
                .iter()
                .any(|seen| seen.queue == row.queue && seen.kind == row.kind)
            {
                queues.push(row);
            }
        }
        let mut woken: Vec<String> = Vec::with_capacity(queues.len());
        for row in queues.iter().filter(|row| row.kind == QueueKind::Event) {
            let consumers: Vec<String> = on_engine!(connection(&mut session)?, conn => {
                sqlx::query_scalar(sql::EVENT_CONSUMERS).bind(row.queue).fetch_all(conn).await
            })
            .map_err(|e| broker_error("looking the event queue up", e))?;
            // `""` is the event queue's own record: provisioned.
            if !consumers.iter().any(String::is_empty) {
                // Dropped unended: rolled back, nothing of the batch stored.
                return Err(row.no_queue());
            }
            woken.extend(
                consumers
                    .iter()
                    .filter(|consumer| !consumer.is_empty())
                    .map(|consumer| format!("{}.{consumer}", row.queue)),
            );
        }
        // Split by kind, each keeping the batch's order: a queue holds one
        // kind, so the order within every queue is the batch's.
        let (events, commands): (Vec<&Row<'_>>, Vec<&Row<'_>>) =
            rows.iter().partition(|row| row.kind == QueueKind::Event);
        let mut short = false;
        for chunk in commands.chunks(MOST_ROWS_PER_STATEMENT) {
            let stored = store_many(chunk, false, now, Engine::from(connection(&mut session)?))
                .await
                .map_err(|e| broker_error("publishing", e))?;
            short |= stored < chunk.len() as u64;
        }
        for row in queues.iter().filter(|row| row.kind != QueueKind::Event) {
            // Stored short: a queue nobody provisioned, or only duplicates.
            if short
                && !row
                    .queue_exists(Engine::from(connection(&mut session)?))
                    .await
                    .map_err(|e| broker_error("looking the queue up", e))?
            {
                return Err(row.no_queue());
            }
            woken.push(row.queue.to_owned());
        }
        for chunk in events.chunks(MOST_ROWS_PER_STATEMENT) {
            store_many(chunk, true, now, Engine::from(connection(&mut session)?))
                .await
                .map_err(|e| broker_error("publishing", e))?;
        }
        session
            .commit()
            .await
            .map_err(|e| session_error("publishing", e))?;
        self.wake(&woken);
        Ok(())
    }

    /// Wakes this process's subscribers of the queues a message was stored in.
    fn wake(&self, queues: &[String]) {
        for queue in queues {
            wake::wake(self.inner.db.location(), queue);
        }
    }
}

/// The connection of the broker's own transaction.
fn connection(session: &mut crate::Session) -> Result<crate::Connection<'_>, BrokerError> {
    session
        .connection()
        .map_err(|e| session_error("publishing", e))
}

/// The most messages one statement of a batch stores (4 parameters each
/// and the time). Measured with the relay benchmark on SQLite: 100 a
/// statement relayed ~45,000 events a second, 200 ~43,000, 500 (the
/// relay's whole round) ~34,000, 50 ~43,000; a statement per message
/// ~15,000.
const MOST_ROWS_PER_STATEMENT: usize = 100;

/// Stores `rows` (all events, or all commands) in one statement, in their
/// order; how many rows it stored. A message id its queue already holds
/// is stored once; a command for a queue nobody provisioned, and an event
/// for a queue with no consumer copies, are stored nowhere.
async fn store_many<'c, S, P>(
    rows: &[&Row<'_>],
    event: bool,
    now: i64,
    engine: Engine<S, P>,
) -> Result<u64, sqlx::Error>
where
    S: sqlx::Executor<'c, Database = sqlx::Sqlite>,
    P: sqlx::Executor<'c, Database = sqlx::Postgres>,
{
    let text = sql::publish_many(rows.len(), event);
    on_engine!(engine, conn => {
        // Built from numbers only: the values are all bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(&text[..])).bind(now);
        for row in rows {
            query = query
                .bind(row.queue)
                .bind(&row.message.id)
                .bind(&row.headers)
                .bind(&row.message.payload[..]);
        }
        query.execute(conn).await.map(|done| done.rows_affected())
    })
}

/// A publishing statement with a [`Row`]'s columns bound (a macro: the
/// query's type differs per engine).
macro_rules! bound {
    ($query:expr, $row:expr) => {
        $query
            .bind($row.queue)
            .bind(&$row.message.id)
            .bind(&$row.headers)
            .bind(&$row.message.payload[..])
            .bind($row.now)
    };
}

/// A message to store, with the statements that store it.
struct Row<'a> {
    queue: &'a str,
    kind: QueueKind,
    message: &'a Message,
    headers: String,
    now: i64,
}

impl<'a> Row<'a> {
    fn of(queue: &'a str, kind: QueueKind, message: &'a Message) -> Result<Self, BrokerError> {
        Self::at(queue, kind, message, now_ms())
    }

    /// The row of a message published at `now` (milliseconds).
    fn at(
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
        now: i64,
    ) -> Result<Self, BrokerError> {
        Ok(Self {
            queue,
            kind,
            message,
            headers: row::encode_headers(message)?,
            now,
        })
    }

    /// Stores the message; the queues it was stored in (a command queue,
    /// or every consumer name's copy of an event). None: a duplicate the
    /// queue holds, an event no consumer name has a copy of yet (it
    /// reaches no one), or a queue nobody provisioned.
    async fn store<'c, S, P>(&self, engine: Engine<S, P>) -> Result<Vec<String>, sqlx::Error>
    where
        S: sqlx::Executor<'c, Database = sqlx::Sqlite>,
        P: sqlx::Executor<'c, Database = sqlx::Postgres>,
    {
        if self.kind == QueueKind::Event {
            return on_engine!(engine, conn => {
                bound!(sqlx::query_scalar(sql::PUBLISH_EVENT), self).fetch_all(conn).await
            });
        }
        let rows = on_engine!(engine, conn => {
            bound!(sqlx::query(sql::PUBLISH), self).execute(conn).await.map(|r| r.rows_affected())
        })?;
        Ok(if rows > 0 {
            vec![self.queue.to_owned()]
        } else {
            Vec::new()
        })
    }

    /// Whether the queue was provisioned (an event queue: recorded).
    async fn queue_exists<'c, S, P>(&self, engine: Engine<S, P>) -> Result<bool, sqlx::Error>
    where
        S: sqlx::Executor<'c, Database = sqlx::Sqlite>,
        P: sqlx::Executor<'c, Database = sqlx::Postgres>,
    {
        let count: i64 = match self.kind {
            QueueKind::Event => on_engine!(engine, conn => {
                sqlx::query_scalar(sql::EVENT_EXISTS)
                    .bind(self.queue)
                    .bind("")
                    .fetch_one(conn)
                    .await
            })?,
            _ => on_engine!(engine, conn => {
                sqlx::query_scalar(sql::QUEUE_EXISTS)
                    .bind(self.queue)
                    .fetch_one(conn)
                    .await
            })?,
        };
        Ok(count > 0)
    }

    fn no_queue(&self) -> BrokerError {
        BrokerError::NoQueue {
            queue: self.queue.to_owned(),
        }
    }
}
