//! The broker conformance suite every adapter passes, against a real NATS
//! server with JetStream (`BISSLOG_TEST_NATS_URL`; skipped when unset outside
//! CI), in the default configuration.

mod support;

use bisslog_nats::NatsBroker;

/// A new client for each broker the suite asks for.
async fn connect() -> NatsBroker {
    support::connect().await
}

bisslog_testkit::broker_conformance!(connect, if support::available);
