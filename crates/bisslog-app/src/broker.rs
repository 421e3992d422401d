//! The broker `BROKER_URL` names, connected, and how far it reaches.

use std::sync::Arc;

use bisslog_config::ConnectionUrl;
use bisslog_messaging::{Broker, Namespaced};
use bisslog_runtime::messaging::InProcessBroker;

use crate::error::StartError;

/// Which processes a broker's messages reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reach {
    /// This process alone (the in-process broker): nothing survives it.
    Process,
    /// The processes of this machine (a SQLite file).
    Machine,
    /// Any process that reaches the server (PostgreSQL, NATS, RabbitMQ,
    /// Redis, Kafka).
    Network,
}

/// Connects to the broker `url` names, every queue name prefixed with
/// `namespace` when given: unset or `in-process` is the in-process broker;
/// `sqlite://...` and `postgres://...` a durable broker in that database
/// (feature `sql`); `nats://...` NATS JetStream (feature `nats`);
/// `amqp://...` RabbitMQ (feature `amqp`); `redis://...` Redis Streams
/// (feature `redis`); `kafka://...` Kafka (feature `kafka`).
pub(crate) async fn connect(
    url: Option<&ConnectionUrl>,
    namespace: Option<&str>,
) -> Result<(Arc<dyn Broker>, Reach), StartError> {
    let (broker, reach) = connect_bare(url).await?;
    let broker = match namespace.filter(|n| !n.is_empty()) {
        Some(prefix) => Arc::new(Namespaced::new(broker, prefix)) as Arc<dyn Broker>,
        None => broker,
    };
    Ok((broker, reach))
}

async fn connect_bare(url: Option<&ConnectionUrl>) -> Result<(Arc<dyn Broker>, Reach), StartError> {
    let Some(url) = url.filter(|u| !u.expose().trim().is_empty() && u.expose() != "in-process")
    else {
        return Ok((Arc::new(InProcessBroker::new()), Reach::Process));
    };
    let text = url.expose().trim();
    let unsupported = |reason: &str| StartError::UnsupportedBroker {
        url: url.masked(),
        reason: reason.to_owned(),
    };
    let failed = |source: crate::BoxError| StartError::Broker {
        url: url.masked(),
        source,
    };
    let scheme = text.split("://").next().unwrap_or_default();
    match scheme {
        "sqlite" | "postgres" | "postgresql" => {
            #[cfg(feature = "sql")]
            {
                let broker = bisslog_sql::SqlBroker::connect(text)
                    .await
                    .map_err(|e| failed(crate::error::about_url(url, e)))?;
                let reach = if scheme == "sqlite" {
                    Reach::Machine
                } else {
                    Reach::Network
                };
                Ok((Arc::new(broker), reach))
            }
            #[cfg(not(feature = "sql"))]
            {
                let _ = failed;
                Err(unsupported(
                    "a broker in a database needs the `sql` feature of bisslog",
                ))
            }
        }
        "nats" | "tls" => {
            #[cfg(feature = "nats")]
            {
                let broker = bisslog_nats::NatsBroker::connect(text)
                    .await
                    .map_err(|e| failed(crate::error::about_url(url, e)))?;
                Ok((Arc::new(broker), Reach::Network))
            }
            #[cfg(not(feature = "nats"))]
            {
                let _ = failed;
                Err(unsupported("NATS needs the `nats` feature of bisslog"))
            }
        }
        "amqp" | "amqps" => {
            #[cfg(feature = "amqp")]
            {
                let broker = bisslog_amqp::AmqpBroker::connect(text)
                    .await
                    .map_err(|e| failed(crate::error::about_url(url, e)))?;
                Ok((Arc::new(broker), Reach::Network))
            }
            #[cfg(not(feature = "amqp"))]
            {
                let _ = failed;
                Err(unsupported("RabbitMQ needs the `amqp` feature of bisslog"))
            }
        }
        "redis" | "rediss" => {
            #[cfg(feature = "redis")]
            {
                let broker = bisslog_redis::RedisBroker::connect(text)
                    .await
                    .map_err(|e| failed(crate::error::about_url(url, e)))?;
                Ok((Arc::new(broker), Reach::Network))
            }
            #[cfg(not(feature = "redis"))]
            {
                let _ = failed;
                Err(unsupported("Redis needs the `redis` feature of bisslog"))
            }
        }
        "kafka" => {
            #[cfg(feature = "kafka")]
            {
                let broker = bisslog_kafka::KafkaBroker::connect(text)
                    .await
                    .map_err(|e| failed(crate::error::about_url(url, e)))?;
                Ok((Arc::new(broker), Reach::Network))
            }
            #[cfg(not(feature = "kafka"))]
            {
                let _ = failed;
                Err(unsupported("Kafka needs the `kafka` feature of bisslog"))
            }
        }
        _ => Err(unsupported(
            "expected in-process, sqlite://..., postgres://..., nats://..., amqp://..., redis://... or kafka://...",
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_broker_url_says_which_broker_and_how_far_it_reaches() {
        let (broker, reach) = connect(None, None).await.unwrap();
        assert_eq!((broker.name(), reach), ("in-process", Reach::Process));
        let explicit = ConnectionUrl::new("in-process");
        let (_, reach) = connect(Some(&explicit), Some("test.")).await.unwrap();
        assert_eq!(reach, Reach::Process);

        let unknown = ConnectionUrl::new("mqtt://user:s3cret@127.0.0.1:1883");
        let error = connect(Some(&unknown), None).await.err().unwrap();
        let message = error.to_string();
        assert!(matches!(error, StartError::UnsupportedBroker { .. }));
        assert!(
            !message.contains("s3cret") && message.contains("mqtt://"),
            "{message}"
        );
    }

    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn a_redis_url_is_a_redis_broker_on_the_network() {
        let Ok(server) = std::env::var("BISSLOG_TEST_REDIS_URL") else {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "BISSLOG_TEST_REDIS_URL must be set under CI"
            );
            eprintln!("skipped: BISSLOG_TEST_REDIS_URL is not set");
            return;
        };
        let url = ConnectionUrl::new(format!("{server}?claim_interval_ms=100"));
        let (broker, reach) = connect(Some(&url), None).await.unwrap();
        assert_eq!((broker.name(), reach), ("redis", Reach::Network));
        broker.ready().await.unwrap();
    }

    #[cfg(feature = "sql")]
    #[tokio::test]
    async fn a_sqlite_broker_reaches_this_machine() {
        let dir = std::env::temp_dir().join(format!("bisslog-app-broker-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = ConnectionUrl::new(format!("sqlite://{}/broker.db", dir.display()));
        let (broker, reach) = connect(Some(&url), None).await.unwrap();
        assert_eq!((broker.name(), reach), ("sql", Reach::Machine));
        drop(broker);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_kafka_url_names_the_kafka_broker() {
        // No cluster listens on port 1: with the feature, connecting
        // fails as a broker error; without it, the error names the
        // feature.
        let url = ConnectionUrl::new("kafka://127.0.0.1:1?timeout_ms=200");
        let error = connect(Some(&url), None).await.err().unwrap();
        if cfg!(feature = "kafka") {
            assert!(matches!(error, StartError::Broker { .. }), "{error}");
        } else {
            assert!(error.to_string().contains("`kafka` feature"), "{error}");
        }
    }
}
