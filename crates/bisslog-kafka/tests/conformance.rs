//! The broker conformance suite of `bisslog-testkit`, on librdkafka's
//! mock cluster: an in-process Kafka of three brokers that needs no
//! server, so the suite always runs.
//!
//! The mock cluster has no CreateTopics API, so the suite's topics are
//! created through the mock's own call before the adapter provisions
//! them (which then finds them and changes nothing); the adapter's
//! topic creation through the admin API is not exercised here.

#![allow(clippy::unwrap_used)]

mod common;

use bisslog_core::BoxFuture;
use bisslog_kafka::KafkaBroker;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Message, Subscription};

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
    OnMock(KafkaBroker::connect(&common::url("")).await.unwrap())
}

bisslog_testkit::broker_conformance!(connect);
