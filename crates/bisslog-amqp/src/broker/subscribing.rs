//! Subscribing: each subscription consumes its queue on a channel of its
//! own, with `basic.qos(prefetch)` and manual acknowledgements; its
//! deliveries are the stream of [`AmqpDeliveries`].

use std::sync::Arc;

use bisslog_messaging::{BrokerError, Deliveries, QueueKind, Subscription, event_copy_name};
use lapin::options::{BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};

use super::Inner;
use crate::delivery::{AmqpDeliveries, Consuming};
use crate::error;

impl Inner {
    /// Starts consuming the subscription's queue, declared first (only
    /// checked, passively, when the subscription does not provision). For
    /// an event, the queue consumed is the consumer name's own
    /// (`<queue>.<consumer>`, bound to the event's exchange).
    pub(super) async fn subscribe(
        self: &Arc<Self>,
        subscription: &Subscription,
    ) -> Result<Deliveries, BrokerError> {
        let copy;
        let queue = match subscription.kind {
            QueueKind::Event => {
                copy = event_copy_name(&subscription.queue, &subscription.consumer);
                self.declare_event_copy(&subscription.queue, &copy, subscription.provision)
                    .await?;
                copy.as_str()
            }
            _ => subscription.queue.as_str(),
        };
        let name = error::short_name(queue)?;
        let connection = self.connection().await?;
        let prefetch = u16::try_from(subscription.prefetch)
            .unwrap_or(u16::MAX)
            .max(1);
        let declare = QueueDeclareOptions {
            passive: !subscription.provision,
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let tag = consumer_tag(&subscription.consumer);
        let setup = async {
            let channel = connection.create_channel().await.map_err(|e| {
                error::connection(&format!("opening a channel to consume `{queue}`"), e)
            })?;
            channel
                .queue_declare(name.clone(), declare, FieldTable::default())
                .await
                .map_err(|e| error::provisioning(queue, declare.passive, e))?;
            channel
                .basic_qos(prefetch, BasicQosOptions { global: false })
                .await
                .map_err(|e| error::connection(&format!("setting the prefetch of `{queue}`"), e))?;
            let consumer = channel
                .basic_consume(
                    name,
                    tag,
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|e| error::provisioning(queue, declare.passive, e))?;
            Ok::<_, BrokerError>((channel, consumer))
        };
        let (channel, consumer) =
            match tokio::time::timeout(self.config.operation_timeout, setup).await {
                Ok(outcome) => outcome?,
                Err(_) => return Err(error::timeout(format!("starting to consume `{queue}`"))),
            };
        self.remember(queue);
        let consuming = Arc::new(Consuming {
            channel,
            broker: Arc::clone(self),
            queue: queue.to_owned(),
        });
        Ok(Deliveries::closable(AmqpDeliveries {
            tag: consumer.tag(),
            consumer,
            consuming,
            timeout: self.config.operation_timeout,
        }))
    }
}

/// A consumer tag naming the durable consumer, unique on its channel
/// (each subscription has its own).
fn consumer_tag(consumer: &str) -> ShortString {
    // Room for RabbitMQ's view of it, within the 255-byte limit.
    let mut end = consumer.len().min(200);
    while !consumer.is_char_boundary(end) {
        end -= 1;
    }
    ShortString::try_new(&consumer[..end]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_tags_fit_in_a_short_string() {
        assert_eq!(consumer_tag("svc-use_case").as_str(), "svc-use_case");
        assert_eq!(consumer_tag(&"é".repeat(200)).as_str().len(), 200);
    }
}
