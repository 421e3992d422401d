//! The connection to RabbitMQ and the channels opened on it: the
//! publishing channels (in confirm mode), the short-lived channels of
//! declarations, and the health check. A broken connection or channel is
//! replaced by the next operation that needs it.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bisslog_messaging::BrokerError;
use lapin::options::{BasicQosOptions, ConfirmSelectOptions};
use lapin::types::LongString;
use lapin::{Channel, Connection, ConnectionProperties};

use super::{Inner, lock};
use crate::error;

/// One publishing channel (in confirm mode), opened again when broken.
#[derive(Default)]
pub(super) struct PublisherSlot {
    channel: Mutex<Option<Arc<Channel>>>,
    opening: tokio::sync::Mutex<()>,
}

impl PublisherSlot {
    fn current(&self) -> Option<Arc<Channel>> {
        lock(&self.channel)
            .as_ref()
            .filter(|c| c.status().connected())
            .cloned()
    }

    /// Forgets `channel` if it is still this slot's.
    pub(super) fn discard(&self, channel: &Arc<Channel>) {
        let mut current = lock(&self.channel);
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, channel)) {
            *current = None;
        }
    }
}

impl Inner {
    /// The connection, connecting again when it is broken.
    pub(super) async fn connection(&self) -> Result<Arc<Connection>, BrokerError> {
        if let Some(connection) = self.current_connection() {
            return Ok(connection);
        }
        let _connecting = self.connecting.lock().await;
        if let Some(connection) = self.current_connection() {
            return Ok(connection);
        }
        let connection = Arc::new(self.open_connection().await?);
        *lock(&self.connection) = Some(Arc::clone(&connection));
        Ok(connection)
    }

    pub(super) fn current_connection(&self) -> Option<Arc<Connection>> {
        lock(&self.connection)
            .as_ref()
            .filter(|c| c.status().connected())
            .cloned()
    }

    async fn open_connection(&self) -> Result<Connection, BrokerError> {
        let target = redact(&self.url);
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(BrokerError::Connection {
                message: format!("connecting to RabbitMQ at {target} needs a Tokio runtime"),
                source: None,
            });
        }
        let properties = ConnectionProperties::default()
            .with_connection_name(LongString::from(self.config.connection_name.as_str()));
        match tokio::time::timeout(
            self.config.operation_timeout,
            Connection::connect(&self.url, properties),
        )
        .await
        {
            Ok(Ok(connection)) => {
                tracing::debug!(target = %target, "connected to RabbitMQ");
                Ok(connection)
            }
            Ok(Err(e)) => Err(error::connection(
                &format!("connecting to RabbitMQ at {target}"),
                e,
            )),
            Err(_) => Err(error::timeout(format!(
                "connecting to RabbitMQ at {target}"
            ))),
        }
    }

    /// A publishing channel, opening it again when it is broken.
    pub(super) async fn publisher(&self) -> Result<(&PublisherSlot, Arc<Channel>), BrokerError> {
        let index = self.next_publisher.fetch_add(1, Ordering::Relaxed) % self.publishers.len();
        let slot = &self.publishers[index];
        match slot.current() {
            Some(channel) => Ok((slot, channel)),
            None => Ok((slot, self.open_publisher(slot).await?)),
        }
    }

    pub(super) async fn open_publisher(
        &self,
        slot: &PublisherSlot,
    ) -> Result<Arc<Channel>, BrokerError> {
        let _opening = slot.opening.lock().await;
        if let Some(channel) = slot.current() {
            return Ok(channel);
        }
        let connection = self.connection().await?;
        let open = async {
            let channel = connection.create_channel().await?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await?;
            Ok::<_, lapin::Error>(channel)
        };
        let channel = match tokio::time::timeout(self.config.operation_timeout, open).await {
            Ok(Ok(channel)) => Arc::new(channel),
            Ok(Err(e)) => return Err(error::connection("opening a publishing channel", e)),
            Err(_) => return Err(error::timeout("opening a publishing channel")),
        };
        *lock(&slot.channel) = Some(Arc::clone(&channel));
        Ok(channel)
    }

    /// Runs `operation` on a channel of its own, closed afterwards: a
    /// declaration RabbitMQ refuses closes its channel, and takes nothing
    /// else down with it.
    pub(super) async fn on_own_channel<T, F, Fut>(
        &self,
        what: &str,
        operation: F,
        refused: impl FnOnce(lapin::Error) -> BrokerError,
    ) -> Result<T, BrokerError>
    where
        F: FnOnce(Channel) -> Fut,
        Fut: Future<Output = lapin::Result<T>>,
    {
        let connection = self.connection().await?;
        let run = async {
            let channel = connection
                .create_channel()
                .await
                .map_err(|e| error::connection(&format!("opening a channel for {what}"), e))?;
            // The channel is dropped, and so closed, when `operation` ends.
            operation(channel).await.map_err(refused)
        };
        match tokio::time::timeout(self.config.operation_timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(error::timeout(what)),
        }
    }

    pub(super) async fn ready(&self) -> Result<(), BrokerError> {
        let (_, channel) = self.publisher().await?;
        // A round trip: basic.qos answers at once and changes nothing on a
        // channel that does not consume.
        match tokio::time::timeout(
            self.config.operation_timeout,
            channel.basic_qos(0, BasicQosOptions::default()),
        )
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(error::connection("checking the connection to RabbitMQ", e)),
            Err(_) => Err(error::timeout("checking the connection to RabbitMQ")),
        }
    }
}

/// The URL without its password, for messages and logs.
pub(super) use bisslog_core::mask_url_password as redact;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact("amqp://guest:secret@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("amqp://127.0.0.1"), "amqp://127.0.0.1");
        assert_eq!(redact("not a url"), "not a url");
        assert_eq!(redact("amqps://u:p@ss@host/vh"), "amqps://u:***@host/vh");
    }
}
