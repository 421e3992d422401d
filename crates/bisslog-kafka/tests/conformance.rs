//! The broker conformance suite of `bisslog-testkit`, twice: on
//! librdkafka's mock cluster (an in-process Kafka of three brokers that
//! needs no server, so it always runs) and, in [`on_server`], on the Kafka
//! server of `BISSLOG_TEST_KAFKA_URL` (CI starts Tansu, a
//! Kafka-compatible broker).
//!
//! The mock cluster has no CreateTopics API, so on it the suite's topics
//! are created through the mock's own call before the adapter provisions
//! them (which then finds them and changes nothing); on the server the
//! adapter creates them through the admin API.

#![allow(clippy::unwrap_used)]

mod common;

use bisslog_core::BoxFuture;
use bisslog_kafka::KafkaBroker;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Message, QueueKind, Subscription};

/// The adapter, its topics made in the mock before provisioning.
struct OnMock(KafkaBroker);

impl Broker for OnMock {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn system(&self) -> &'static str {
        self.0.system()
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move {
            common::create_in_mock(queue).await;
            self.0.provision(queue).await
        })
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.0.publish(queue, message)
    }

    fn supports_events(&self) -> bool {
        self.0.supports_events()
    }

    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(async move {
            common::create_in_mock(queue).await;
            self.0.provision_queue(queue, kind).await
        })
    }

    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.0.publish_to(queue, kind, message)
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        Box::pin(async move {
            if subscription.provision {
                common::create_in_mock(&subscription.queue).await;
            }
            self.0.subscribe(subscription).await
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        self.0.ready()
    }
}

async fn connect() -> OnMock {
    OnMock(
        KafkaBroker::connect(&common::On::Mock.url(""))
            .await
            .unwrap(),
    )
}

// On the mock, every case but four, unchanged.
// `shutdown_releases_unstarted_messages` wants the messages a stopping
// instance fetched ahead to reach a second instance while the first's
// calls still run: Kafka hands a partition over whole, from its committed
// offset, which cannot pass a message still in flight without that
// message running twice. Here the rest reach the second instance once the
// first's calls end (within the lease); the case is kept below, ignored
// with that reason, so the gap stays visible (on the server too).
// `commands_keep_one_consumer` starts four members of one group one after
// the other; librdkafka's mock cluster refuses offset commits while a
// group is joining, so what a member acknowledged just before each join is
// delivered again: kept below, ignored with that reason.
// `events_fan_out_to_every_consumer` (two members in each of two groups)
// meets the same refusal whenever the second member of a group joins after
// the first has acknowledged something, which a loaded machine makes
// likely; `instances_share_a_queue` when the second instance joins after
// the first has acknowledged (about one run in five on a loaded machine):
// ignored too. A server takes the revoking member's commit: the three pass
// in `on_server`.
bisslog_testkit::broker_conformance!(@cases connect, bisslog_testkit::conformance::always;
    acknowledges_success_once,
    retries_transient_failures_then_dead_letters,
    dead_letters_permanent_failures_at_once,
    dead_letters_malformed_messages_with_the_reason,
    a_poison_message_does_not_stall_the_rest,
    settles_every_delivery_exactly_once,
    long_calls_keep_their_lease,
    exactly_once_drops_redeliveries,
    at_most_once_acknowledges_first,
    consumers_are_children_of_the_producer,
    trace_headers_arrive_unchanged,
    keeps_order_per_key
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "Kafka hands partitions over whole: unstarted messages reach another instance only after the stopping one's calls end (docs/messaging.md, Kafka)"]
async fn shutdown_releases_unstarted_messages() {
    bisslog_testkit::conformance::shutdown_releases_unstarted_messages(connect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "librdkafka's mock cluster refuses commits while a group joins: four members joining one group one by one get acknowledged messages again (docs/messaging.md, Kafka)"]
async fn commands_keep_one_consumer() {
    bisslog_testkit::conformance::commands_keep_one_consumer(connect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "librdkafka's mock cluster refuses commits while a group joins: a member joining late gets its group's acknowledged messages again (docs/messaging.md, Kafka)"]
async fn events_fan_out_to_every_consumer() {
    bisslog_testkit::conformance::events_fan_out_to_every_consumer(connect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "librdkafka's mock cluster refuses commits while a group joins: the second instance joining late gets acknowledged messages again (docs/messaging.md, Kafka)"]
async fn instances_share_a_queue() {
    bisslog_testkit::conformance::instances_share_a_queue(connect).await;
}

/// The suite on a Kafka server: every case but the shutdown one, which
/// Kafka's design fails on any broker (above). The three cases the mock
/// cluster fails by refusing commits while a group joins pass here.
mod on_server {
    use bisslog_kafka::KafkaBroker;

    use super::common::On;

    fn available() -> bool {
        On::server().is_some()
    }

    async fn connect() -> KafkaBroker {
        let on = On::server().expect("checked by `available`");
        let url = on.url("");
        KafkaBroker::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connecting to Kafka at {url}: {e}"))
    }

    bisslog_testkit::broker_conformance!(@cases connect, available;
        acknowledges_success_once,
        retries_transient_failures_then_dead_letters,
        dead_letters_permanent_failures_at_once,
        dead_letters_malformed_messages_with_the_reason,
        a_poison_message_does_not_stall_the_rest,
        settles_every_delivery_exactly_once,
        long_calls_keep_their_lease,
        instances_share_a_queue,
        exactly_once_drops_redeliveries,
        at_most_once_acknowledges_first,
        consumers_are_children_of_the_producer,
        trace_headers_arrive_unchanged,
        keeps_order_per_key,
        events_fan_out_to_every_consumer,
        commands_keep_one_consumer
    );

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "Kafka hands partitions over whole: unstarted messages reach another instance only after the stopping one's calls end (docs/messaging.md, Kafka)"]
    async fn shutdown_releases_unstarted_messages() {
        if available() {
            bisslog_testkit::conformance::shutdown_releases_unstarted_messages(connect).await;
        }
    }
}
