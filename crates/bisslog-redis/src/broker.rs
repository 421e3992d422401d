//! The [`Broker`] over Redis Streams: a stream per queue, a consumer group
//! per consumer name.

use std::sync::Arc;

use bisslog_core::BoxFuture;
use bisslog_messaging::{Broker, BrokerError, Deliveries, Message, QueueKind, Subscription};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::time::Instant;

use crate::config::RedisConfig;
use crate::delivery::{Group, Reader, RedisDeliveries};
use crate::error::{self, ConfigError};
use crate::{codec, reply, scripts};

/// A [`Broker`] on Redis Streams (Redis ≥ 6.2). Clones share one
/// connection; each subscription adds one of its own for its blocking
/// reads.
///
/// See the [crate documentation](crate) for the layout of queues, groups
/// and entries.
///
/// ```no_run
/// use bisslog_redis::RedisBroker;
/// use bisslog_messaging::{Broker, Message};
///
/// # async fn run() -> Result<(), bisslog_messaging::BrokerError> {
/// let broker = RedisBroker::connect("redis://127.0.0.1:6379").await?;
/// broker.provision("orders.created").await?;
/// broker.publish("orders.created", &Message::new(&br#"{"id":7}"#[..])).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisBroker {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: ConnectionManager,
    config: RedisConfig,
}

impl RedisConfig {
    /// Connects to the Redis server at `url` (`redis://[:password@]host:port/db`
    /// or `redis+unix:///path`; this build has no TLS, so `rediss://` is
    /// refused) with these options; query parameters of the URL are not
    /// read as options (see [`RedisBroker::connect`]).
    pub async fn connect(self, url: &str) -> Result<RedisBroker, BrokerError> {
        let client = redis::Client::open(url).map_err(ConfigError::Url)?;
        let conn = client
            .get_connection_manager_with_config(manager_config(&self, self.response_timeout))
            .await
            .map_err(|e| error::command("connecting to Redis", e))?;
        check_version(&mut conn.clone()).await?;
        Ok(RedisBroker {
            inner: Arc::new(Inner {
                client,
                conn,
                config: self,
            }),
        })
    }
}

/// The least Redis version: `XAUTOCLAIM`, `XADD NOMKSTREAM`, exclusive
/// `XRANGE` bounds.
const LEAST_VERSION: (u32, u32) = (6, 2);

/// Refuses a server older than [`LEAST_VERSION`], saying so at start-up
/// rather than failing on the first claim.
async fn check_version(conn: &mut ConnectionManager) -> Result<(), BrokerError> {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(conn)
        .await
        .map_err(|e| error::command("reading the server's version (INFO)", e))?;
    match version(&info) {
        Some(found) if found < LEAST_VERSION => Err(BrokerError::Connection {
            message: format!(
                "the server is Redis {}.{}; bisslog-redis needs {}.{} or later",
                found.0, found.1, LEAST_VERSION.0, LEAST_VERSION.1
            ),
            source: None,
        }),
        // A server that does not say (a compatible one): tried as it is.
        _ => Ok(()),
    }
}

/// `redis_version:7.0.15` in an `INFO server` answer, as (7, 0).
fn version(info: &str) -> Option<(u32, u32)> {
    let text = info
        .lines()
        .find_map(|line| line.strip_prefix("redis_version:"))?;
    let mut parts = text.trim().split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn manager_config(
    config: &RedisConfig,
    response_timeout: std::time::Duration,
) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(config.connection_timeout))
}

impl RedisBroker {
    /// Connects to the Redis server at `url`, with the options in its
    /// query (see [`RedisConfig::from_url`]).
    pub async fn connect(url: &str) -> Result<Self, BrokerError> {
        let (config, url) = RedisConfig::from_url(url)?;
        config.connect(&url).await
    }

