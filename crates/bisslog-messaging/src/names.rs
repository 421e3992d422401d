//! Names brokers and inboxes agree on, derived from the metadata's
//! keynames: written once here so that every adapter derives the same name
//! from the same keyname.

/// `name` with every character outside `[A-Za-z0-9_-]` replaced by `_`:
/// safe as a durable consumer, a JetStream stream or a queue-derived
/// object name on every broker (`company_data_insertion.queue` →
/// `company_data_insertion_queue`). Different names may map to the same
/// one (`a.b`, `a_b`); adapters that need distinct names add a hash.
///
/// ```
/// assert_eq!(bisslog_messaging::sanitized_name("orders-created.v2"), "orders-created_v2");
/// assert_eq!(bisslog_messaging::sanitized_name("ñ.x"), "__x");
/// ```
pub fn sanitized_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The consumer name every instance of a service shares for one use case,
/// on brokers (durable consumers, queues) and in the inbox:
/// `service-use_case`, [sanitized](sanitized_name)
/// (`company_data_registry-insert_company_data`).
///
/// ```
/// assert_eq!(
///     bisslog_messaging::consumer_name("company data.registry", "insert_company_data"),
///     "company_data_registry-insert_company_data",
/// );
/// ```
pub fn consumer_name(service: &str, use_case: &str) -> String {
    sanitized_name(&format!("{service}-{use_case}"))
}

/// The name of a consumer's own copy of an event queue, where a broker
/// keeps one per consumer name (a RabbitMQ queue bound to the event's
/// exchange, the in-process broker's queue): `<queue>.<consumer>`
/// (`company_data.inserted.company_data_audit-record_insertion`).
///
/// ```
/// assert_eq!(
///     bisslog_messaging::event_copy_name("orders.created", "billing-charge"),
///     "orders.created.billing-charge",
/// );
/// ```
pub fn event_copy_name(queue: &str, consumer: &str) -> String {
    format!("{queue}.{consumer}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_names_are_safe_for_every_broker() {
        assert_eq!(
            consumer_name("company data.registry", "insert_company_data"),
            "company_data_registry-insert_company_data"
        );
    }

    #[test]
    fn names_keep_letters_digits_dashes_and_underscores() {
        assert_eq!(
            sanitized_name("company_data_insertion.queue"),
            "company_data_insertion_queue"
        );
        assert_eq!(sanitized_name("orders-created.v2"), "orders-created_v2");
        assert_eq!(sanitized_name("ñ.x"), "__x");
    }
}
