//! librdkafka's errors as [`BrokerError`]s.

use bisslog_messaging::BrokerError;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// The error code librdkafka or the broker gave, if any.
pub(crate) fn code(error: &KafkaError) -> Option<RDKafkaErrorCode> {
    error.rdkafka_error_code()
}

/// `what` failed: a timeout, a refusal or a lost connection.
pub(crate) fn kafka(what: &str, error: KafkaError) -> BrokerError {
    match code(&error) {
        Some(RDKafkaErrorCode::MessageTimedOut | RDKafkaErrorCode::OperationTimedOut) => {
            BrokerError::Timeout {
                message: format!("{what}: {error}"),
            }
        }
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessageSize
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::InvalidRecord
            | RDKafkaErrorCode::PolicyViolation,
        ) => BrokerError::Rejected {
            message: format!("{what}: {error}"),
        },
        _ => BrokerError::connection(format!("{what}: {error}"), error),
    }
}

/// A topic name Kafka cannot hold: the reason, or `None` when it can.
pub(crate) fn invalid_topic(topic: &str) -> Option<String> {
    if topic.is_empty() || topic == "." || topic == ".." {
        return Some("a Kafka topic needs a name other than `.` or `..`".into());
    }
    if topic.len() > 249 {
        return Some(format!(
            "Kafka topic names are at most 249 characters; this one has {}",
            topic.len()
        ));
    }
    if let Some(c) = topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!(
            "Kafka topic names hold ASCII letters, digits, `.`, `_` and `-`; not `{c}`"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafkas_rules() {
        assert_eq!(invalid_topic("company_data.inserted-v2"), None);
        assert!(invalid_topic("a b").is_some_and(|r| r.contains("` `")));
        assert!(invalid_topic(&"x".repeat(250)).is_some());
        assert!(invalid_topic("..").is_some());
    }
}
