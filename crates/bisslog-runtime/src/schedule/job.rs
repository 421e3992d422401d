//! One schedule trigger bound to its use case: when it fires, and with
//! what input.

use std::sync::Arc;

use bisslog_schema::cron::CronExpr;
use bisslog_schema::{MisfirePolicy, OverlapPolicy, ScheduleTrigger};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::UseCaseHandle;

/// How many ticks are walked to find the latest one missed; beyond, the
/// last one reached stands for it (a minutely schedule down for 70 days).
const MISSED_TICKS_WALKED: usize = 100_000;

/// A schedule trigger, ready to run.
pub(crate) struct Job {
    /// The key its ticks are recorded under: `use_case/trigger-keyname`,
    /// or `use_case/N` with N its position in the use case's triggers.
    pub(crate) key: String,
    pub(crate) handle: UseCaseHandle,
    pub(crate) cron: CronExpr,
    pub(crate) time_zone: TimeZone,
    /// The metadata's static `event`, or an empty object.
    pub(crate) input: Arc<serde_json::Value>,
    pub(crate) overlap: OverlapPolicy,
    pub(crate) misfire: MisfirePolicy,
    pub(crate) max_attempts: u32,
}

/// Why a schedule trigger cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the schedule of `{use_case}` names the time zone `{time_zone}`, which the bundled time zone database does not have"
)]
pub struct UnknownTimeZone {
    /// The use case.
    pub use_case: String,
    /// The time zone as written.
    pub time_zone: String,
}

impl Job {
    pub(crate) fn new(
        handle: UseCaseHandle,
        position: usize,
        keyname: Option<&str>,
        trigger: &ScheduleTrigger,
    ) -> Result<Self, UnknownTimeZone> {
        let time_zone = match trigger.timezone.as_deref() {
            None => TimeZone::UTC,
            Some(name) => bisslog_schema::time_zone_database()
                .get(name)
                .map_err(|_| UnknownTimeZone {
                    use_case: handle.keyname().to_owned(),
                    time_zone: name.to_owned(),
                })?,
        };
        let key = match keyname {
            Some(keyname) => format!("{}/{keyname}", handle.keyname()),
            None => format!("{}/{position}", handle.keyname()),
        };
        let input = trigger
            .event
            .clone()
            .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()));
        Ok(Self {
            key,
            handle,
            cron: trigger.cronjob.clone(),
            time_zone,
            input: Arc::new(input),
            overlap: trigger.overlap_policy,
            misfire: trigger.misfire_policy,
            max_attempts: trigger.max_attempts.unwrap_or(1).max(1),
        })
    }

    /// `(use case, cron expression)`, as schedulers report what they serve.
    pub(crate) fn served(&self) -> (String, String) {
        (
            self.handle.keyname().to_owned(),
            self.cron.as_str().to_owned(),
        )
    }

    /// The first tick strictly after `after`; `None` when the schedule
    /// never fires again.
    pub(crate) fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let zoned = after.to_zoned(self.time_zone.clone());
        self.cron.next_after(&zoned).map(|next| next.timestamp())
    }

    /// The latest tick in `(after, now]`, if any.
    pub(crate) fn latest_between(&self, after: Timestamp, now: Timestamp) -> Option<Timestamp> {
        let mut latest = None;
        let mut cursor = after;
        for _ in 0..MISSED_TICKS_WALKED {
            match self.next_after(cursor) {
                Some(tick) if tick <= now => {
                    latest = Some(tick);
                    cursor = tick;
                }
                _ => break,
            }
        }
        latest
    }
}