    /// The configuration.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// A connection to the server (a clone of the broker's own: cheap,
    /// reconnecting), for what the broker does not do.
    pub fn connection(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    /// The key of the sorted set where `group` keeps the entries of
    /// `queue` that wait for a delayed retry:
    /// `bisslog:delayed:<group>:<queue>`.
    pub fn delayed_key(queue: &str, group: &str) -> String {
        format!("bisslog:delayed:{group}:{queue}")
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    async fn provision_stream(&self, queue: &str) -> Result<(), BrokerError> {
        let mut conn = self.conn();
        let kind: String = redis::cmd("TYPE")
            .arg(queue)
            .query_async(&mut conn)
            .await
            .map_err(|e| error::provisioning(queue, "reading the key's type", e))?;
        match kind.as_str() {
            "stream" => Ok(()),
            "none" => {
                // The idiom for an empty stream: a group made with
                // MKSTREAM and removed at once, in one transaction.
                let temporary = format!(
                    "bisslog-provisioning-{}",
                    &bisslog_messaging::new_message_id()[..8]
                );
                redis::pipe()
                    .atomic()
                    .cmd("XGROUP")
                    .arg("CREATE")
                    .arg(queue)
                    .arg(&temporary)
                    .arg("$")
                    .arg("MKSTREAM")
                    .ignore()
                    .cmd("XGROUP")
                    .arg("DESTROY")
                    .arg(queue)
                    .arg(&temporary)
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(|e| error::provisioning(queue, "creating the stream", e))?;
                tracing::info!(
                    checkpoint_id = "provisioned",
                    queue,
                    "created a Redis stream"
                );
                Ok(())
            }
            other => Err(BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!("the key `{queue}` holds a {other}, not a stream"),
            }),
        }
    }

    /// Makes sure the subscription's group exists: created (from the
    /// stream's first entry) when it may be, required otherwise.
    async fn ensure_group(&self, subscription: &Subscription) -> Result<(), BrokerError> {
        let queue = subscription.queue.as_str();
        let group = group_name(subscription);
        let mut conn = self.conn();
        if subscription.provision {
            let created = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(queue)
                .arg(group)
                .arg("0")
                .arg("MKSTREAM")
                .query_async::<()>(&mut conn)
                .await;
            return match created {
                Ok(()) => {
                    tracing::info!(
                        checkpoint_id = "provisioned",
                        queue,
                        group,
                        "created a Redis consumer group"
                    );
                    Ok(())
                }
                Err(e) if error::code(&e) == Some("BUSYGROUP") => Ok(()),
                Err(e) => Err(error::provisioning(queue, "creating the consumer group", e)),
            };
        }
        let groups = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(queue)
            .query_async::<redis::Value>(&mut conn)
            .await
            .map_err(|e| BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!(
                    "the stream cannot be read ({e}); provisioning is off, so operators must \
                     create it and its group: XGROUP CREATE {queue} {group} 0 MKSTREAM"
                ),
            })?;
        let names = group_fields(groups)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|g| g.name);
        if names.into_iter().any(|n| n == group) {
            Ok(())
        } else {
            Err(BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!(
                    "the stream has no consumer group `{group}`; provisioning is off, so \
                     operators must create it: XGROUP CREATE {queue} {group} 0"
                ),
            })
        }
    }

    async fn subscribe_to(&self, subscription: &Subscription) -> Result<Deliveries, BrokerError> {
        self.ensure_group(subscription).await?;
        let config = &self.inner.config;
        let claim_every = config.claim_every(subscription.ack_wait);
        // The blocking reads need a connection of their own (a blocked
        // connection answers nothing else) and a timeout longer than
        // the block.
        let blocking = self
            .inner
            .client
            .get_connection_manager_with_config(manager_config(
                config,
                config.response_timeout + claim_every.min(crate::delivery::MAX_BLOCK),
            ))
            .await
            .map_err(|e| error::command("connecting to Redis for reading", e))?;
        let consumer = format!("bisslog-{}", &bisslog_messaging::new_message_id()[..12]);
        let group = Arc::new(Group {
            conn: self.conn(),
            stream: subscription.queue.clone(),
            group: group_name(subscription).to_owned(),
            delayed: Self::delayed_key(&subscription.queue, group_name(subscription)),
            consumer,
            acks: Default::default(),
            acks_sent: Default::default(),
        });
        tracing::debug!(queue = %group.stream, group = %group.group, consumer = %group.consumer, "subscribed");
        let reader = Reader {
            group,
            blocking,
            batch: config.batch(subscription.prefetch),
            lease: subscription.ack_wait,
            claim_every,
            next_claim: Instant::now(),
            next_due: None,
            cursor: "0-0".to_owned(),
            forget_consumers_after: config.forget_consumers_after,
            next_sweep: Instant::now(),
        };
        Ok(Deliveries::closable(RedisDeliveries::new(reader)))
    }

    async fn xadd(&self, queue: &str, message: &Message) -> Result<(), BrokerError> {
        let mut command = redis::cmd("XADD");
        command.arg(queue).arg("NOMKSTREAM");
        if let Some(max_len) = self.inner.config.max_len {
            command.arg("MAXLEN").arg("~").arg(max_len);
        }
        command.arg("*");
        for (name, value) in codec::fields(message)? {
            command.arg(name).arg(value);
        }
        let id: Option<String> = command
            .query_async(&mut self.conn())
            .await
            .map_err(|e| error::command(&format!("publishing to `{queue}` (XADD)"), e))?;
        match id {
            Some(_) => Ok(()),
            None => Err(BrokerError::NoQueue {
                queue: queue.to_owned(),
            }),
        }
    }

    async fn depth_of(&self, queue: &str) -> Result<Option<u64>, BrokerError> {
        let mut conn = self.conn();
        let groups = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(queue)
            .query_async::<redis::Value>(&mut conn)
            .await;
        let groups = match groups {
            Ok(groups) => groups,
            Err(e) if e.detail().is_some_and(|d| d.contains("no such key")) => {
                return Err(BrokerError::NoQueue {
                    queue: queue.to_owned(),
                });
            }
            Err(e) => return Err(error::command("reading the consumer groups (XINFO)", e)),
        };
        let groups = group_fields(groups).ok_or_else(|| {
            error::unexpected("reading the consumer groups (XINFO)", "the groups")
        })?;
        if groups.is_empty() {
            // Every entry waits for the first group (groups start at the
            // stream's first entry).
            let length: u64 = redis::cmd("XLEN")
                .arg(queue)
                .query_async(&mut conn)
                .await
                .map_err(|e| error::command("reading the stream's length (XLEN)", e))?;
            return Ok(Some(length));
        }
        // The group furthest behind; a group whose lag Redis cannot tell
        // (entries deleted from the middle of the stream) makes it unknown.
        let mut deepest = 0;
        for group in groups {
            let (Some(pending), Some(lag)) = (group.pending, group.lag) else {
                return Ok(None);
            };
            deepest = deepest.max(pending.saturating_add(lag));
        }
        Ok(Some(deepest))
    }

    async fn oldest_unacked_age_of(
        &self,
        queue: &str,
    ) -> Result<Option<std::time::Duration>, BrokerError> {
        let millis: i64 = scripts::OLDEST_UNACKED
            .key(queue)
            .invoke_async(&mut self.conn())
            .await
            .map_err(|e| error::command("reading the oldest unacknowledged entry", e))?;
        match u64::try_from(millis) {
            Ok(millis) => Ok(Some(std::time::Duration::from_millis(millis))),
            Err(_) => Err(BrokerError::NoQueue {
                queue: queue.to_owned(),
            }),
        }
    }
}

