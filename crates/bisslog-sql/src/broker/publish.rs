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
    pub(super) async fn insert_batch(&self, batch: &[Outgoing<'_>]) -> Result<(), BrokerError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut session = self
            .inner
            .db
            .transaction()
            .await
            .map_err(|e| session_error("publishing", e))?;
        // The queues something was stored in, to wake their subscribers.
        let mut stored_in: Vec<(&str, QueueKind)> = Vec::new();
        for outgoing in batch {
            let row = Row::of(outgoing.queue, outgoing.kind, outgoing.message)?;
            let mut stored = row
                .store_quietly(Engine::from(connection(&mut session)?))
                .await
                .map_err(|e| broker_error("publishing", e))?;
            if !stored {
                let exists = row
                    .queue_exists(Engine::from(connection(&mut session)?))
                    .await
                    .map_err(|e| broker_error("looking the queue up", e))?;
                if !exists {
                    // Dropped unended: rolled back, nothing of the batch stored.
                    return Err(row.no_queue());
                }
                stored = row
                    .store_quietly(Engine::from(connection(&mut session)?))
                    .await
                    .map_err(|e| broker_error("publishing", e))?;
            }
            if stored && !stored_in.contains(&(outgoing.queue, outgoing.kind)) {
                stored_in.push((outgoing.queue, outgoing.kind));
            }
        }
        let mut woken: Vec<String> = Vec::with_capacity(stored_in.len());
        for (queue, kind) in stored_in {
            if kind != QueueKind::Event {
                woken.push(queue.to_owned());
                continue;
            }
            let copies: Vec<String> = on_engine!(connection(&mut session)?, conn => {
                sqlx::query_scalar(sql::EVENT_COPIES).bind(queue).fetch_all(conn).await
            })
            .map_err(|e| broker_error("looking the event's copies up", e))?;
            woken.extend(copies);
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
        Ok(Self {
            queue,
            kind,
            message,
            headers: row::encode_headers(message)?,
            now: now_ms(),
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
        let stored = self.store_quietly(engine).await?;
        Ok(if stored {
            vec![self.queue.to_owned()]
        } else {
            Vec::new()
        })
    }

    /// Stores the message; whether it was stored anywhere (see
    /// [`store`](Self::store)), without the copies of an event.
    async fn store_quietly<'c, S, P>(&self, engine: Engine<S, P>) -> Result<bool, sqlx::Error>
    where
        S: sqlx::Executor<'c, Database = sqlx::Sqlite>,
        P: sqlx::Executor<'c, Database = sqlx::Postgres>,
    {
        let statement = match self.kind {
            QueueKind::Event => sql::PUBLISH_EVENT_QUIETLY,
            _ => sql::PUBLISH,
        };
        let rows = on_engine!(engine, conn => {
            bound!(sqlx::query(statement), self).execute(conn).await.map(|r| r.rows_affected())
        })?;
        Ok(rows > 0)
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
