//! Sessions: how an adapter reaches the database inside a use case, joining
//! the call's unit of work when there is one.

use bisslog_core::{Error, ErrorKind};
use sqlx::{PgConnection, SqliteConnection};
use tokio::sync::OwnedMutexGuard;

use crate::database::{Backend, Database, PooledConnection};
use crate::work::{Slot, SqlWork, Tx};

/// A connection to the database for one adapter operation: inside the
/// current use case's unit of work, in a transaction of its own, or a
/// plain pooled connection for reads. See [`Database::begin`],
/// [`Database::transaction`] and [`Database::reader`].
pub struct Session {
    inner: Inner,
}

enum Inner {
    /// The use case's unit of work, held while this session lives.
    Joined(OwnedMutexGuard<Slot>),
    /// A transaction of the session's own, committed by
    /// [`Session::commit`] and rolled back when dropped without it.
    Own(Tx),
    /// A connection outside any transaction.
    Pooled(PooledConnection),
}

/// The connection of a [`Session`], per engine: the adapter writes the
/// statement in the engine's dialect, or once with
/// [`on_engine!`](crate::on_engine).
pub enum Connection<'s> {
    /// A SQLite connection.
    Sqlite(&'s mut SqliteConnection),
    /// A PostgreSQL connection.
    Postgres(&'s mut PgConnection),
}

/// A [`Connection`] or a [`PoolRef`](crate::PoolRef), per engine: what
/// [`on_engine!`](crate::on_engine) matches on.
#[derive(Debug)]
pub enum Engine<S, P> {
    /// The SQLite one.
    Sqlite(S),
    /// The PostgreSQL one.
    Postgres(P),
}

impl<'s> From<Connection<'s>> for Engine<&'s mut SqliteConnection, &'s mut PgConnection> {
    fn from(connection: Connection<'s>) -> Self {
        match connection {
            Connection::Sqlite(conn) => Engine::Sqlite(conn),
            Connection::Postgres(conn) => Engine::Postgres(conn),
        }
    }
}

impl Session {
    /// The connection to run statements on.
    pub fn connection(&mut self) -> Result<Connection<'_>, Error> {
        match &mut self.inner {
            Inner::Joined(slot) => match &mut **slot {
                Slot::Open(joined) => joined.connection(),
                Slot::Idle | Slot::Ended => Err(Error::internal(
                    "the unit of work is not open; this is a bug in bisslog-sql",
                )),
            },
            Inner::Own(tx) => Ok(tx.connection()),
            Inner::Pooled(conn) => Ok(conn.connection()),
        }
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        match &self.inner {
            Inner::Joined(slot) => match &**slot {
                Slot::Open(joined) => joined.backend(),
                _ => Backend::Sqlite,
            },
            Inner::Own(tx) => tx.backend(),
            Inner::Pooled(conn) => conn.backend(),
        }
    }

    /// Whether this session is part of the current use case's unit of
    /// work (which the runtime commits when the use case succeeds).
    pub fn is_joined(&self) -> bool {
        matches!(self.inner, Inner::Joined(_))
    }

    /// Ends the session: commits its own transaction; a joined session
    /// leaves the commit to the unit of work, a read session has nothing to
    /// commit.
    pub async fn commit(self) -> Result<(), Error> {
        match self.inner {
            Inner::Own(tx) => tx.commit().await,
            Inner::Joined(_) | Inner::Pooled(_) => Ok(()),
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Inner::Joined(_) => "joined",
            Inner::Own(_) => "own transaction",
            Inner::Pooled(_) => "pooled",
        };
        f.debug_struct("Session")
            .field("kind", &kind)
            .field("backend", &self.backend())
            .finish()
    }
}