/// What `XINFO GROUPS` tells of one group.
#[derive(Debug, Default)]
struct GroupInfo {
    name: Option<String>,
    pending: Option<u64>,
    /// Entries not yet delivered to the group (Redis ≥ 7).
    lag: Option<u64>,
}

fn group_fields(answer: redis::Value) -> Option<Vec<GroupInfo>> {
    reply::array(answer)?
        .into_iter()
        .map(|group| {
            let mut info = GroupInfo::default();
            for (key, value) in reply::pairs(group)? {
                let number = reply::int(&value).and_then(|n| u64::try_from(n).ok());
                match reply::text(key).as_deref() {
                    Some("name") => info.name = reply::text(value),
                    Some("pending") => info.pending = number,
                    Some("lag") => info.lag = number,
                    _ => {}
                }
            }
            Some(info)
        })
        .collect()
}

/// The consumer group a subscription reads in: its consumer name for an
/// event (each consumer name gets every entry), one group named after the
/// stream for a command (every consumer of the queue competes in it,
/// whatever its name).
fn group_name(subscription: &Subscription) -> &str {
    match subscription.kind {
        QueueKind::Event => &subscription.consumer,
        QueueKind::Command => &subscription.queue,
    }
}

impl Broker for RedisBroker {
    fn name(&self) -> &str {
        "redis"
    }

    fn system(&self) -> &'static str {
        "redis"
    }

    fn provision<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.provision_stream(queue))
    }

    fn publish<'a>(
        &'a self,
        queue: &'a str,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.xadd(queue, message))
    }

    /// Every stream fans out to its groups: an event is a stream whose
    /// consumer names each have a group.
    fn supports_events(&self) -> bool {
        true
    }

    /// The same stream for either kind: the kind decides the groups.
    fn provision_queue<'a>(
        &'a self,
        queue: &'a str,
        _kind: QueueKind,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.provision_stream(queue))
    }

    /// The same `XADD` for either kind.
    fn publish_to<'a>(
        &'a self,
        queue: &'a str,
        _kind: QueueKind,
        message: &'a Message,
    ) -> BoxFuture<'a, Result<(), BrokerError>> {
        Box::pin(self.xadd(queue, message))
    }

    fn subscribe<'a>(
        &'a self,
        subscription: &'a Subscription,
    ) -> BoxFuture<'a, Result<Deliveries, BrokerError>> {
        Box::pin(self.subscribe_to(subscription))
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), BrokerError>> {
        Box::pin(async move {
            redis::cmd("PING")
                .query_async::<()>(&mut self.conn())
                .await
                .map_err(|e| error::command("PING", e))
        })
    }

    fn depth<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<Option<u64>, BrokerError>> {
        Box::pin(self.depth_of(queue))
    }

    fn oldest_unacked_age<'a>(
        &'a self,
        queue: &'a str,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, BrokerError>> {
        Box::pin(self.oldest_unacked_age_of(queue))
    }
}

impl std::fmt::Debug for RedisBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection info holds the password: not shown.
        f.debug_struct("RedisBroker")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_info_server() {
        let info = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
        assert_eq!(version(info), Some((7, 0)));
        assert!(version("redis_version:6.0.9").is_some_and(|v| v < LEAST_VERSION));
        assert!(version("redis_version:6.2.0").is_some_and(|v| v >= LEAST_VERSION));
        assert_eq!(version("# Server\r\n"), None);
    }
}
