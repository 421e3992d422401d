//! lapin's errors as [`BrokerError`]s.

use bisslog_messaging::BrokerError;
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};

/// The AMQP reply code of a channel or connection error RabbitMQ sent,
/// with its text.
fn amqp(error: &lapin::Error) -> Option<(u16, &str)> {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(e) => Some((e.get_id(), e.get_message().as_str())),
        _ => None,
    }
}

/// Whether RabbitMQ answered with this channel-level (soft) error.
pub(crate) fn is_soft(error: &lapin::Error, soft: AMQPSoftError) -> bool {
    matches!(
        error.kind(),
        lapin::ErrorKind::ProtocolError(e) if matches!(e.kind(), AMQPErrorKind::Soft(s) if *s == soft)
    )
}

/// The connection or channel failed while doing `what`.
pub(crate) fn connection(what: &str, error: lapin::Error) -> BrokerError {
    BrokerError::connection(format!("{what}: {error}"), error)
}

/// `what` took longer than the configured timeout.
pub(crate) fn timeout(what: impl Into<String>) -> BrokerError {
    BrokerError::Timeout {
        message: what.into(),
    }
}

/// Declaring `queue` (actively, or passively when operators own it)
/// failed.
pub(crate) fn provisioning(queue: &str, passive: bool, error: lapin::Error) -> BrokerError {
    let Some((code, text)) = amqp(&error) else {
        return connection(&format!("declaring the queue `{queue}`"), error);
    };
    let message = if is_soft(&error, AMQPSoftError::PRECONDITIONFAILED) {
        format!(
            "the queue exists with other settings than bisslog declares (durable, no \
             arguments): {text}. Delete or redeclare it to match, or turn provisioning off where \
             operators own the queues"
        )
    } else if is_soft(&error, AMQPSoftError::NOTFOUND) && passive {
        format!(
            "the queue does not exist and provisioning is off, so operators must declare it (a \
             durable queue): {text}"
        )
    } else if is_soft(&error, AMQPSoftError::ACCESSREFUSED) {
        format!("RabbitMQ refused access (check the user's permissions on the vhost): {text}")
    } else if is_soft(&error, AMQPSoftError::RESOURCELOCKED) {
        format!("the queue is exclusive to another connection: {text}")
    } else {
        format!("RabbitMQ refused (reply code {code}): {text}")
    };
    BrokerError::Provisioning {
        queue: queue.to_owned(),
        message,
    }
}

/// Publishing to `queue` failed before its confirm came.
pub(crate) fn publishing(queue: &str, error: lapin::Error) -> BrokerError {
    match amqp(&error) {
        Some((code, text)) if !error.is_amqp_hard_error() => BrokerError::Rejected {
            message: format!(
                "RabbitMQ refused a message for `{queue}` (reply code {code}): {text}"
            ),
        },
        _ => connection(&format!("publishing to `{queue}`"), error),
    }
}

/// The outcome of settling a delivery with lapin's acker: `Ok(false)`
/// means the channel closed first (RabbitMQ delivers the message again).
pub(crate) fn settled(
    outcome: Result<bool, lapin::Error>,
    what: &str,
    queue: &str,
) -> Result<(), BrokerError> {
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(BrokerError::Connection {
            message: format!(
                "the channel consuming `{queue}` closed before the message could be {what}; \
                 RabbitMQ delivers it again"
            ),
            source: None,
        }),
        Err(error) => Err(connection(
            &format!("the message of `{queue}` could not be {what}"),
            error,
        )),
    }
}

/// A queue name RabbitMQ cannot hold (longer than 255 bytes).
/// `queue` as an AMQP short string, or the provisioning error of a name
/// longer than one allows.
pub(crate) fn short_name(queue: &str) -> Result<lapin::types::ShortString, BrokerError> {
    crate::codec::short(queue).ok_or_else(|| BrokerError::Provisioning {
        queue: queue.to_owned(),
        message: name_too_long(queue),
    })
}

pub(crate) fn name_too_long(queue: &str) -> String {
    format!(
        "queue names are at most 255 bytes in AMQP; this one has {}",
        queue.len()
    )
}
