#![allow(clippy::unwrap_used)]

use super::*;

fn service(yaml: &str) -> ServiceMetadata {
    let report = crate::validate_str("metadata.yml", yaml);
    match report.into_service() {
        Ok(service) => service,
        Err(report) => panic!("{:?}", report.diagnostics()),
    }
}

fn kinds_of(old: &str, new: &str) -> Vec<(&'static str, ChangeSeverity)> {
    diff(&service(old), &service(new))
        .iter()
        .map(|c| (c.kind.id(), c.severity()))
        .collect()
}

const BASE: &str = "
name: users
description: the users
use_cases:
  getUser:
    name: get user
    description: one user
    criticality: high
    external_interactions:
      - {keyname: events, type_interaction: publisher, operation: [user.read]}
    triggers:
      - type: http
        options:
          method: get
          path: /users/{id}
          mapper: {path_query.id: id, params.full: full, headers.x-tenant: tenant}
      - type: websocket
        options: {routeKey: getUser, mapper: {body.id: id}}
      - type: consumer
        options: {queue: users.get, mapper: {event.id: id}}
      - type: schedule
        options: {cronjob: '0 * * * *'}
";

fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

use ChangeSeverity::{Breaking, Compatible, Notice};

#[test]
fn identical_files_have_no_changes() {
    assert!(kinds_of(BASE, BASE).is_empty());
}

#[test]
fn a_renamed_use_case_is_removed_and_added_with_a_hint() {
    let changes = diff(&service(BASE), &service(&with("getUser:", "fetchUser:")));
    let ids: Vec<_> = changes.iter().map(|c| c.kind.id()).collect();
    assert_eq!(ids, ["use-case-added", "use-case-removed"]);
    assert!(changes[0].message.contains("renamed from `getUser`?"));
    assert!(changes[1].message.contains("renamed to `fetchUser`?"));
    assert_eq!(changes[1].severity(), Breaking);
}

#[test]
fn an_http_route_change_is_breaking_and_a_variable_rename_is_not() {
    assert_eq!(
        kinds_of(BASE, &with("path: /users/{id}", "path: /people/{id}")),
        [("http-route-changed", Breaking)]
    );
    assert_eq!(
        kinds_of(BASE, &with("method: get", "method: post")),
        [("http-route-changed", Breaking)]
    );
    // Path variables are not sent by name: renaming one changes nothing
    // callers see.
    let renamed = with("path: /users/{id}", "path: /users/{uid}")
        .replace("path_query.id: id", "path_query.uid: id");
    assert!(kinds_of(BASE, &renamed).is_empty());
}

#[test]
fn http_routes_added_and_removed() {
    let two = with(
        "      - type: websocket",
        "      - {type: http, options: {method: delete, path: '/users/{id}'}}\n      - type: websocket",
    );
    assert_eq!(kinds_of(BASE, &two), [("http-route-added", Compatible)]);
    let three = two.replace(
            "      - type: websocket",
            "      - {type: http, options: {method: put, path: '/users/{id}'}}\n      - type: websocket",
        );
    assert_eq!(
        kinds_of(&three, BASE),
        [
            ("http-route-removed", Breaking),
            ("http-route-removed", Breaking)
        ]
    );
}

#[test]
fn a_route_taken_over_by_another_use_case_is_a_move_not_a_removal() {
    let http = "      - type: http
        options:
          method: get
          path: /users/{id}
          mapper: {path_query.id: id, params.full: full, headers.x-tenant: tenant}
";
    let other = "
  readUser:
    triggers:
      - {type: http, options: {method: get, path: '/readers'}}
";
    let old = format!("{BASE}{other}");
    let moved = format!("{}{other}{http}", with(http, ""));
    let changes = diff(&service(&old), &service(&moved));
    let found: Vec<_> = changes
        .iter()
        .map(|c| (c.use_case.as_deref(), c.kind.id(), c.severity()))
        .collect();
    // No http-route-removed, no trigger-kind-removed, no route added
    // to readUser.
    assert_eq!(found, [(Some("getUser"), "trigger-moved", Notice)]);
    assert!(changes[0].message.contains("moved to use case `readUser`"));
    // To a new use case: the addition is the use case's.
    let split = format!("{}\n  readUser:\n    triggers:\n{http}", with(http, ""));
    assert_eq!(
        kinds_of(BASE, &split),
        [("trigger-moved", Notice), ("use-case-added", Compatible)]
    );
}

#[test]
fn websocket_route_keys() {
    assert_eq!(
        kinds_of(BASE, &with("routeKey: getUser", "routeKey: readUser")),
        [
            ("websocket-route-added", Compatible),
            ("websocket-route-removed", Breaking)
        ]
    );
}

#[test]
fn consumer_queues() {
    assert_eq!(
        kinds_of(BASE, &with("queue: users.get", "queue: users.read")),
        [("consumer-queue-changed", Breaking)]
    );
}

