//! From async-nats errors to [`BrokerError`]s.
//!
//! async-nats wraps errors in one another (a page of stream names fails
//! with a request error whose source is the timeout), so the mapping looks
//! down the whole source chain for what happened.

use std::error::Error as StdError;

use async_nats::jetstream;
use async_nats::jetstream::consumer::pull::MessagesErrorKind;
use async_nats::jetstream::context::{CreateStreamErrorKind, PublishErrorKind, RequestErrorKind};
use async_nats::jetstream::stream::ConsumerErrorKind;
use bisslog_messaging::BrokerError;

/// What a failed JetStream API request amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The server did not answer in time.
    TimedOut,
    /// Nobody answered: JetStream is not enabled (for an API request).
    NoResponders,
    /// JetStream answered with an error.
    JetStream(jetstream::ErrorCode, String),
    /// The client could not send it, or the connection broke.
    Other,
}

/// Looks down the source chain of `error` for the first thing that says
/// what happened.
pub(crate) fn cause(error: &(dyn StdError + 'static)) -> Cause {
    for current in std::iter::once(error).chain(bisslog_core::causes(error)) {
        if let Some(js) = current.downcast_ref::<jetstream::Error>() {
            return Cause::JetStream(js.error_code(), js.to_string());
        }
        if let Some(request) = current.downcast_ref::<jetstream::context::RequestError>() {
            match request.kind() {
                RequestErrorKind::TimedOut => return Cause::TimedOut,
                RequestErrorKind::NoResponders => return Cause::NoResponders,
                RequestErrorKind::InvalidSubject | RequestErrorKind::Other => {}
            }
        }
        if let Some(request) = current.downcast_ref::<async_nats::RequestError>() {
            match request.kind() {
                async_nats::RequestErrorKind::TimedOut => return Cause::TimedOut,
                async_nats::RequestErrorKind::NoResponders => return Cause::NoResponders,
                _ => {}
            }
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return Cause::TimedOut;
        }
        if current
            .downcast_ref::<tokio::time::error::Elapsed>()
            .is_some()
        {
            return Cause::TimedOut;
        }
    }
    Cause::Other
}

/// A JetStream API request about `queue` (`doing` says which) failed.
pub(crate) fn api(
    queue: &str,
    doing: &str,
    error: impl StdError + Send + Sync + 'static,
) -> BrokerError {
    match cause(&error) {
        Cause::TimedOut => BrokerError::Timeout {
            message: format!("JetStream did not answer {doing} for `{queue}`"),
        },
        Cause::NoResponders => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("JetStream did not answer {doing}: is it enabled on the server?"),
        },
        Cause::JetStream(_, text) => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("{doing} failed: {text}"),
        },
        Cause::Other => BrokerError::connection(format!("{doing} for `{queue}` failed"), error),
    }
}

/// Connecting failed.
pub(crate) fn connect(error: async_nats::ConnectError) -> BrokerError {
    match error.kind() {
        async_nats::ConnectErrorKind::TimedOut => BrokerError::Timeout {
            message: "connecting to the NATS server".to_owned(),
        },
        kind => BrokerError::connection(
            format!("connecting to the NATS server failed ({kind})"),
            error,
        ),
    }
}

/// Creating the stream of `queue` failed.
pub(crate) fn create_stream(
    queue: &str,
    error: jetstream::context::CreateStreamError,
) -> BrokerError {
    match error.kind() {
        CreateStreamErrorKind::TimedOut => BrokerError::Timeout {
            message: format!("JetStream did not answer creating the stream of `{queue}`"),
        },
        CreateStreamErrorKind::JetStreamUnavailable => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: "JetStream did not answer: is it enabled on the server?".to_owned(),
        },
        CreateStreamErrorKind::JetStream(js) => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("creating its stream failed: {js}"),
        },
        CreateStreamErrorKind::EmptyStreamName
        | CreateStreamErrorKind::InvalidStreamName
        | CreateStreamErrorKind::DomainAndExternalSet
        | CreateStreamErrorKind::NotFound => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("creating its stream failed: {error}"),
        },
        CreateStreamErrorKind::Response | CreateStreamErrorKind::ResponseParse => {
            api(queue, "creating the stream", error)
        }
    }
}

/// Creating or finding the durable consumer of `queue` failed.
pub(crate) fn consumer(
    queue: &str,
    consumer: &str,
    error: jetstream::stream::ConsumerError,
) -> BrokerError {
    match error.kind() {
        ConsumerErrorKind::TimedOut => BrokerError::Timeout {
            message: format!(
                "JetStream did not answer about the consumer `{consumer}` of `{queue}`"
            ),
        },
        ConsumerErrorKind::JetStream(js)
            if js.error_code() == jetstream::ErrorCode::CONSUMER_NOT_FOUND =>
        {
            BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!(
                    "the consumer `{consumer}` does not exist, and this subscriber may not create it"
                ),
            }
        }
        ConsumerErrorKind::JetStream(js) => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("the consumer `{consumer}`: {js}"),
        },
        ConsumerErrorKind::InvalidConsumerType => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("the consumer `{consumer}` is not a pull consumer"),
        },
        ConsumerErrorKind::InvalidName => BrokerError::Provisioning {
            queue: queue.to_owned(),
            message: format!("`{consumer}` is not a valid JetStream consumer name"),
        },
        ConsumerErrorKind::Request | ConsumerErrorKind::Other => {
            api(queue, &format!("the consumer `{consumer}`"), error)
        }
    }
}