impl Database {
    /// A session for the writes of a use case: it joins the call's unit of
    /// work (the transaction begins with the first session that joins it,
    /// and commits or rolls back with the use case).
    ///
    /// Joining is the only way in: a write that would commit on its own
    /// while the use case it belongs to may still fail is refused with an
    /// `outside-unit-of-work` error (and a WARN naming the use case), never
    /// silently committed. That happens when the service runs no unit of
    /// work from this database (`ServiceBuilder::unit_of_work`), when the
    /// write goes through a second `Database` over the same data, or from
    /// a task spawned by the use case (a spawned task loses the call: await
    /// the work in the use case, or run it inside `bisslog_messaging::current::scope`). For a write
    /// that is meant to commit on its own (set-up, scripts, jobs outside any
    /// use case) use [`Database::transaction`].
    ///
    /// Do not hold a session while calling another adapter of the same
    /// database: the unit of work has one connection, and the second
    /// adapter would wait for the first to let go of it.
    ///
    /// ```no_run
    /// # async fn run(db: bisslog_sql::Database) -> Result<(), bisslog_core::Error> {
    /// use bisslog_sql::{Connection, map_error};
    ///
    /// // Inside a use case whose service runs in `db`'s unit of work:
    /// let mut session = db.begin().await?;
    /// let insert = "INSERT INTO notes (text) VALUES ($1)";
    /// match session.connection()? {
    ///     Connection::Sqlite(conn) => sqlx::query(insert).bind("hi").execute(conn).await.map(drop),
    ///     Connection::Postgres(conn) => sqlx::query(insert).bind("hi").execute(conn).await.map(drop),
    /// }
    /// .map_err(map_error)?;
    /// // Commits with the use case, or not at all.
    /// # Ok(()) }
    /// ```
    pub async fn begin(&self) -> Result<Session, Error> {
        let Some(work) = self.current_work() else {
            return Err(self.outside_unit_of_work());
        };
        let slot = work.open().await?;
        Ok(Session {
            inner: Inner::Joined(slot),
        })
    }

    /// A transaction of its own, outside any use case's unit of work,
    /// committed by [`Session::commit`] and rolled back when dropped
    /// without it: for writes meant to commit on their own (set-up,
    /// scripts, jobs that are not use cases).
    pub async fn transaction(&self) -> Result<Session, Error> {
        Ok(Session {
            inner: Inner::Own(Tx::begin(self).await?),
        })
    }

    /// Why [`begin`](Self::begin) found no unit of work to join, said in
    /// the log and as the error.
    fn outside_unit_of_work(&self) -> Error {
        let message = bisslog_messaging::current::with(|ctx| match ctx {
            Some(ctx) => {
                tracing::warn!(
                    transaction_id = %ctx.transaction_id(),
                    checkpoint_id = "outside-unit-of-work",
                    use_case = ctx.use_case(),
                    "a write outside the use case's unit of work was refused"
                );
                format!(
                    "use case `{}` writes to a database outside its unit of work: its service runs \
                     no unit of work from this database (ServiceBuilder::unit_of_work), or the \
                     write goes through a second Database; the write would commit even if the use \
                     case failed",
                    ctx.use_case()
                )
            }
            None => {
                tracing::warn!(
                    checkpoint_id = "outside-unit-of-work",
                    "a write outside any use-case call was refused"
                );
                "a write outside any use-case call (a task spawned by a use case loses its \
                 call: await the work in the use case, or run it inside bisslog_messaging::current::scope); use \
                 Database::transaction() for a write meant to commit on its own"
                    .to_owned()
            }
        });
        Error::new(ErrorKind::Internal, "outside-unit-of-work", message)
    }

    /// A session for reads: the current unit of work when it has already
    /// begun (so a use case reads its own writes), otherwise a pooled
    /// connection outside any transaction (reads never open one).
    pub async fn reader(&self) -> Result<Session, Error> {
        if let Some(work) = self.current_work()
            && let Some(slot) = work.if_open().await
        {
            return Ok(Session {
                inner: Inner::Joined(slot),
            });
        }
        Ok(Session {
            inner: Inner::Pooled(self.acquire().await?),
        })
    }

    /// The unit of work of the use case being polled, when it is this
    /// database's.
    pub(crate) fn current_work(&self) -> Option<SqlWork> {
        bisslog_messaging::current::with(|ctx| {
            let work = bisslog_messaging::work::of(ctx?)?;
            let sql = work.as_any().downcast_ref::<SqlWork>()?;
            (sql.database_id() == self.id()).then(|| sql.clone())
        })
    }
}
