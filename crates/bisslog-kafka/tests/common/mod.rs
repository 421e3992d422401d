//! The mock cluster the tests share: librdkafka's in-process Kafka of
//! three brokers, so the tests need no server and always run.

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

/// The URL of the mock cluster, with `options` after the test settings.
pub(crate) fn url(options: &str) -> String {
    // Heartbeats every half second: a member learns of a rebalance
    // quickly (librdkafka's default is 3 s). A short session because the
    // mock cluster, unlike Kafka, keeps a group that its last member left
    // rebalancing for the session timeout less a second before a new
    // member's join completes.
    format!(
        "kafka://{}?heartbeat.interval.ms=500&session.timeout.ms=6000{options}",
        mock().bootstrap
    )
}
