//! The broker conformance suite every adapter passes, against a real Redis
//! server (`BISSLOG_TEST_REDIS_URL`; skipped when unset outside CI), in the
//! default configuration.

mod support;

use bisslog_redis::RedisBroker;

/// A new client for each broker the suite asks for.
async fn connect() -> RedisBroker {
    support::connect().await
}

bisslog_testkit::broker_conformance!(connect, if support::available);
