//! How the broker connects and publishes.

use std::time::Duration;

/// How an [`AmqpBroker`](crate::AmqpBroker) connects and publishes; every
/// field has a default.
///
/// ```
/// use std::time::Duration;
/// use bisslog_amqp::AmqpConfig;
///
/// let config = AmqpConfig::default()
///     .connection_name("company-data-registry")
///     .publisher_channels(2)
///     .confirm_timeout(Duration::from_secs(5));
/// assert_eq!(config.publisher_channels, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AmqpConfig {
    /// The name RabbitMQ shows for the connection (management UI,
    /// `rabbitmqctl list_connections`). Default `bisslog`.
    pub connection_name: String,
    /// How many channels publish (with publisher confirms), used in turn.
    /// One channel already pipelines many publishes; more spread the work
    /// and limit what a channel error (a refused message closes its
    /// channel) takes down with it. Default 1, at least 1.
    pub publisher_channels: usize,
    /// How long a publish waits for RabbitMQ's confirm before failing with
    /// [`BrokerError::Timeout`](bisslog_messaging::BrokerError::Timeout).
    /// Default 10 s.
    pub confirm_timeout: Duration,
    /// How long connecting, opening a channel, declaring a queue or
    /// starting a consumer may take. Default 10 s.
    pub operation_timeout: Duration,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self {
            connection_name: "bisslog".to_owned(),
            publisher_channels: 1,
            confirm_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(10),
        }
    }
}

impl AmqpConfig {
    /// Sets [`AmqpConfig::connection_name`].
    #[must_use]
    pub fn connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    /// Sets [`AmqpConfig::publisher_channels`] (at least 1).
    #[must_use]
    pub fn publisher_channels(mut self, channels: usize) -> Self {
        self.publisher_channels = channels.max(1);
        self
    }

    /// Sets [`AmqpConfig::confirm_timeout`].
    #[must_use]
    pub fn confirm_timeout(mut self, timeout: Duration) -> Self {
        self.confirm_timeout = timeout;
        self
    }

    /// Sets [`AmqpConfig::operation_timeout`].
    #[must_use]
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }
}
