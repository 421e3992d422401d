//! Event queues: an event is a durable fanout exchange named after the
//! queue; each consumer name has its own durable queue
//! (`<queue>.<consumer>`) bound to it, which its instances share and
//! which has the retry queues and dead-lettering of any queue. Declaring
//! only creates what is missing and never changes what exists: the
//! exchange is declared with bisslog's settings (a no-op on one that has
//! them), and one RabbitMQ keeps because it has others (an operator's, of
//! any type) is checked and used as it is.

use std::sync::PoisonError;

use bisslog_messaging::{BrokerError, Message};
use lapin::ExchangeKind;
use lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::protocol::AMQPSoftError;
use lapin::types::FieldTable;

use super::Inner;
use crate::codec::{self, short};
use crate::error;

/// What declaring an event's exchange with bisslog's settings found.
enum Declared {
    /// A durable fanout exchange: created, or there already.
    Fanout,
    /// RabbitMQ refused and changed nothing: an exchange of another type
    /// or settings exists (PRECONDITION_FAILED), or the user may not
    /// declare it (ACCESS_REFUSED).
    Refused(lapin::Error),
}

impl Inner {
    fn is_known_exchange(&self, exchange: &str) -> bool {
        self.exchanges
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(exchange)
    }

    fn remember_exchange(&self, exchange: &str) {
        if !self.is_known_exchange(exchange) {
            self.exchanges
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(exchange.to_owned());
        }
    }

