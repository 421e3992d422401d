//! Delayed retries: a message retried after a delay waits in a retry
//! queue of that delay (`{queue}.retry.{delay}ms`), whose messages expire
//! after the delay and which RabbitMQ dead-letters back to the queue.
//! Here: naming and declaring those queues, keeping them from expiring
//! while in use, and publishing a retried copy to the right one.

use std::time::{Duration, Instant};

use bisslog_messaging::BrokerError;
use lapin::BasicProperties;
use lapin::options::QueueDeclareOptions;
use lapin::types::{AMQPValue, FieldTable, ShortString};

use super::{Inner, lock};
use crate::codec::short;
use crate::error;

/// How long an unused retry queue outlives its delay before RabbitMQ
/// deletes it (`x-expires` = delay + this). Every instance must declare
/// the same arguments, so changing it breaks retries while instances of
/// both versions run (and until the old retry queues expire).
const RETRY_QUEUE_IDLE: Duration = Duration::from_secs(10 * 60);

/// How often a retry queue in use is declared again, which restarts its
/// `x-expires` clock (publishing does not). Half of
/// [`RETRY_QUEUE_IDLE`]: a message published right before the refresh
/// is due still leaves the queue (after its delay) well before the queue
/// could expire.
const RETRY_QUEUE_REFRESH: Duration = Duration::from_secs(5 * 60);

/// The longest retry delay; longer ones are shortened to it.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

impl Inner {
    /// Publishes the copy of a message to retry: to the retry queue of the
    /// delay, or straight to the queue when there is no delay.
    /// Crate-visible: a delivery (`crate::delivery`) settles its retry
    /// through it.
    pub(crate) async fn send_retry(
        &self,
        queue: &str,
        delay: Duration,
        properties: BasicProperties,
        payload: &[u8],
    ) -> Result<(), BrokerError> {
        if delay.is_zero() {
            return self.send(queue, properties, payload).await;
        }
        let retry_queue = self.retry_queue(queue, delay).await?;
        self.send(&retry_queue, properties, payload).await
    }

    /// The retry queue of `queue` for `delay`, declared when this broker
    /// has not declared it lately.
    async fn retry_queue(&self, queue: &str, delay: Duration) -> Result<String, BrokerError> {
        let name = retry_queue_name(queue, delay);
        let fresh = lock(&self.retry_queues)
            .get(&name)
            .is_some_and(|declared| declared.elapsed() < RETRY_QUEUE_REFRESH);
        if fresh {
            return Ok(name);
        }
        let (Some(short_name), Some(_)) = (short(&name), short(queue)) else {
            return Err(BrokerError::Rejected {
                message: format!(
                    "the retry queue of `{queue}`: {}",
                    error::name_too_long(&name)
                ),
            });
        };
        let millis = retry_millis(delay);
        let expires = millis.saturating_add(millis_of(RETRY_QUEUE_IDLE));
        let mut arguments = FieldTable::default();
        for (key, value) in [
            ("x-queue-type", AMQPValue::LongString("classic".into())),
            ("x-message-ttl", AMQPValue::LongLongInt(to_i64(millis))),
            ("x-expires", AMQPValue::LongLongInt(to_i64(expires))),
            ("x-dead-letter-exchange", AMQPValue::LongString("".into())),
            (
                "x-dead-letter-routing-key",
                AMQPValue::LongString(queue.into()),
            ),
        ] {
            arguments.insert(ShortString::from(String::from(key)), value);
        }
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        self.on_own_channel(
            &format!("declaring the retry queue `{name}`"),
            |channel| async move { channel.queue_declare(short_name, options, arguments).await },
            |e| error::provisioning(&name, false, e),
        )
        .await?;
        lock(&self.retry_queues).insert(name.clone(), Instant::now());
        Ok(name)
    }

    /// Forgets the retry queues this broker declared for `queue`, and
    /// returns their names (to delete them with it).
    pub(super) fn forget_retry_queues(&self, queue: &str) -> Vec<String> {
        let prefix = format!("{queue}.retry.");
        let mut declared = lock(&self.retry_queues);
        let names = declared
            .keys()
            .filter(|n| n.starts_with(&prefix))
            .cloned()
            .collect::<Vec<_>>();
        for name in &names {
            declared.remove(name);
        }
        names
    }
}

/// The retry queue of `queue` for `delay` (see
/// [`AmqpBroker::retry_queue_name`](crate::AmqpBroker::retry_queue_name)).
pub(super) fn retry_queue_name(queue: &str, delay: Duration) -> String {
    format!("{queue}.retry.{}ms", retry_millis(delay))
}

/// A delay in whole milliseconds, at least 1 and at most
/// [`MAX_RETRY_DELAY`].
fn retry_millis(delay: Duration) -> u64 {
    millis_of(delay.min(MAX_RETRY_DELAY)).max(1)
}

fn millis_of(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AmqpBroker;

    #[test]
    fn retry_delays_are_whole_milliseconds() {
        assert_eq!(retry_millis(Duration::from_micros(10)), 1);
        assert_eq!(retry_millis(Duration::from_millis(1500)), 1500);
        assert_eq!(retry_millis(Duration::MAX), millis_of(MAX_RETRY_DELAY));
        assert_eq!(
            AmqpBroker::retry_queue_name("q", Duration::from_secs(1)),
            "q.retry.1000ms"
        );
    }
}
