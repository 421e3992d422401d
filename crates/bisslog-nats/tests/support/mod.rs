//! What the NATS test binaries share: where the server is, fresh names,
//! and the removal of streams that test runs leave behind.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use bisslog_nats::{NatsBroker, NatsConfig};
use futures_util::StreamExt as _;
use tokio::sync::OnceCell;

/// The prefixes of the streams test runs create: `conformance_` (the
/// shared suite's `conformance.<case>.<id>` queues) and
/// `bisslog_nats_test_` (this crate's tests).
pub const PREFIXES: [&str; 2] = ["conformance_", "bisslog_nats_test_"];

/// A stream of a test run older than this is left over: no run takes so
/// long, so a concurrent run's streams are never removed.
const LEFT_OVER_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// The server: `BISSLOG_TEST_NATS_URL` (the test checked [`available`]).
pub fn url() -> String {
    bisslog_testkit::server_url("BISSLOG_TEST_NATS_URL")
        .unwrap_or_else(|| panic!("BISSLOG_TEST_NATS_URL is not set"))
}

/// Whether a NATS server is configured (`BISSLOG_TEST_NATS_URL`): the
/// test is skipped, saying so, without one, except under `CI=true`.
pub fn available() -> bool {
    bisslog_testkit::server_url("BISSLOG_TEST_NATS_URL").is_some()
}

/// A broker with the default configuration.
pub async fn connect() -> NatsBroker {
    connect_with(NatsConfig::default()).await
}

/// A broker with `config`; the first one of the process removes the
/// streams earlier runs left.
pub async fn connect_with(config: NatsConfig) -> NatsBroker {
    let url = url();
    let broker = config
        .connection_name("bisslog-nats tests")
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connecting to NATS at {url}: {e}"));
    static CLEANED: OnceCell<()> = OnceCell::const_new();
    CLEANED
        .get_or_init(|| remove_left_over_streams(&broker))
        .await;
    broker
}

/// A queue no other test or run uses: `bisslog_nats_test.<case>.<id>`.
pub fn unique_queue(case: &str) -> String {
    format!("bisslog_nats_test.{case}.{}", unique_id())
}

/// Eight hexadecimal digits, new each time.
pub fn unique_id() -> String {
    bisslog_messaging::new_message_id()[..8].to_owned()
}

/// Deletes the named streams (the ones a test created).
pub async fn delete_streams(broker: &NatsBroker, names: &[&str]) {
    for name in names {
        if let Err(e) = broker.jetstream().delete_stream(name).await {
            eprintln!("could not delete the stream {name}: {e}");
        }
    }
}

/// How many messages `stream` holds.
pub async fn messages_in(broker: &NatsBroker, stream: &str) -> u64 {
    let mut stream = broker
        .jetstream()
        .get_stream(stream)
        .await
        .unwrap_or_else(|e| panic!("the stream {stream}: {e}"));
    stream
        .info()
        .await
        .unwrap_or_else(|e| panic!("the stream's info: {e}"))
        .state
        .messages
}

/// Waits (up to 10 s) until `stream` holds `count` messages.
pub async fn until_messages_in(broker: &NatsBroker, stream: &str, count: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = messages_in(broker, stream).await;
        if now == count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{stream} still holds {now} messages, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Deletes the streams named with [`PREFIXES`] created more than
/// [`LEFT_OVER_AFTER`] ago. Nothing else is touched.
async fn remove_left_over_streams(broker: &NatsBroker) {
    let jetstream = broker.jetstream();
    let mut names = jetstream.stream_names();
    let mut candidates = Vec::new();
    while let Some(name) = names.next().await {
        match name {
            Ok(name) if PREFIXES.iter().any(|p| name.starts_with(p)) => candidates.push(name),
            Ok(_) => {}
            Err(e) => {
                eprintln!("listing streams to clean up: {e}");
                return;
            }
        }
    }
    let now = jiff::Timestamp::now();
    for name in candidates {
        // Read as JSON: the type of `created` depends on async-nats features.
        let info: Result<serde_json::Value, _> =
            jetstream.request(format!("STREAM.INFO.{name}"), &()).await;
        let created = info.ok().and_then(|info| {
            info.get("created")?
                .as_str()?
                .parse::<jiff::Timestamp>()
                .ok()
        });
        if created.is_some_and(|created| now.duration_since(created) > LEFT_OVER_AFTER) {
            let _ = jetstream.delete_stream(&name).await;
        }
    }
}
