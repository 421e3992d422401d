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

/// A broker with the options of the URL.
pub async fn connect() -> RedisBroker {
    let url = url();
    RedisBroker::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connecting to Redis at {url}: {e}"))
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
