//! The queues: declaring them (provisioning), checking that they exist,
//! counting and deleting them, and the set of queues this broker knows to
//! exist. Every declaration runs on a channel of its own, so one that
//! RabbitMQ refuses takes nothing else down.

use std::sync::PoisonError;

use bisslog_messaging::BrokerError;
use lapin::options::{QueueDeclareOptions, QueueDeleteOptions};
use lapin::protocol::AMQPSoftError;
use lapin::types::FieldTable;

use super::Inner;
use crate::codec::short;
use crate::error;

impl Inner {
    fn is_known(&self, queue: &str) -> bool {
        self.known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(queue)
    }

    pub(super) fn remember(&self, queue: &str) {
        if !self.is_known(queue) {
            self.known
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(queue.to_owned());
        }
    }

    pub(super) fn forget(&self, queue: &str) {
        self.known
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(queue);
    }

    /// Declares `queue` durable, without arguments.
    pub(super) async fn declare(&self, queue: &str) -> Result<(), BrokerError> {
        let name = error::short_name(queue)?;
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        self.on_own_channel(
            &format!("declaring the queue `{queue}`"),
            |channel| async move {
                channel
                    .queue_declare(name, options, FieldTable::default())
                    .await
            },
            |e| error::provisioning(queue, false, e),
        )
        .await?;
        self.remember(queue);
        Ok(())
    }

    /// Checks once that a queue exists before publishing to it: a
    /// publish's own `basic.return` is the other safeguard, but lapin may
    /// hand a return to another publish confirmed by the same
    /// acknowledgement.
    pub(super) async fn ensure_exists(&self, queue: &str) -> Result<(), BrokerError> {
        if self.is_known(queue) {
            return Ok(());
        }
        self.inspect(queue, &format!("checking that the queue `{queue}` exists"))
            .await?;
        self.remember(queue);
        Ok(())
    }

    /// A passive declaration of `queue` (`doing` names it in errors): the
    /// number of messages ready in it, or [`BrokerError::NoQueue`].
    pub(super) async fn inspect(&self, queue: &str, doing: &str) -> Result<u32, BrokerError> {
        let Some(name) = short(queue) else {
            return Err(BrokerError::Rejected {
                message: error::name_too_long(queue),
            });
        };
        let options = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        self.on_own_channel(
            doing,
            |channel| async move {
                channel
                    .queue_declare(name, options, FieldTable::default())
                    .await
            },
            |e| {
                if error::is_soft(&e, AMQPSoftError::NOTFOUND) {
                    BrokerError::NoQueue {
                        queue: queue.to_owned(),
                    }
                } else {
                    error::publishing(queue, e)
                }
            },
        )
        .await
        .map(|declared| declared.message_count())
    }

    pub(super) async fn delete(&self, queue: &str) -> Result<u32, BrokerError> {
        let name = error::short_name(queue)?;
        self.on_own_channel(
            &format!("deleting the queue `{queue}`"),
            |channel| async move {
                channel
                    .queue_delete(name, QueueDeleteOptions::default())
                    .await
            },
            |e| error::provisioning(queue, false, e),
        )
        .await
    }
}
