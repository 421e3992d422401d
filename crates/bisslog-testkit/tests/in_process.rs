//! The broker conformance suite against the in-process broker.

use std::sync::OnceLock;

use bisslog_runtime::messaging::InProcessBroker;

/// Every "connection" reaches the same broker, as clients of one server.
async fn connect() -> InProcessBroker {
    static BROKER: OnceLock<InProcessBroker> = OnceLock::new();
    BROKER.get_or_init(InProcessBroker::new).clone()
}

bisslog_testkit::broker_conformance!(connect);
