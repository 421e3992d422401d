//! The broker conformance suite of `bisslog-testkit`, on librdkafka's
//! mock cluster: an in-process Kafka of three brokers that needs no
//! server, so the suite always runs.
//!
//! The mock cluster has no CreateTopics API, so the suite's topics are
//! created through the mock's own call before the adapter provisions
//! them (which then finds them and changes nothing); the adapter's
//! topic creation through the admin API is not exercised here.

#![allow(clippy::unwrap_used)]

use std::sync::mpsc::{Sender, sync_channel};
use std::sync::{Mutex, OnceLock, PoisonError};

use bisslog_core::BoxFuture;
use bisslog_kafka::KafkaBroker;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Message, Subscription};
use rdkafka::mocking::MockCluster;

/// A request to the thread that owns the mock cluster: create a topic.
type Create = (String, std::sync::mpsc::SyncSender<Result<(), String>>);

/// The mock cluster's bootstrap servers, and the way to its thread.
struct Mock {
    bootstrap: String,
    requests: Mutex<Sender<Create>>,
}

/// One mock cluster for the test process, owned by a thread of its own
/// (the handle is not `Sync`); it goes when the process ends.
fn mock() -> &'static Mock {
    static MOCK: OnceLock<Mock> = OnceLock::new();
    MOCK.get_or_init(|| {
        let (ready, bootstrap) = sync_channel(1);
        let (requests, incoming) = std::sync::mpsc::channel::<Create>();
        std::thread::spawn(move || {
            let cluster = MockCluster::new(3).unwrap();
            ready.send(cluster.bootstrap_servers()).unwrap();
            for (topic, reply) in incoming {
                let created = cluster
                    .create_topic(&topic, 4, 3)
                    .map_err(|e| e.to_string());
                let _ = reply.send(created);
            }
        });
        Mock {
            bootstrap: bootstrap.recv().unwrap(),
            requests: Mutex::new(requests),
        }
    })
}

/// Creates `topic` in the mock cluster, standing in for the CreateTopics
/// request the mock does not answer (an existing topic is left as is).
async fn create_in_mock(topic: &str) {
    let (reply, created) = sync_channel(1);
    mock()
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .send((topic.to_owned(), reply))
        .unwrap();
    let _ = tokio::task::spawn_blocking(move || created.recv())
        .await
        .unwrap();
}

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
            create_in_mock(queue).await;
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
                create_in_mock(&subscription.queue).await;
            }
            self.0.subscribe(subscription).await
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        self.0.ready()
    }
}

async fn connect() -> OnMock {
    // Heartbeats every half second: a member learns of a rebalance
    // quickly (librdkafka's default is 3 s). A short session because the
    // mock cluster, unlike Kafka, keeps a group that its last member left
    // rebalancing for the session timeout less a second before a new
    // member's join completes.
    let url = format!(
        "kafka://{}?heartbeat.interval.ms=500&session.timeout.ms=6000",
        mock().bootstrap
    );
    OnMock(KafkaBroker::connect(&url).await.unwrap())
}

bisslog_testkit::broker_conformance!(connect);
