//! From logical queue names to NATS subjects and stream names.

/// Why `queue` cannot be a NATS subject, if it cannot.
///
/// A queue is used as its subject as it is: dot-separated tokens of
/// printable characters, without wildcards (`*`, `>`), whitespace or
/// empty tokens, and not in the `$` namespace NATS keeps for itself.
pub(crate) fn invalid_subject(queue: &str) -> Option<&'static str> {
    if queue.is_empty() {
        return Some("a queue name cannot be empty");
    }
    if queue.starts_with('$') {
        return Some("subjects starting with `$` are reserved for NATS itself");
    }
    if queue.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("a NATS subject cannot contain whitespace or control characters");
    }
    if queue.contains(['*', '>']) {
        return Some("a queue name cannot contain the NATS wildcards `*` and `>`");
    }
    if queue.split('.').any(str::is_empty) {
        return Some("a NATS subject cannot start or end with `.` or contain `..`");
    }
    None
}

/// Whether `name` may name a JetStream stream or consumer.
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '.' | '*' | '>'))
}

/// The name of the stream created for `queue`: the queue
/// [sanitized](bisslog_messaging::sanitized_name) like every name derived
/// from a keyname (`company_data_insertion.queue` →
/// `company_data_insertion_queue`).
pub(crate) fn stream_name(queue: &str) -> String {
    bisslog_messaging::sanitized_name(queue)
}

/// The name used when [`stream_name`] is taken by a stream of other
/// subjects (`a.b` and `a_b` both map to `a_b`): the same with a hash of
/// the queue, equal on every instance.
pub(crate) fn disambiguated_stream_name(queue: &str) -> String {
    // FNV-1a: stable across processes and Rust versions, unlike the
    // standard library's hasher.
    let hash = queue.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}_{:08x}", stream_name(queue), hash >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_with_dots_dashes_and_underscores_are_subjects() {
        for queue in [
            "company_data_insertion.queue",
            "orders-created",
            "bench.add",
            "a",
            "ñandú.eventos",
        ] {
            assert_eq!(invalid_subject(queue), None, "{queue}");
        }
    }

    #[test]
    fn wildcards_whitespace_and_empty_tokens_are_refused() {
        for queue in [
            "",
            "orders.*",
            "orders.>",
            "a b",
            "a\tb",
            "a\nb",
            ".a",
            "a.",
            "a..b",
            "$JS.API.INFO",
        ] {
            assert!(invalid_subject(queue).is_some(), "{queue:?}");
        }
    }

    #[test]
    fn stream_names_keep_letters_digits_dashes_and_underscores() {
        assert_eq!(
            stream_name("company_data_insertion.queue"),
            "company_data_insertion_queue"
        );
        assert_eq!(stream_name("orders-created.v2"), "orders-created_v2");
        assert_eq!(stream_name("ñ.x"), "__x");
        assert!(is_valid_name(&stream_name("a.b.c")));
    }

    #[test]
    fn colliding_queues_get_distinct_stable_names() {
        let dotted = disambiguated_stream_name("a.b");
        let underscored = disambiguated_stream_name("a_b");
        assert_ne!(dotted, underscored);
        assert_eq!(dotted, disambiguated_stream_name("a.b"));
        assert!(dotted.starts_with("a_b_") && dotted.len() == "a_b_".len() + 8);
        assert!(is_valid_name(&dotted));
    }

    #[test]
    fn consumer_names_cannot_hold_dots_or_wildcards() {
        assert!(is_valid_name("company-data-registry-insert_company_data"));
        for name in ["", "a.b", "a*", "a>", "a b"] {
            assert!(!is_valid_name(name), "{name:?}");
        }
    }
}
