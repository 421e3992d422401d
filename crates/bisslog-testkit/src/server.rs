//! Where the server a test needs is, from the environment, the same way for
//! every server.

/// The URL in `variable` (such as `BISSLOG_TEST_NATS_URL`), for a test that
/// needs that server. Unset or empty: `None`, after one line on standard
/// error saying the test was skipped and why, so a run on a machine with
/// Rust alone passes and says what it did not test; under `CI=true` a
/// missing server is a failure, never a skip, so this panics naming the
/// variable.
///
/// ```no_run
/// #[tokio::test]
/// async fn publishes_to_nats() {
///     let Some(url) = bisslog_testkit::server_url("BISSLOG_TEST_NATS_URL") else {
///         return; // skipped, and the run says so
///     };
///     // ... connect to `url` ...
/// #   let _ = url;
/// }
/// ```
pub fn server_url(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{variable} is not set: under CI=true the server it names must be provided")
        }
        _ => {
            skip(&format!("set {variable} to run it against its server"));
            None
        }
    }
}

/// Says, in one line that `cargo test` shows even for a passing test, that
/// the running test is skipped and why. (libtest captures `eprintln!`; a
/// direct write to standard error is not captured.)
pub fn skip(why: &str) {
    use std::io::Write as _;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {why}");
}