/// Whether a consumer request failed because the stream is gone.
pub(crate) fn is_stream_not_found(error: &jetstream::stream::ConsumerError) -> bool {
    matches!(error.kind(), ConsumerErrorKind::JetStream(js)
        if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND)
}

/// A JetStream publish to `queue` failed.
pub(crate) fn publish(queue: &str, error: jetstream::context::PublishError) -> BrokerError {
    match error.kind() {
        PublishErrorKind::StreamNotFound => BrokerError::NoQueue {
            queue: queue.to_owned(),
        },
        PublishErrorKind::TimedOut => BrokerError::Timeout {
            message: format!("the publish acknowledgement from `{queue}`"),
        },
        PublishErrorKind::BrokenPipe => {
            BrokerError::connection(format!("publishing to `{queue}` failed"), error)
        }
        PublishErrorKind::MaxPayloadExceeded
        | PublishErrorKind::MaxAckPending
        | PublishErrorKind::WrongLastMessageId
        | PublishErrorKind::WrongLastSequence => BrokerError::Rejected {
            message: format!("`{queue}`: {error}"),
        },
        PublishErrorKind::Other => match cause(&error) {
            Cause::JetStream(_, text) => BrokerError::Rejected {
                message: format!("`{queue}`: {text}"),
            },
            Cause::TimedOut => BrokerError::Timeout {
                message: format!("the publish acknowledgement from `{queue}`"),
            },
            Cause::NoResponders => BrokerError::NoQueue {
                queue: queue.to_owned(),
            },
            Cause::Other => {
                BrokerError::connection(format!("publishing to `{queue}` failed"), error)
            }
        },
    }
}

/// Sending an acknowledgement (`doing`) failed.
pub(crate) fn settle(doing: &str, error: async_nats::Error) -> BrokerError {
    match cause(&*error) {
        Cause::TimedOut => BrokerError::Timeout {
            message: format!("the server's confirmation of {doing}"),
        },
        _ => BrokerError::Connection {
            message: format!("sending {doing} failed"),
            source: Some(error),
        },
    }
}

/// The stream of deliveries of `queue` reported a problem; `true` with it
/// when the subscription is over.
pub(crate) fn messages(
    queue: &str,
    error: jetstream::consumer::pull::MessagesError,
) -> (BrokerError, bool) {
    match error.kind() {
        MessagesErrorKind::MissingHeartbeat => (
            BrokerError::Timeout {
                message: format!("JetStream's heartbeat for the consumer of `{queue}`"),
            },
            false,
        ),
        MessagesErrorKind::ConsumerDeleted => (
            BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: "its consumer was deleted".to_owned(),
            },
            true,
        ),
        MessagesErrorKind::PushBasedConsumer => (
            BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: "its consumer is a push consumer".to_owned(),
            },
            true,
        ),
        MessagesErrorKind::RequestLimitExceeded => (
            BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: format!("the consumer refused the pull request: {error}"),
            },
            true,
        ),
        MessagesErrorKind::NoResponders => (
            BrokerError::Provisioning {
                queue: queue.to_owned(),
                message: "nobody answered the pull request: its stream or consumer is gone"
                    .to_owned(),
            },
            true,
        ),
        MessagesErrorKind::Pull | MessagesErrorKind::Other => (
            BrokerError::connection(format!("pulling messages of `{queue}` failed"), error),
            false,
        ),
    }
}

/// Reading the account information (the readiness probe) failed.
pub(crate) fn ready(error: jetstream::context::RequestError) -> BrokerError {
    match error.kind() {
        RequestErrorKind::TimedOut => BrokerError::Timeout {
            message: "JetStream's account information".to_owned(),
        },
        RequestErrorKind::NoResponders => {
            BrokerError::connection("JetStream is not available on the server", error)
        }
        RequestErrorKind::InvalidSubject | RequestErrorKind::Other => {
            BrokerError::connection("reading JetStream's account information failed", error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_deep_in_the_chain_is_a_timeout() {
        let inner = jetstream::context::RequestError::new(RequestErrorKind::TimedOut);
        let outer = jetstream::context::RequestError::with_source(RequestErrorKind::Other, inner);
        assert_eq!(cause(&outer), Cause::TimedOut);
        assert!(matches!(
            api("q", "looking up the stream", outer),
            BrokerError::Timeout { .. }
        ));
    }

    #[test]
    fn no_stream_for_the_subject_is_no_queue() {
        let error = jetstream::context::PublishError::new(PublishErrorKind::StreamNotFound);
        assert!(matches!(
            publish("orders", error),
            BrokerError::NoQueue { queue } if queue == "orders"
        ));
        let error = jetstream::context::PublishError::new(PublishErrorKind::TimedOut);
        assert!(matches!(
            publish("orders", error),
            BrokerError::Timeout { .. }
        ));
        let error = jetstream::context::PublishError::new(PublishErrorKind::MaxPayloadExceeded);
        assert!(matches!(
            publish("orders", error),
            BrokerError::Rejected { .. }
        ));
    }

    #[test]
    fn a_deleted_consumer_ends_the_subscription() {
        let error =
            jetstream::consumer::pull::MessagesError::new(MessagesErrorKind::ConsumerDeleted);
        let (error, over) = messages("orders", error);
        assert!(over);
        assert!(matches!(error, BrokerError::Provisioning { .. }));
        let error =
            jetstream::consumer::pull::MessagesError::new(MessagesErrorKind::MissingHeartbeat);
        let (error, over) = messages("orders", error);
        assert!(!over, "a missed heartbeat is a passing problem");
        assert!(matches!(error, BrokerError::Timeout { .. }));
    }
}
