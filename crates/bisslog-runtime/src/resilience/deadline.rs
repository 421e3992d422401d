//! When the use-case call running must be over: its entry point's
//! timeout, which bounds the retries made within it.

use bisslog_core::Ctx;
use tokio::time::Instant;

/// The instant by which a use-case call must end, attached to its [`Ctx`]
/// by the entry point that enforces it (an HTTP route's `timeout`).
///
/// An [`Interaction`](super::Interaction) called within that use case
/// starts no retry whose delay would end past it: the caller gets the last
/// failure at once instead of a timeout later. Without one, the entry
/// point's own timeout still cancels the call, retries included.
///
/// ```
/// use bisslog_core::{Ctx, Trigger};
/// use bisslog_runtime::resilience::Deadline;
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let ctx = Ctx::new("import_schemas", Trigger::Http);
/// let at = tokio::time::Instant::now() + Duration::from_secs(30);
/// assert!(Deadline::attach(&ctx, at).is_ok());
/// assert_eq!(Deadline::of(&ctx), Some(at));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Instant);

impl Deadline {
    /// Attaches `at` as the deadline of the call of `ctx` (and of the calls
    /// it makes). Once: a second deadline is refused and given back.
    pub fn attach(ctx: &Ctx, at: Instant) -> Result<(), Deadline> {
        ctx.insert_extension(Deadline(at))
    }

    /// The deadline of the call of `ctx`, if its entry point set one.
    pub fn of(ctx: &Ctx) -> Option<Instant> {
        ctx.extension::<Deadline>().map(|deadline| deadline.0)
    }
}
