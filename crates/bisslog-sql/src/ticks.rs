//! Schedule ticks in the database: each tick of a schedule runs on one
//! instance of every instance sharing it.

use bisslog_core::{BoxFuture, Error};
use bisslog_messaging::{Claim, RunLease, TickStore};
use jiff::Timestamp;

use crate::database::Database;
use crate::error::map_error;
use crate::on_engine;

/// Claims the tick when it is later than the last one and, with a running
/// mark asked for ($5 = false), no unexpired run is going ($4 = now); a
/// claim without a mark leaves the current one alone.
const CLAIM: &str = "INSERT INTO bisslog_schedule_ticks (schedule, last_tick_ms, running_tick_ms, running_until_ms) \
    VALUES ($1, $2, $3, $6) \
    ON CONFLICT (schedule) DO UPDATE SET last_tick_ms = excluded.last_tick_ms, \
        running_tick_ms = COALESCE(excluded.running_tick_ms, bisslog_schedule_ticks.running_tick_ms), \
        running_until_ms = COALESCE(excluded.running_until_ms, bisslog_schedule_ticks.running_until_ms) \
    WHERE bisslog_schedule_ticks.last_tick_ms < excluded.last_tick_ms \
      AND ($5 OR bisslog_schedule_ticks.running_until_ms IS NULL OR bisslog_schedule_ticks.running_until_ms < $4)";
/// A tick skipped because a run is going: recorded, the mark kept.
const SKIP: &str =
    "UPDATE bisslog_schedule_ticks SET last_tick_ms = $2 WHERE schedule = $1 AND last_tick_ms < $2";
const RENEW: &str = "UPDATE bisslog_schedule_ticks SET running_until_ms = $3 WHERE schedule = $1 AND running_tick_ms = $2";
const FINISH: &str = "UPDATE bisslog_schedule_ticks SET running_tick_ms = NULL, running_until_ms = NULL \
    WHERE schedule = $1 AND running_tick_ms = $2";
const LAST: &str = "SELECT last_tick_ms FROM bisslog_schedule_ticks WHERE schedule = $1";

/// The [`TickStore`] of instances that share a SQLite or PostgreSQL
/// database: give every instance's `Schedules` one, and each tick runs on
/// one of them. The table is created by [`Database::migrate`].
///
/// Running marks compare the instances' wall clocks: keep them in sync
/// (NTP) to well within the run lease.
#[derive(Debug, Clone)]
pub struct SqlTicks {
    db: Database,
}

impl SqlTicks {
    /// Ticks recorded in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    async fn claim_tick(
        &self,
        schedule: &str,
        tick: i64,
        lease: Option<RunLease>,
    ) -> Result<Claim, Error> {
        let (running_tick, until, now) = match lease {
            Some(lease) => (Some(tick), Some(ms(lease.until)), ms(lease.now)),
            None => (None, None, 0),
        };
        // Under group commit, in the write turn (docs/reliability.md).
        let _turn = self.db.write_turn().await?;
        let claimed = on_engine!(self.db.pool(), pool => {
            sqlx::query(CLAIM)
                .bind(schedule)
                .bind(tick)
                .bind(running_tick)
                .bind(now)
                .bind(lease.is_none())
                .bind(until)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map_error)?;
        if claimed == 1 {
            return Ok(Claim::Won);
        }
        // Lost: to an instance that took this tick, or to a run still going.
        let skipped = on_engine!(self.db.pool(), pool => {
            sqlx::query(SKIP).bind(schedule).bind(tick).execute(pool).await.map(|r| r.rows_affected())
        })
        .map_err(map_error)?;
        Ok(if skipped == 1 {
            Claim::Busy
        } else {
            Claim::Taken
        })
    }
}

fn ms(at: Timestamp) -> i64 {
    at.as_millisecond()
}

impl TickStore for SqlTicks {
    fn claim<'a>(
        &'a self,
        schedule: &'a str,
        tick: Timestamp,
        lease: Option<RunLease>,
    ) -> BoxFuture<'a, Result<Claim, Error>> {
        Box::pin(self.claim_tick(schedule, ms(tick), lease))
    }

    fn renew<'a>(
        &'a self,
        schedule: &'a str,
        tick: Timestamp,
        until: Timestamp,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            // Under group commit, in the write turn (docs/reliability.md).
            let _turn = self.db.write_turn().await?;
            on_engine!(self.db.pool(), pool => {
                sqlx::query(RENEW).bind(schedule).bind(ms(tick)).bind(ms(until)).execute(pool).await.map(|_| ())
            })
            .map_err(map_error)?;
            Ok(())
        })
    }

    fn finish<'a>(
        &'a self,
        schedule: &'a str,
        tick: Timestamp,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            // Under group commit, in the write turn (docs/reliability.md).
            let _turn = self.db.write_turn().await?;
            on_engine!(self.db.pool(), pool => {
                sqlx::query(FINISH).bind(schedule).bind(ms(tick)).execute(pool).await.map(|_| ())
            })
            .map_err(map_error)?;
            Ok(())
        })
    }

    fn last_tick<'a>(
        &'a self,
        schedule: &'a str,
    ) -> BoxFuture<'a, Result<Option<Timestamp>, Error>> {
        Box::pin(async move {
            let last: Option<i64> = on_engine!(self.db.pool(), pool => {
                sqlx::query_scalar(LAST).bind(schedule).fetch_optional(pool).await
            })
            .map_err(map_error)?;
            Ok(last.and_then(|ms| Timestamp::from_millisecond(ms).ok()))
        })
    }
}
