//! Schedule triggers: a use case run at each tick of a cron expression,
//! read in its time zone, with the metadata's static `event` as input.
//!
//! - **Once per tick across instances.** Each tick is claimed in a
//!   [`TickStore`](bisslog_messaging::TickStore) before it runs: [`MemoryTicks`] in one process (the
//!   embedded default, no server), `bisslog_sql::SqlTicks` in SQLite or
//!   PostgreSQL shared by every instance.
//! - **Overlap** (`overlap_policy`): `skip` (default) skips a tick while
//!   the previous run of the trigger is still going, on any instance;
//!   `allow` runs it alongside.
//! - **Misfires** (`misfire_policy`): ticks that fell while no instance ran
//!   (known from the last tick recorded in the store), or that were noticed
//!   more than [`Schedules::misfire_grace`] late, are `skip`ped (default)
//!   or run once (`fire-once`), however many there were.
//! - **Retries**: a transient failure (timeout, connection, unavailable) is
//!   retried with exponential backoff until `max_attempts` runs (default 1).
//! - **Daylight saving**: a wall-clock time that does not exist on a day
//!   (spring forward) runs when the clock has moved past it; one that
//!   occurs twice (fall back) runs once, at the first.
//!
//! ```
//! use bisslog_core::{Ctx, Error, UseCase};
//! use bisslog_runtime::Service;
//! use bisslog_runtime::schedule::{Clock, Schedules};
//! use std::sync::{Arc, atomic::{AtomicU32, Ordering}};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Input { days: u32 }
//! struct Purge(Arc<AtomicU32>);
//! impl UseCase for Purge {
//!     type Input = Input;
//!     type Output = ();
//!     type Error = Error;
//!     async fn run(&self, _: &Ctx, input: Input) -> Result<(), Error> {
//!         assert_eq!(input.days, 30);
//!         self.0.fetch_add(1, Ordering::SeqCst);
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let metadata = bisslog_schema::validate_str("metadata.yml", r#"
//! name: janitor
//! use_cases:
//!   purge:
//!     triggers:
//!       - type: schedule
//!         options: {cronjob: "0 * * * *", event: {days: 30}}
//! "#).into_service().unwrap();
//! let runs = Arc::new(AtomicU32::new(0));
//! let service = Service::builder(metadata).use_case("purge", Purge(runs.clone())).build().unwrap();
//!
//! // Simulated time on tokio's paused clock: a day passes at once.
//! let start = "2026-01-01T00:30:00Z".parse().unwrap();
//! let schedules = Schedules::new(service).clock(Clock::simulated(start, 1)).start().unwrap();
//! tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
//! schedules.shutdown().await;
//! assert_eq!(runs.load(Ordering::SeqCst), 24);
//! # }
//! ```

mod clock;
mod job;
mod memory;
mod runner;

pub use clock::Clock;
pub use job::UnknownTimeZone;
pub use memory::MemoryTicks;
pub use runner::{RunningSchedules, Schedules, TickError, TickRun};
