//! A consumer trigger's `timeout`: the longest one call may take, in
//! milliseconds, read and bounded as an HTTP trigger's is.

use bisslog_schema::{Code, TriggerKind};

fn consumer_with(timeout: &str) -> bisslog_schema::Report {
    super::consumer_with(&format!("timeout: {timeout}"))
}

fn timeout_ms(timeout: &str) -> Option<u64> {
    let service = consumer_with(timeout).into_service().unwrap();
    let TriggerKind::Consumer(consumer) = &service.use_cases["handle"].triggers[0].kind else {
        panic!("a consumer trigger");
    };
    consumer.timeout_ms
}

#[test]
fn a_timeout_is_read_in_milliseconds() {
    assert_eq!(timeout_ms("2500"), Some(2_500));
    assert_eq!(timeout_ms("\"60000\""), Some(60_000), "digits as text");
    assert_eq!(timeout_ms("86400000"), Some(86_400_000), "one day at most");
    assert_eq!(timeout_ms("null"), None);
}

#[test]
fn a_timeout_that_could_never_work_is_an_error_at_the_value() {
    for (timeout, code) in [
        ("0", Code::OutOfRange),
        ("86400001", Code::OutOfRange),
        ("-5", Code::OutOfRange),
        ("soon", Code::WrongType),
        ("[1]", Code::WrongType),
    ] {
        let report = consumer_with(timeout);
        assert_eq!(
            report.error_count(),
            1,
            "{timeout}: {:?}",
            report.diagnostics()
        );
        let diagnostic = &report.diagnostics()[0];
        assert_eq!(diagnostic.code, code, "{timeout}");
        assert_eq!(
            (diagnostic.span.start.line, diagnostic.span.start.column),
            (9, 20),
            "{timeout}: located at the value"
        );
    }
}

#[test]
fn the_timeout_round_trips_through_the_model() {
    let service = consumer_with("750").into_service().unwrap();
    let json = serde_json::to_value(&service).unwrap();
    assert_eq!(
        json["use_cases"]["handle"]["triggers"][0]["options"]["timeout"],
        750
    );
}
