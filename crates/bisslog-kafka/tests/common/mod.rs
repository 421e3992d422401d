//! Where the tests run: librdkafka's mock cluster, an in-process Kafka of
//! three brokers that needs no server (so those tests always run), and a
//! Kafka server when `BISSLOG_TEST_KAFKA_URL` names one (CI starts
//! Tansu, a Kafka-compatible broker: `.ci/run`).

#![allow(dead_code, reason = "each test binary uses a part")]
#![allow(clippy::unwrap_used)]

use std::sync::mpsc::{Sender, sync_channel};
use std::sync::{Mutex, OnceLock, PoisonError};

use rdkafka::mocking::MockCluster;

/// A request to the thread that owns the mock cluster: create a topic.
type Create = (String, std::sync::mpsc::SyncSender<Result<(), String>>);

/// The mock cluster's bootstrap servers, and the way to its thread.
pub(crate) struct Mock {
    pub(crate) bootstrap: String,
    requests: Mutex<Sender<Create>>,
}

/// One mock cluster for the test process, owned by a thread of its own
/// (the handle is not `Sync`); it goes when the process ends.
pub(crate) fn mock() -> &'static Mock {
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
pub(crate) async fn create_in_mock(topic: &str) {
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

/// Where a test runs.
#[derive(Debug, Clone)]
pub(crate) enum On {
    /// librdkafka's mock cluster, in the test process.
    Mock,
    /// The Kafka server of `BISSLOG_TEST_KAFKA_URL`: its bootstrap
    /// servers.
    Server(String),
}

impl On {
    /// The server of `BISSLOG_TEST_KAFKA_URL`, or `None` (the test is
    /// skipped, saying so; under `CI=true` a missing variable fails it).
    pub(crate) fn server() -> Option<Self> {
        let url = bisslog_testkit::server_url("BISSLOG_TEST_KAFKA_URL")?;
        let config = bisslog_kafka::KafkaConfig::from_url(&url)
            .unwrap_or_else(|e| panic!("BISSLOG_TEST_KAFKA_URL={url}: {e}"));
        Some(Self::Server(config.bootstrap_servers))
    }

    /// The bootstrap servers, for plain clients.
    pub(crate) fn bootstrap(&self) -> String {
        match self {
            Self::Mock => mock().bootstrap.clone(),
            Self::Server(bootstrap) => bootstrap.clone(),
        }
    }

    /// The broker URL, with `options` after the test settings.
    pub(crate) fn url(&self, options: &str) -> String {
        // Heartbeats every half second: a member learns of a rebalance
        // quickly (librdkafka's default is 3 s). A short session (Kafka's
        // smallest by default) because the mock cluster, unlike Kafka,
        // keeps a group that its last member left rebalancing for the
        // session timeout less a second before a new member's join
        // completes.
        format!(
            "kafka://{}?heartbeat.interval.ms=500&session.timeout.ms=6000{options}",
            self.bootstrap()
        )
    }

    /// Makes `topic` where the adapter's provisioning cannot: in the mock
    /// (which has no CreateTopics). On a server nothing: provisioning
    /// creates it through the admin API.
    pub(crate) async fn create_topic(&self, topic: &str) {
        if let Self::Mock = self {
            create_in_mock(topic).await;
        }
    }
}