    /// Whether the event's exchange exists (a passive declaration), or
    /// the error of asking.
    async fn exchange_exists(&self, queue: &str) -> Result<bool, BrokerError> {
        let name = error::short_name(queue)?;
        let options = ExchangeDeclareOptions {
            passive: true,
            ..ExchangeDeclareOptions::default()
        };
        let outcome = self
            .on_own_channel(
                &format!("checking the exchange `{queue}`"),
                |channel| async move {
                    channel
                        .exchange_declare(
                            name,
                            ExchangeKind::Fanout,
                            options,
                            FieldTable::default(),
                        )
                        .await
                },
                |e| {
                    if error::is_soft(&e, AMQPSoftError::NOTFOUND) {
                        BrokerError::NoQueue {
                            queue: queue.to_owned(),
                        }
                    } else {
                        error::provisioning(queue, true, e)
                    }
                },
            )
            .await;
        match outcome {
            Ok(()) => Ok(true),
            Err(BrokerError::NoQueue { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Makes sure the event's exchange exists: found, or (when `create`)
    /// declared durable fanout. A missing one that may not be created is
    /// [`BrokerError::NoQueue`].
    ///
    /// When it may create it, the declaration comes first and the passive
    /// check only after a refusal: RabbitMQ answers a check of a missing
    /// exchange by closing the channel with NOT_FOUND, which lapin logs at
    /// ERROR, and a fresh vhost is the normal first start, not an error.
    /// Declaring an exchange that exists with the same settings changes
    /// nothing; one of another type or settings (an operator's) is
    /// refused with PRECONDITION_FAILED, also without change, and then
    /// checked and used as it is. Only that case, and a missing exchange
    /// that may not be created, still has lapin log a closed channel.
    pub(super) async fn declare_exchange(
        &self,
        queue: &str,
        create: bool,
    ) -> Result<(), BrokerError> {
        if self.is_known_exchange(queue) {
            return Ok(());
        }
        if !create {
            if !self.exchange_exists(queue).await? {
                return Err(BrokerError::NoQueue {
                    queue: queue.to_owned(),
                });
            }
        } else if let Declared::Refused(refusal) = self.declare_fanout(queue).await? {
            // An operator's exchange of another type or settings, or a
            // user who may not declare: one that exists is used as it is.
            if !self.exchange_exists(queue).await? {
                return Err(error::provisioning(queue, false, refusal));
            }
            tracing::info!(
                queue,
                refusal = %refusal,
                "the exchange of an event queue exists with other settings than bisslog's \
                 (durable fanout), or may not be declared by this user; it is used as it is"
            );
        }
        self.remember_exchange(queue);
        Ok(())
    }

    /// Declares the event's exchange durable fanout, bisslog's settings:
    /// created when missing, unchanged when it exists with them. An
    /// exchange with other settings, or a user without the right to
    /// declare, is [`Declared::Refused`]: RabbitMQ changed nothing.
    async fn declare_fanout(&self, queue: &str) -> Result<Declared, BrokerError> {
        let name = error::short_name(queue)?;
        let options = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let outcome = self
            .on_own_channel(
                &format!("declaring the exchange `{queue}`"),
                |channel| async move {
                    match channel
                        .exchange_declare(
                            name,
                            ExchangeKind::Fanout,
                            options,
                            FieldTable::default(),
                        )
                        .await
                    {
                        Ok(()) => Ok(Declared::Fanout),
                        // Refusals that leave a passive check to decide.
                        Err(e)
                            if error::is_soft(&e, AMQPSoftError::PRECONDITIONFAILED)
                                || error::is_soft(&e, AMQPSoftError::ACCESSREFUSED) =>
                        {
                            Ok(Declared::Refused(e))
                        }
                        Err(e) => Err(e),
                    }
                },
                |e| error::provisioning(queue, false, e),
            )
            .await?;
        if let Declared::Fanout = outcome {
            // RabbitMQ's answer does not say whether it was created.
            tracing::debug!(
                queue,
                "declared the durable fanout exchange of an event queue (created, or found)"
            );
        }
        Ok(outcome)
    }

    /// Declares (or, without `provision`, checks) the consumer's own queue
    /// of an event and binds it to the event's exchange, which must exist
    /// or is declared too.
    pub(super) async fn declare_event_copy(
        &self,
        queue: &str,
        copy: &str,
        provision: bool,
    ) -> Result<(), BrokerError> {
        let missing = |e: BrokerError| match e {
            BrokerError::NoQueue { .. } => BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!(
                    "the exchange `{queue}` of the event does not exist and provisioning is off, so operators must declare it"
                ),
            },
            other => other,
        };
        self.declare_exchange(queue, provision)
            .await
            .map_err(missing)?;
        let (Some(copy_name), Some(exchange)) = (short(copy), short(queue)) else {
            return Err(BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: error::name_too_long(copy),
            });
        };
        let declare = QueueDeclareOptions {
            passive: !provision,
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let routing_key = exchange.clone();
        self.on_own_channel(
            &format!("declaring the queue `{copy}` of the event `{queue}`"),
            |channel| async move {
                channel
                    .queue_declare(copy_name.clone(), declare, FieldTable::default())
                    .await?;
                if !declare.passive {
                    // Bound with the queue's name as the key, which is also
                    // the routing key events are published with: a topic or
                    // direct exchange an operator made routes them too.
                    channel
                        .queue_bind(
                            copy_name,
                            exchange,
                            routing_key,
                            QueueBindOptions::default(),
                            FieldTable::default(),
                        )
                        .await?;
                }
                Ok(())
            },
            |e| error::provisioning(copy, declare.passive, e),
        )
        .await?;
        self.remember(copy);
        Ok(())
    }

    /// Deletes the exchange of an event queue (its consumers' queues stay).
    pub(super) async fn delete_exchange(&self, queue: &str) -> Result<(), BrokerError> {
        let name = error::short_name(queue)?;
        self.exchanges
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(queue);
        self.on_own_channel(
            &format!("deleting the exchange `{queue}`"),
            |channel| async move {
                channel
                    .exchange_delete(name, ExchangeDeleteOptions::default())
                    .await
            },
            |e| error::provisioning(queue, false, e),
        )
        .await
    }

    /// Publishes an event to its exchange, routing key the queue's name,
    /// not `mandatory`: an event no consumer has bound a queue for yet is
    /// accepted and reaches no one. A missing exchange is
    /// [`BrokerError::NoQueue`].
    pub(super) async fn publish_event(
        &self,
        queue: &str,
        message: &Message,
    ) -> Result<(), BrokerError> {
        self.declare_exchange(queue, false).await?;
        let properties = codec::properties(message, None);
        let outcome = self
            .send_via(queue, queue, false, properties, &message.payload)
            .await;
        if let Err(BrokerError::Rejected { .. }) = &outcome {
            // Perhaps deleted since it was remembered: the next publish
            // checks again.
            self.exchanges
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(queue);
        }
        outcome
    }
}
