//! The real bisslog metadata files of `tests/conformance/` give exactly
//! the outcomes listed in its README.

use bisslog_schema::{
    Code, Criticality, DeliverySemantic, Method, Report, Severity, SourcePart, TriggerKind,
    cron::CronDialect,
};

use super::golden::{assert_golden, render, tests_dir, validate};

/// (code, line, column) of every diagnostic.
fn located(report: &Report) -> Vec<(Code, u32, u32)> {
    report
        .diagnostics()
        .iter()
        .map(|d| (d.code, d.span.start.line, d.span.start.column))
        .collect()
}

fn check_golden(name: &str) -> Report {
    let report = validate(&format!("conformance/{name}.yml"));
    let golden = tests_dir().join(format!("golden/conformance/{name}.txt"));
    assert_golden(&golden, &render(&report));
    report
}

#[test]
fn company_data_registry_is_valid_and_fully_typed() {
    let report = check_golden("company-data-registry");
    assert_eq!(
        (report.error_count(), report.warning_count()),
        (0, 0),
        "{:?}",
        report.diagnostics()
    );
    let service = report.service().unwrap();
    assert_eq!(service.name, "company registry data");
    assert_eq!(service.use_cases.len(), 10);

    let get = &service.use_cases["get_company_data"];
    let routes: Vec<_> = get.http_triggers().collect();
    assert_eq!(routes.len(), 2);
    assert!(routes[0].mapper.is_some() && routes[1].mapper.is_none());
    assert_eq!(routes[1].path.as_str(), "/company-data/{schema_keyname}");
    assert_eq!(routes[0].method, Method::Get);

    let insert = &service.use_cases["insert_company_data"];
    assert_eq!(insert.criticality, Criticality::High);
    let TriggerKind::Consumer(consumer) = &insert.triggers[1].kind else {
        panic!("insert_company_data's second trigger is a consumer");
    };
    assert_eq!(consumer.queue, "company_data_insertion.queue");
    assert_eq!(
        consumer.partition.as_deref(),
        Some("company_data_registry_vh")
    );
    assert_eq!(
        consumer.dead_letter_queue.as_deref(),
        Some("company_data_insertion.dlq_queue")
    );
    assert_eq!(consumer.delivery_semantic, DeliverySemantic::AtLeastOnce);
    let mapper = consumer.mapper.as_ref().unwrap();
    assert!(
        mapper
            .entries
            .iter()
            .all(|e| e.source.part == SourcePart::Event)
    );
    assert_eq!(mapper.entries[1].source.to_string(), "event.body");
    assert_eq!(mapper.entries[1].target, "data");

    let cleanup = &service.use_cases["delete_all_inactive_schema_version"];
    let TriggerKind::Schedule(schedule) = &cleanup.triggers[0].kind else {
        panic!("the clean-up is scheduled");
    };
    assert_eq!(schedule.cronjob.as_str(), "0 0 ? * 1 *");
    assert_eq!(schedule.cronjob.dialect(), CronDialect::Aws);
    assert_eq!(schedule.timezone.as_deref(), Some("UTC"));
    assert_eq!(schedule.event, Some(serde_json::json!({"days": 30})));
    // Sunday 2026-11-22 at midnight is a tick; Monday is not.
    let sunday = jiff::civil::date(2026, 11, 22).at(0, 0, 0, 0);
    assert!(schedule.cronjob.matches(sunday));
    assert!(
        !schedule
            .cronjob
            .matches(jiff::civil::date(2026, 11, 23).at(0, 0, 0, 0))
    );
}

