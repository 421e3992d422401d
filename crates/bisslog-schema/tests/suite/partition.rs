//! A consumer trigger's `partition`: a name, or `event.<path>` naming the
//! payload member a message without a key is ordered by.

use bisslog_schema::{Code, TriggerKind};

fn consumer_with(partition: &str) -> bisslog_schema::Report {
    super::consumer_with(&format!("partition: {partition}"))
}

fn key_path(partition: &str) -> Option<Vec<String>> {
    let service = consumer_with(partition).into_service().unwrap();
    let TriggerKind::Consumer(consumer) = &service.use_cases["handle"].triggers[0].kind else {
        panic!("a consumer trigger");
    };
    consumer
        .partition_key_path()
        .map(|path| path.into_iter().map(str::to_owned).collect())
}

#[test]
fn a_name_orders_by_the_message_key_only() {
    assert_eq!(key_path("company_data_registry_vh"), None);
    assert_eq!(key_path("event"), None, "the whole payload is no key");
}

#[test]
fn event_paths_name_the_payload_member() {
    assert_eq!(
        key_path("event.schema_keyname"),
        Some(vec!["schema_keyname".to_owned()])
    );
    assert_eq!(
        key_path("event.company.id"),
        Some(vec!["company".to_owned(), "id".to_owned()])
    );
}

#[test]
fn an_event_path_with_an_empty_key_is_an_error_at_the_value() {
    for partition in ["event.", "event.a..b", "\"event.a.\""] {
        let report = consumer_with(partition);
        assert_eq!(
            report.error_count(),
            1,
            "{partition}: {:?}",
            report.diagnostics()
        );
        let diagnostic = &report.diagnostics()[0];
        assert_eq!(diagnostic.code, Code::InvalidMapperSource, "{partition}");
        assert!(
            diagnostic.message.contains("empty key"),
            "{partition}: {}",
            diagnostic.message
        );
        assert_eq!(
            (diagnostic.span.start.line, diagnostic.span.start.column),
            (9, 22),
            "{partition}: at the value"
        );
    }
}
