//! `kafka://host:port[,host:port]?options`: where the brokers are, how
//! topics are created, and librdkafka properties passed through.

use std::time::Duration;

/// How a [`KafkaBroker`](crate::KafkaBroker) connects and creates topics.
///
/// Read from a URL by [`KafkaConfig::from_url`]: `kafka://` then the
/// bootstrap servers separated by commas, then options:
///
/// - `partitions=N`: the partitions of a topic that provisioning creates
///   (default 3). More partitions let more instances of a service share
///   a queue; an existing topic is never changed.
/// - `replication=N`: its replication factor (default: the broker's
///   `default.replication.factor`).
/// - `timeout_ms=N`: how long an operation (publish, metadata, topic
///   creation) may take (default 30 000).
/// - any other option is a librdkafka property set on every client
///   (`security.protocol=...`, `client.id=...`, `debug=cgrp`,
///   `heartbeat.interval.ms=...`): see librdkafka's `CONFIGURATION.md`.
///   librdkafka refuses unknown ones when the broker connects.
///
/// ```
/// use bisslog_kafka::KafkaConfig;
///
/// let config = KafkaConfig::from_url("kafka://k1:9092,k2:9092?partitions=6&client.id=registry").unwrap();
/// assert_eq!(config.bootstrap_servers, "k1:9092,k2:9092");
/// assert_eq!(config.partitions, 6);
/// assert_eq!(config.properties, [("client.id".to_owned(), "registry".to_owned())]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KafkaConfig {
    /// The bootstrap servers, `host:port` separated by commas.
    pub bootstrap_servers: String,
    /// The partitions of a topic provisioning creates. Default 3.
    pub partitions: i32,
    /// The replication factor of a topic provisioning creates; `None` is
    /// the broker's default.
    pub replication: Option<i32>,
    /// How long publishing, reading metadata or creating a topic may take.
    pub timeout: Duration,
    /// librdkafka properties set on every client, in order.
    pub properties: Vec<(String, String)>,
}

/// A `kafka://` URL that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Kafka URL: {0}")]
pub struct UrlError(String);

impl KafkaConfig {
    /// The configuration of brokers at `bootstrap_servers`, with the
    /// defaults.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            partitions: 3,
            replication: None,
            timeout: Duration::from_secs(30),
            properties: Vec::new(),
        }
    }

    /// Reads `kafka://host:port[,host:port]?options` (see the type's docs).
    pub fn from_url(url: &str) -> Result<Self, UrlError> {
        let rest = url
            .trim()
            .strip_prefix("kafka://")
            .ok_or_else(|| UrlError("expected kafka://host:port[,host:port][?options]".into()))?;
        let (hosts, query) = rest.split_once('?').unwrap_or((rest, ""));
        let hosts = hosts.trim_end_matches('/');
        if hosts.is_empty() || hosts.split(',').any(|h| h.trim().is_empty()) {
            return Err(UrlError("no bootstrap server (kafka://host:port)".into()));
        }
        if hosts.contains('@') {
            // Credentials belong in `sasl.username`/`sasl.password`
            // properties, which librdkafka reads; a user in the URL
            // would be silently ignored.
            return Err(UrlError(
                "credentials go in the sasl.username and sasl.password options, not before @"
                    .into(),
            ));
        }
        let mut config = Self::new(hosts);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| UrlError(format!("option `{pair}` has no value")))?;
            let number = |what: &str| {
                value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| UrlError(format!("`{what}` must be a positive number")))
            };
            match name {
                "partitions" => {
                    config.partitions = i32::try_from(number(name)?)
                        .map_err(|_| UrlError("`partitions` is too large".into()))?;
                }
                "replication" => {
                    config.replication = Some(
                        i32::try_from(number(name)?)
                            .map_err(|_| UrlError("`replication` is too large".into()))?,
                    );
                }
                "timeout_ms" => {
                    config.timeout = Duration::from_millis(number(name)?.unsigned_abs());
                }
                // librdkafka checks its properties when a client is
                // created: an unknown one fails the connection there.
                property => {
                    config
                        .properties
                        .push((property.to_owned(), value.to_owned()));
                }
            }
        }
        Ok(config)
    }

    /// Sets [`KafkaConfig::partitions`] (at least 1).
    #[must_use]
    pub fn partitions(mut self, partitions: i32) -> Self {
        self.partitions = partitions.max(1);
        self
    }

    /// Adds a librdkafka property set on every client.
    #[must_use]
    pub fn property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((name.into(), value.into()));
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn urls_name_servers_options_and_properties() {
        let config = KafkaConfig::from_url(
            "kafka://a:9092,b:9093/?partitions=4&replication=3&timeout_ms=500&security.protocol=ssl",
        )
        .unwrap();
        assert_eq!(config.bootstrap_servers, "a:9092,b:9093");
        assert_eq!(config.partitions, 4);
        assert_eq!(config.replication, Some(3));
        assert_eq!(config.timeout, Duration::from_millis(500));
        assert_eq!(
            config.properties,
            [("security.protocol".to_owned(), "ssl".to_owned())]
        );
        let plain = KafkaConfig::from_url("kafka://localhost:9092").unwrap();
        assert_eq!((plain.partitions, plain.replication), (3, None));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, says) in [
            ("nats://x:1", "expected kafka://"),
            ("kafka://", "no bootstrap server"),
            ("kafka://a:1,,b:2", "no bootstrap server"),
            ("kafka://u:p@a:1", "sasl.username"),
            ("kafka://a:1?partitions=0", "positive"),
            ("kafka://a:1?partitions", "no value"),
        ] {
            let error = KafkaConfig::from_url(url).unwrap_err().to_string();
            assert!(error.contains(says), "{url}: {error}");
        }
    }
}
