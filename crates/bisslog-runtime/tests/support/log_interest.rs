//! Log captures with a thread-local subscriber in a test binary whose
//! other tests run on threads without one: tracing's per-callsite
//! interest cache. Shared by the test binaries that capture logs
//! (`#[path]`-included, also from `bisslog-http`'s tests).

/// Installs, once per test binary, a global subscriber that enables
/// nothing but says every callsite is of interest "sometimes".
///
/// tracing caches each callsite's interest over the subscribers alive
/// when it is computed. A test thread without a subscriber of its own
/// that reaches a callsite first, while another test installs its
/// capturing subscriber, can have it cached as "never" after that
/// subscriber's rebuild of the cache; the capturing test then misses the
/// line (CI saw the resilience tests get one `circuit-opened` of two).
/// With this subscriber always there, an interest is never "never", and
/// each event asks the current thread's subscriber. Call it before
/// `tracing::subscriber::set_default`.
pub(crate) fn keep_every_callsite_interesting() {
    use tracing_subscriber::layer::SubscriberExt as _;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let nothing =
            tracing_subscriber::registry().with(tracing_subscriber::filter::filter_fn(|_| false));
        // Another global subscriber would do as well: ignore a refusal.
        let _ = tracing::subscriber::set_global_default(nothing);
    });
}
