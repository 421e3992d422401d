//! The crate's own errors, and the Redis client's errors as
//! [`BrokerError`]s: what cannot reach the server is a (transient)
//! connection error, what the server refuses is said with its reason.

use bisslog_messaging::BrokerError;

/// A Redis URL or option that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A query parameter of the URL has a value of the wrong kind.
    #[error("the option `{name}={value}` of the Redis URL is not {expected}")]
    Option {
        /// The parameter.
        name: String,
        /// Its value.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The Redis client refused the URL.
    #[error("the Redis URL is not valid: {0}")]
    Url(#[source] redis::RedisError),
}

impl From<ConfigError> for BrokerError {
    fn from(error: ConfigError) -> Self {
        BrokerError::Connection {
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }
}

/// The server's error code (`NOGROUP`, `BUSYGROUP`, `ERR`), if the server
/// answered with an error.
pub(crate) fn code(error: &redis::RedisError) -> Option<&str> {
    error.code()
}

/// Whether the error says the consumer group (or its stream) is missing.
pub(crate) fn is_no_group(error: &redis::RedisError) -> bool {
    code(error) == Some("NOGROUP")
}

/// `doing` failed: an error the server sent is a refusal of what was
/// asked (with its text), anything else (I/O, a timeout, a dropped
/// connection) a connection error, which callers retry.
pub(crate) fn command(doing: &str, error: redis::RedisError) -> BrokerError {
    if error.is_timeout() {
        return BrokerError::Timeout {
            message: format!("{doing}: {error}"),
        };
    }
    match error.kind() {
        // A server that is starting, failing over or not the primary yet:
        // passing, like a broken connection.
        redis::ErrorKind::Server(
            redis::ServerErrorKind::BusyLoading
            | redis::ServerErrorKind::TryAgain
            | redis::ServerErrorKind::MasterDown,
        ) => BrokerError::connection(format!("{doing}: {error}"), error),
        redis::ErrorKind::Server(_) | redis::ErrorKind::Extension => BrokerError::Rejected {
            message: format!("{doing}: Redis answered {error}"),
        },
        // I/O, a dropped or refused connection, a client-side problem.
        _ => BrokerError::connection(format!("{doing}: {error}"), error),
    }
}

/// Provisioning `queue` failed while `doing`.
pub(crate) fn provisioning(queue: &str, doing: &str, error: redis::RedisError) -> BrokerError {
    match error.kind() {
        redis::ErrorKind::Server(_) | redis::ErrorKind::Extension => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("{doing}: Redis answered {error}"),
        },
        _ => command(doing, error),
    }
}

/// An answer of an unexpected shape (a server that is not Redis ≥ 6.2, or
/// a key of another type).
pub(crate) fn unexpected(doing: &str, what: &str) -> BrokerError {
    BrokerError::Rejected {
        message: format!("{doing}: unexpected answer from Redis ({what})"),
    }
}
