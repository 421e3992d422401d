//! What the Redis test binaries share: where the server is, fresh names,
//! and the removal of the keys a test run made.
#![allow(dead_code, unreachable_pub)]

use bisslog_redis::RedisBroker;

/// The server: `BISSLOG_TEST_REDIS_URL` (the test checked [`available`]).
pub fn url() -> String {
    bisslog_testkit::server_url("BISSLOG_TEST_REDIS_URL")
        .unwrap_or_else(|| panic!("BISSLOG_TEST_REDIS_URL is not set"))
}

/// Whether a Redis server is configured (`BISSLOG_TEST_REDIS_URL`): the
/// test is skipped, saying so, without one, except under `CI=true`.
pub fn available() -> bool {
    bisslog_testkit::server_url("BISSLOG_TEST_REDIS_URL").is_some()
}

/// The key patterns of what test runs make: the shared suite's
/// `conformance.<case>.<id>` streams, this crate's, and their groups'
/// delayed-retry sets.
const PATTERNS: [&str; 4] = [
    "conformance.*",
    "bisslog_redis_test.*",
    "bisslog:delayed:*:conformance.*",
    "bisslog:delayed:*:bisslog_redis_test.*",
];

/// A key of a test run unused for longer than this is left over: no run
/// takes so long, so a concurrent run's keys are never removed.
const LEFT_OVER_AFTER_SECS: i64 = 600;

/// A broker with the options of the URL; the first one of the process
/// removes the keys earlier runs left.
pub async fn connect() -> RedisBroker {
    let url = url();
    let broker = RedisBroker::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connecting to Redis at {url}: {e}"));
    static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    CLEANED.get_or_init(|| remove_left_over_keys(&broker)).await;
    broker
}

async fn remove_left_over_keys(broker: &RedisBroker) {
    let mut conn = broker.connection();
    let mut left_over = Vec::new();
    for pattern in PATTERNS {
        let mut cursor = 0u64;
        loop {
            let Ok((next, keys)) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async::<(u64, Vec<String>)>(&mut conn)
                .await
            else {
                return;
            };
            for key in keys {
                let idle = redis::cmd("OBJECT")
                    .arg("IDLETIME")
                    .arg(&key)
                    .query_async::<Option<i64>>(&mut conn)
                    .await;
                if matches!(idle, Ok(Some(secs)) if secs > LEFT_OVER_AFTER_SECS) {
                    left_over.push(key);
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    if !left_over.is_empty() {
        delete_keys(broker, &left_over).await;
    }
}

/// A queue no other test or run uses: `bisslog_redis_test.<case>.<id>`.
pub fn unique_queue(case: &str) -> String {
    format!(
        "bisslog_redis_test.{case}.{}",
        &bisslog_messaging::new_message_id()[..8]
    )
}

/// Deletes the keys a test made (its streams and delayed sets).
pub async fn delete_keys(broker: &RedisBroker, keys: &[String]) {
    let mut conn = broker.connection();
    if let Err(e) = redis::cmd("DEL")
        .arg(keys)
        .query_async::<i64>(&mut conn)
        .await
    {
        eprintln!("could not delete the keys {keys:?}: {e}");
    }
}
