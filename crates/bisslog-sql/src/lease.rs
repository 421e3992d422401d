//! Leases: one holder at a time across every instance sharing the
//! database, taken over when the holder stops renewing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bisslog_core::Error;

use crate::clock::now_ms;
use crate::database::Database;
use crate::error::map_error;
use crate::macros::own_statement;
use crate::on_engine;

/// Takes the lease when it is free or expired, renews it when held.
const ACQUIRE: &str = "INSERT INTO bisslog_leases (name, owner, expires_at_ms) VALUES ($1, $2, $3) \
    ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms \
    WHERE bisslog_leases.owner = excluded.owner OR bisslog_leases.expires_at_ms < $4";
const RELEASE: &str = "DELETE FROM bisslog_leases WHERE name = $1 AND owner = $2";

/// A named lease in the database: whoever holds it is the one instance
/// doing a job (relaying the outbox, firing a schedule); another takes it
/// over when the holder stops renewing for `ttl`.
///
/// Holding is a matter of time: renew well within `ttl`, and treat a
/// failed renewal as having lost it.
#[derive(Debug, Clone)]
pub struct Lease {
    db: Database,
    name: String,
    owner: String,
    ttl: Duration,
    /// Until when [`Lease::hold`] needs no renewal: half the `ttl` after
    /// the last renewal this owner made began (its clones share it).
    fresh_until: Arc<Mutex<Option<Instant>>>,
}

impl Lease {
    /// The lease `name`, held under `owner` (unique per instance) for
    /// `ttl` from each renewal.
    pub fn new(
        db: Database,
        name: impl Into<String>,
        owner: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        Self {
            db,
            name: name.into(),
            owner: owner.into(),
            ttl,
            fresh_until: Arc::default(),
        }
    }

    /// The lease's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long a renewal holds it.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether this owner holds the lease, renewing it (as
    /// [`acquire`](Self::acquire) does) only when half its `ttl` has passed
    /// since the last renewal began: a job that asks every round (the
    /// outbox relay, hundreds of times a second under load) writes the
    /// lease a few times per `ttl` instead of every round.
    ///
    /// Measured on this process's monotonic clock from before the
    /// renewal's statement, so the lease is still held whatever the wall
    /// clock does, as long as the instances' wall clocks (by which others
    /// see it expire) agree to within half the `ttl`.
    pub async fn hold(&self) -> Result<bool, Error> {
        let now = Instant::now();
        if self.fresh().is_some_and(|until| now < until) {
            return Ok(true);
        }
        let held = self.acquire().await?;
        if held {
            *self.fresh_until() = now.checked_add(self.ttl / 2);
        }
        Ok(held)
    }

    fn fresh(&self) -> Option<Instant> {
        *self.fresh_until()
    }

    fn fresh_until(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.fresh_until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes or renews the lease: `true` when this owner holds it now.
    pub async fn acquire(&self) -> Result<bool, Error> {
        self.forget();
        let now = now_ms();
        let ttl = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        let expires = now.saturating_add(ttl);
        // Under group commit, in the write turn (docs/reliability.md).
        let _turn = self.db.write_turn().await?;
        // Taken or renewed every relay round: on a kept connection.
        let taken = own_statement!(self.db, map_error, conn => {
            sqlx::query(ACQUIRE)
                .bind(&self.name)
                .bind(&self.owner)
                .bind(expires)
                .bind(now)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
        });
        Ok(taken == 1)
    }

    /// Makes the next [`hold`](Self::hold) ask the database.
    fn forget(&self) {
        *self.fresh_until() = None;
    }

    /// Gives the lease up, if this owner holds it, so another instance
    /// need not wait for it to expire.
    pub async fn release(&self) -> Result<(), Error> {
        self.forget();
        // Under group commit, in the write turn (docs/reliability.md).
        let _turn = self.db.write_turn().await?;
        on_engine!(self.db.pool(), pool => {
            sqlx::query(RELEASE)
                .bind(&self.name)
                .bind(&self.owner)
                .execute(pool)
                .await
                .map(drop)
        })
        .map_err(map_error)
    }
}