#[test]
fn a_trigger_kind_removed_is_breaking_and_added_is_compatible() {
    let without = with(
        "      - type: schedule\n        options: {cronjob: '0 * * * *'}\n",
        "",
    );
    assert_eq!(
        kinds_of(BASE, &without),
        [("trigger-kind-removed", Breaking)]
    );
    assert_eq!(
        kinds_of(&without, BASE),
        [("trigger-kind-added", Compatible)]
    );
}

#[test]
fn mapper_sources_and_targets() {
    assert_eq!(
        kinds_of(BASE, &with("params.full: full, ", "")),
        [("mapper-source-removed", Breaking)]
    );
    assert_eq!(
        kinds_of(
            BASE,
            &with("headers.x-tenant: tenant", "headers.x-tenant: org")
        ),
        [("mapper-target-renamed", Breaking)]
    );
    assert_eq!(
        kinds_of(
            BASE,
            &with("{event.id: id}", "{event.id: id, event.name: name}")
        ),
        [("mapper-source-added", Notice)]
    );
}

#[test]
fn published_queues() {
    assert_eq!(
        kinds_of(
            BASE,
            &with("operation: [user.read]", "operation: [user.seen]")
        ),
        [
            ("published-queue-added", Compatible),
            ("published-queue-removed", Breaking)
        ]
    );
}

#[test]
fn criticality_raised_is_compatible_and_lowered_a_notice() {
    assert_eq!(
        kinds_of(BASE, &with("criticality: high", "criticality: critical")),
        [("criticality-raised", Compatible)]
    );
    assert_eq!(
        kinds_of(BASE, &with("criticality: high", "criticality: low")),
        [("criticality-lowered", Notice)]
    );
}

#[test]
fn schedule_changes_are_notices() {
    assert_eq!(
        kinds_of(BASE, &with("'0 * * * *'", "'30 * * * *'")),
        [("schedule-changed", Notice)]
    );
}

#[test]
fn names_and_descriptions_are_compatible() {
    let new = with("name: get user", "name: read user")
        .replace("description: one user", "description: a user")
        .replace("description: the users", "description: all users");
    let changes = diff(&service(BASE), &service(&new));
    let found: Vec<_> = changes
        .iter()
        .map(|c| (c.use_case.as_deref(), c.kind.id(), c.severity()))
        .collect();
    assert_eq!(
        found,
        [
            (None, "description-changed", Compatible),
            (Some("getUser"), "description-changed", Compatible),
            (Some("getUser"), "name-changed", Compatible),
        ]
    );
}

#[test]
fn services_are_matched_by_name() {
    let users = service(BASE);
    let orders = service("name: orders\nuse_cases: {}\n");
    let billing = service("name: billing\nuse_cases: {}\n");
    let changes = diff_services(&[users.clone(), orders], &[billing, users]);
    let found: Vec<_> = changes
        .iter()
        .map(|c| (c.service.as_deref(), c.kind.id()))
        .collect();
    assert_eq!(
        found,
        [
            (Some("billing"), "service-added"),
            (Some("orders"), "service-removed")
        ]
    );
}

#[test]
fn every_kind_has_a_distinct_id_and_a_row_in_the_docs() {
    let ids: BTreeSet<_> = ChangeKind::ALL.iter().map(|k| k.id()).collect();
    assert_eq!(ids.len(), ChangeKind::ALL.len());
    let docs = include_str!("../../../../docs/diff.md");
    for id in ids {
        assert!(
            docs.contains(&format!("| `{id}` |")),
            "docs/diff.md has no row for `{id}`"
        );
    }
}

#[test]
fn a_consumed_queue_nobody_publishes_any_more_breaks_its_consumers() {
    let registry = |publishes: bool| {
        let interactions = if publishes {
            "\n    external_interactions:\n      - keyname: events\n        type_interaction: publisher\n        operation: company.inserted"
        } else {
            ""
        };
        service(&format!(
            "name: registry\nuse_cases:\n  insert:\n    triggers: [{{type: http, options: {{method: post, path: /x}}}}]{interactions}\n"
        ))
    };
    let audit = service(
        "name: audit\nuse_cases:\n  record:\n    triggers: [{type: consumer, options: {queue: company.inserted}}]\n  external:\n    triggers: [{type: consumer, options: {queue: from.outside}}]\n",
    );
    let changes = diff_services(
        &[registry(true), audit.clone()],
        &[registry(false), audit.clone()],
    );
    let found: Vec<_> = changes
        .iter()
        .map(|c| (c.service.as_deref(), c.use_case.as_deref(), c.kind.id()))
        .collect();
    assert_eq!(
        found,
        [
            (Some("audit"), Some("record"), "consumed-queue-unpublished"),
            (Some("registry"), Some("insert"), "published-queue-removed"),
        ]
    );
    assert!(
        changes[0]
            .message
            .contains("published by `registry`'s `insert` before")
    );
    // Still published: nothing to say.
    assert!(diff_services(&[registry(true), audit.clone()], &[registry(true), audit]).is_empty());
}
