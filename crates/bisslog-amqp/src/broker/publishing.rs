//! Publishing: every message goes to the default exchange with its queue
//! as the routing key, persistent and `mandatory`, on one of the
//! publishing channels, and counts as sent only once RabbitMQ confirms
//! it. A `basic.return` (no such queue) or a `basic.nack` is an error.

use bisslog_messaging::{BrokerError, Message};
use lapin::message::BasicReturnMessage;
use lapin::options::BasicPublishOptions;
use lapin::protocol::AMQPSoftError;
use lapin::{BasicProperties, Confirmation};

use super::Inner;
use crate::codec::{self, short};
use crate::error;

impl Inner {
    /// Publishes `message` to `queue`, which is first checked to exist
    /// (once: then it is known).
    pub(super) async fn publish(&self, queue: &str, message: &Message) -> Result<(), BrokerError> {
        self.ensure_exists(queue).await?;
        let properties = codec::properties(message, None);
        self.send(queue, properties, &message.payload).await
    }

    /// Publishes to the default exchange with `queue` as the routing key,
    /// mandatory, and waits for the confirm.
    pub(super) async fn send(
        &self,
        queue: &str,
        properties: BasicProperties,
        payload: &[u8],
    ) -> Result<(), BrokerError> {
        self.send_via("", queue, true, properties, payload).await
    }

    /// Publishes to `exchange` with `queue` as the routing key and waits
    /// for the confirm; a `mandatory` message no queue takes is an error.
    pub(super) async fn send_via(
        &self,
        exchange: &str,
        queue: &str,
        mandatory: bool,
        properties: BasicProperties,
        payload: &[u8],
    ) -> Result<(), BrokerError> {
        let (Some(routing_key), Some(exchange)) = (short(queue), short(exchange)) else {
            return Err(BrokerError::Rejected {
                message: error::name_too_long(queue),
            });
        };
        let (slot, channel) = self.publisher().await?;
        let options = BasicPublishOptions {
            mandatory,
            immediate: false,
        };
        let confirmed = async {
            channel
                .basic_publish(exchange, routing_key, options, payload, properties)
                .await?
                .await
        };
        match tokio::time::timeout(self.config.confirm_timeout, confirmed).await {
            Ok(Ok(Confirmation::Ack(None) | Confirmation::NotRequested)) => Ok(()),
            Ok(Ok(Confirmation::Ack(Some(returned)))) => self.returned(queue, &returned),
            Ok(Ok(Confirmation::Nack(_))) => Err(BrokerError::Rejected {
                message: format!(
                    "RabbitMQ could not take the message for `{queue}` (it answered basic.nack)"
                ),
            }),
            Ok(Err(e)) => Err(error::publishing(queue, e)),
            Err(_) => {
                // The channel may be stuck: the next publish opens another.
                slot.discard(&channel);
                Err(error::timeout(format!(
                    "the confirm of a message published to `{queue}`"
                )))
            }
        }
    }

    /// A publish to `queue` came back with a `basic.return`.
    fn returned(&self, queue: &str, returned: &BasicReturnMessage) -> Result<(), BrokerError> {
        let routed_to = returned.delivery.routing_key.as_str();
        if routed_to != queue {
            // Another publish's return, handed to this one by a multiple
            // acknowledgement; this publish's own fate is its ack. The
            // other queue is checked again on its next publish.
            tracing::debug!(queue, returned = routed_to, "a return for another queue");
            self.forget(routed_to);
            return Ok(());
        }
        self.forget(queue);
        if returned.reply_code == AMQPSoftError::NOROUTE.get_id() {
            Err(BrokerError::NoQueue {
                queue: queue.to_owned(),
            })
        } else {
            Err(BrokerError::Rejected {
                message: format!(
                    "RabbitMQ returned the message for `{queue}` (reply code {}): {}",
                    returned.reply_code, returned.reply_text
                ),
            })
        }
    }
}
