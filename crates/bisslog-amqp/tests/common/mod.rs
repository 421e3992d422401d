//! What the integration tests share: where RabbitMQ is, unique names, and
//! deleting the queues they create.

#![allow(dead_code, reason = "each test binary uses a part")]

use bisslog_amqp::AmqpBroker;

/// The server: `BISSLOG_TEST_AMQP_URL` (the test checked [`available`]).
pub(crate) fn url() -> String {
    bisslog_testkit::server_url("BISSLOG_TEST_AMQP_URL")
        .unwrap_or_else(|| panic!("BISSLOG_TEST_AMQP_URL is not set"))
}

/// Whether a RabbitMQ server is configured (`BISSLOG_TEST_AMQP_URL`): the
/// test is skipped, saying so, without one, except under `CI=true`: the
/// RabbitMQ tests never run silently against a default.
pub(crate) fn available() -> bool {
    bisslog_testkit::server_url("BISSLOG_TEST_AMQP_URL").is_some()
}

/// A new broker client.
pub(crate) async fn connect() -> AmqpBroker {
    let url = url();
    AmqpBroker::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connecting to RabbitMQ (BISSLOG_TEST_AMQP_URL): {e}"))
}

/// A queue name no other test or run uses.
pub(crate) fn unique(name: &str) -> String {
    let id = bisslog_messaging::new_message_id();
    format!("bisslog-amqp-test.{name}.{}", &id[..8])
}

/// What [`delete_queues`] reads as the name of an event's exchange to
/// delete rather than a queue: `exchange:` and the event queue's name.
pub(crate) const EXCHANGE: &str = "exchange:";

/// Deletes queues (a name of a queue that does not exist is fine), from a
/// thread and a connection of its own, so that it works in `Drop`, inside
/// a runtime or not, even while a test unwinds. Never panics.
pub(crate) fn delete_queues(queues: Vec<String>) {
    if queues.is_empty() {
        return;
    }
    let url = url();
    let deleting = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            let Ok(broker) = AmqpBroker::connect(&url).await else {
                return;
            };
            for queue in &queues {
                if let Some(exchange) = queue.strip_prefix(EXCHANGE) {
                    if let Err(error) = broker.delete_exchange(exchange).await {
                        eprintln!("could not delete the test exchange {exchange}: {error}");
                    }
                    continue;
                }
                if let Err(error) = broker.delete_queue(queue).await {
                    eprintln!("could not delete the test queue {queue}: {error}");
                }
            }
        });
    });
    let _ = deleting.join();
}

/// The queues of one test, deleted when it ends, passed or failed.
#[derive(Default)]
pub(crate) struct Queues(Vec<String>);

impl Queues {
    /// Registers a queue for deletion and returns its name.
    pub(crate) fn add(&mut self, name: impl Into<String>) -> String {
        let name = name.into();
        self.0.push(name.clone());
        name
    }

    /// A unique queue name, deleted at the end.
    pub(crate) fn unique(&mut self, name: &str) -> String {
        self.add(unique(name))
    }
}

impl Drop for Queues {
    fn drop(&mut self) {
        delete_queues(std::mem::take(&mut self.0));
    }
}