#[test]
fn user_management_loads_with_a_warning_at_each_route() {
    let report = check_golden("user-management");
    assert_eq!(report.error_count(), 0);
    let warnings = located(&report);
    let lines: Vec<u32> = warnings.iter().map(|&(_, line, _)| line).collect();
    assert_eq!(lines, [20, 45, 54, 77, 100, 120]);
    assert!(
        warnings
            .iter()
            .all(|&(code, _, column)| code == Code::DeprecatedKey && column == 11)
    );
    assert!(
        report.diagnostics()[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("`path`")
    );

    let service = report.service().unwrap();
    let get_user = &service.use_cases["getUser"];
    let mine = get_user.http_triggers().nth(1).unwrap();
    assert_eq!(mine.path.as_str(), "/my-user-details");
    let source = &mine.mapper.as_ref().unwrap().entries[0].source;
    assert_eq!(
        (source.part, source.path.as_slice()),
        (SourcePart::Context, &["user_id".to_owned()][..])
    );
    assert_eq!(mine.authenticator.as_deref(), Some("user"));
    assert!(mine.cacheable);
}

#[test]
fn webhook_defaults_untyped_triggers_and_rejects_update() {
    let report = check_golden("webhook");
    assert_eq!(
        located(&report),
        [
            (Code::MissingTriggerType, 18, 9),
            (Code::MissingTriggerType, 31, 9),
            (Code::InvalidHttpMethod, 113, 19),
            (Code::InvalidHttpMethod, 189, 19),
        ]
    );
    for diagnostic in &report.diagnostics()[2..] {
        let hint = diagnostic.hint.as_deref().unwrap();
        assert!(hint.contains("PUT") && hint.contains("PATCH"), "{hint}");
    }
    // `criticality: 90` is a level, so it is not reported.
    assert!(
        report
            .diagnostics()
            .iter()
            .all(|d| d.code != Code::InvalidCriticality)
    );
}

#[test]
fn webhook_wrong_reports_every_problem_at_its_place() {
    let report = check_golden("webhook-wrong");
    use Code::*;
    let expected = [
        (EmptyValue, 2, 7),           // name: ""
        (WrongType, 3, 14),           // description: 245
        (WrongType, 6, 7),            // tags: "7-14-21"
        (WrongType, 18, 19),          // method: 56
        (DeprecatedKey, 19, 11),      // route
        (EmptyValue, 19, 18),         // route: ""
        (MissingTriggerType, 21, 9),  // trigger without type
        (WrongType, 22, 19),          // method: 56
        (DeprecatedKey, 23, 11),      // route
        (EmptyValue, 23, 18),         // route: ""
        (WrongType, 32, 22),          // route_key: 245
        (UnknownTriggerType, 33, 15), // scheduled
        (WrongType, 40, 20),          // cronjob: 50
        (MissingField, 43, 9),        // consumer without queue
        (WrongType, 44, 22),          // partition: 20
        (InvalidDeliverySemantic, 45, 30),
        (OutOfRange, 46, 24),         // max_retries: -1
        (UnknownTriggerType, 50, 15), // custom-trigger
        (EmptyValue, 58, 27),         // type_interaction: ""
        (WrongType, 59, 20),          // operation: 456
        (WrongType, 62, 11),          // use case type: 56
        (WrongType, 63, 18),          // use case description: 56756
        (WrongType, 71, 22),          // cacheable: 245
        (WrongType, 72, 20),          // timeout: "algo"
        (WrongType, 75, 28),          // external_interactions: "algorithm"
        (DeprecatedKey, 86, 11),
        (WrongType, 86, 18), // route: 555
        (WrongType, 97, 15), // type: 54887
        (DeprecatedKey, 114, 11),
        (EmptyValue, 128, 27),
        (WrongType, 129, 20),
        (WrongType, 130, 9),       // - "maria"
        (DuplicateRoute, 137, 17), // DELETE /webhook/event-type/{uid} again
        (DeprecatedKey, 156, 11),
        (InvalidHttpMethod, 158, 19), // update
        (DeprecatedKey, 173, 11),
        (DeprecatedKey, 188, 11),
        (DeprecatedKey, 203, 11),
        (WrongType, 210, 22), // map form with a string value
        (WrongType, 218, 9),  // triggers: [567770]
        (EmptyValue, 223, 27),
        (WrongType, 224, 20),
        (DeprecatedKey, 234, 11),
        (InvalidHttpMethod, 235, 19),
    ];
    assert_eq!(located(&report), expected);
    assert!(report.service().is_none());
    assert_eq!(report.error_count(), 34);
    // The two the Python analyzer misses.
    let unknown: Vec<_> = report
        .diagnostics()
        .iter()
        .filter(|d| d.code == UnknownTriggerType)
        .collect();
    assert_eq!(unknown[0].hint.as_deref(), Some("did you mean `schedule`?"));
    assert_eq!(unknown[1].severity(), Severity::Error);
}
