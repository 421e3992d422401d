//! The broker conformance suite of `bisslog-testkit`, on RabbitMQ
//! (`BISSLOG_TEST_AMQP_URL`, by default the local one).

mod common;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bisslog_amqp::AmqpBroker;
use bisslog_core::BoxFuture;
use bisslog_messaging::{
    Broker, BrokerError, Deliveries, Message, QueueKind, Subscription, event_copy_name,
};

/// The suite's queues are named by the suite: a client records the
/// queues it provisions or consumes, and the last client of a queue to go
/// deletes it (with the retry queues the suite's delays create), so
/// repeated runs leave nothing behind.
struct Tracked {
    inner: AmqpBroker,
    queues: Mutex<Vec<String>>,
}

/// How many live clients use each queue.
static USERS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tracked {
    fn track(&self, queue: &str) {
        let mut mine = lock(&self.queues);
        if !mine.iter().any(|q| q == queue) {
            mine.push(queue.to_owned());
            *lock(&USERS).entry(queue.to_owned()).or_default() += 1;
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let mine = std::mem::take(&mut *lock(&self.queues));
        let mut unused = Vec::new();
        {
            let mut users = lock(&USERS);
            for queue in mine {
                if let Some(count) = users.get_mut(&queue) {
                    *count -= 1;
                    if *count == 0 {
                        users.remove(&queue);
                        unused.push(queue);
                    }
                }
            }
        }
        let mut doomed = Vec::new();
        for queue in unused {
            if queue.starts_with(common::EXCHANGE) {
                doomed.push(queue);
                continue;
            }
            // The suite retries after 1, 2 and 4 seconds at most.
            for seconds in [1, 2, 4] {
                doomed.push(AmqpBroker::retry_queue_name(
                    &queue,
                    Duration::from_secs(seconds),
                ));
            }
            doomed.push(queue);
        }
        common::delete_queues(doomed);
    }
}

impl Broker for Tracked {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn system(&self) -> &'static str {
        self.inner.system()
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.track(queue);
        self.inner.provision(queue)
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.inner.publish(queue, message)
    }

    fn supports_events(&self) -> bool {
        self.inner.supports_events()
    }

    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        match kind {
            QueueKind::Command => self.track(queue),
            QueueKind::Event => self.track(&format!("{}{queue}", common::EXCHANGE)),
        }
        self.inner.provision_queue(queue, kind)
    }

    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        self.inner.publish_to(queue, kind, message)
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        match subscription.kind {
            QueueKind::Command => self.track(&subscription.queue),
            QueueKind::Event => {
                self.track(&format!("{}{}", common::EXCHANGE, subscription.queue));
                self.track(&event_copy_name(
                    &subscription.queue,
                    &subscription.consumer,
                ));
            }
        }
        self.inner.subscribe(subscription)
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        self.inner.ready()
    }
}

async fn connect() -> Tracked {
    Tracked {
        inner: common::connect().await,
        queues: Mutex::new(Vec::new()),
    }
}

bisslog_testkit::broker_conformance!(connect, if common::available);
