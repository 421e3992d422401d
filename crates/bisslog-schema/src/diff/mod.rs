//! Compare two versions of a service's metadata and classify every change
//! by what it does to the service's callers and to other services.
//!
//! ```
//! use bisslog_schema::diff::{ChangeSeverity, diff};
//! use bisslog_schema::validate_str;
//!
//! let old = validate_str("old.yml", "
//! name: users
//! use_cases:
//!   getUser:
//!     triggers: [{type: http, options: {method: get, path: '/users/{id}'}}]
//! ").into_service().expect("valid");
//! let new = validate_str("new.yml", "
//! name: users
//! use_cases:
//!   getUser:
//!     triggers: [{type: http, options: {method: get, path: '/people/{id}'}}]
//! ").into_service().expect("valid");
//! let changes = diff(&old, &new);
//! assert_eq!(changes.len(), 1);
//! assert_eq!(changes[0].kind.id(), "http-route-changed");
//! assert_eq!(changes[0].severity(), ChangeSeverity::Breaking);
//! ```
//!
//! The order of the changes is deterministic: service-level changes
//! first, then by use case keyname, kind id and detail.

mod change;
#[cfg(test)]
mod tests;
mod triggers;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    InteractionType, Mapper, ServiceMetadata, SourcePart, TriggerKind, UseCaseMetadata,
};

pub use change::{Change, ChangeKind, ChangeSeverity};
use triggers::{consumer_queues, http_routes, schedules, trigger_kinds, websocket_routes};

/// A trigger's identity (the route or queue callers use), its display
/// form and its mapper.
struct Keyed<'a> {
    key: String,
    shown: String,
    mapper: Option<&'a Mapper>,
}

/// Sorts changes in the documented order: by service, use case keyname
/// (service-level changes first), kind id, then detail.
pub fn sort(changes: &mut [Change]) {
    changes.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// Every change from `old` to `new`, sorted (see [`sort`]).
pub fn diff(old: &ServiceMetadata, new: &ServiceMetadata) -> Vec<Change> {
    let mut changes = Vec::new();
    if old.name != new.name {
        changes.push(Change::new(
            ChangeKind::ServiceRenamed,
            None,
            "name",
            format!("service renamed from `{}` to `{}`", old.name, new.name),
        ));
    }
    if old.description != new.description {
        changes.push(Change::new(
            ChangeKind::DescriptionChanged,
            None,
            "description",
            "service description changed",
        ));
    }
    let removed: Vec<&UseCaseMetadata> = old
        .use_cases
        .values()
        .filter(|uc| !new.use_cases.contains_key(&uc.keyname))
        .collect();
    let added: Vec<&UseCaseMetadata> = new
        .use_cases
        .values()
        .filter(|uc| !old.use_cases.contains_key(&uc.keyname))
        .collect();
    for uc in &removed {
        let renamed = rename_candidate(uc, &added);
        let hint = renamed.map_or(String::new(), |to| format!(" (renamed to `{to}`?)"));
        changes.push(Change::new(
            ChangeKind::UseCaseRemoved,
            Some(&uc.keyname),
            "",
            format!(
                "use case `{}`: removed, with its {}{hint}",
                uc.keyname,
                plural(uc.triggers.len(), "trigger")
            ),
        ));
    }
    for uc in &added {
        let renamed = rename_candidate(uc, &removed);
        let hint = renamed.map_or(String::new(), |from| format!(" (renamed from `{from}`?)"));
        changes.push(Change::new(
            ChangeKind::UseCaseAdded,
            Some(&uc.keyname),
            "",
            format!("use case `{}`: added{hint}", uc.keyname),
        ));
    }
    let moves = moves(old, new);
    for (keyname, old_uc) in &old.use_cases {
        if let Some(new_uc) = new.use_cases.get(keyname) {
            use_case(keyname, old_uc, new_uc, &moves, &mut changes);
        }
    }
    sort(&mut changes);
    changes
}

/// Every change from the services in `old` to those in `new`, matched by
/// their `name`; each change names its service. A service in `old` only
/// is `service-removed`, one in `new` only `service-added`.
pub fn diff_services(old: &[ServiceMetadata], new: &[ServiceMetadata]) -> Vec<Change> {
    let old_by_name: BTreeMap<&str, &ServiceMetadata> =
        old.iter().map(|s| (s.name.as_str(), s)).collect();
    let new_by_name: BTreeMap<&str, &ServiceMetadata> =
        new.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut changes = Vec::new();
    for (name, old_service) in &old_by_name {
        let mut found = match new_by_name.get(name) {
            Some(new_service) => diff(old_service, new_service),
            None => vec![Change::new(
                ChangeKind::ServiceRemoved,
                None,
                "",
                format!(
                    "service `{name}`: removed with its {}",
                    plural(old_service.use_cases.len(), "use case")
                ),
            )],
        };
        for change in &mut found {
            change.service = Some((*name).to_owned());
        }
        changes.extend(found);
    }
    unpublished(old, new, &mut changes);
    for name in new_by_name.keys().filter(|n| !old_by_name.contains_key(*n)) {
        let mut change = Change::new(
            ChangeKind::ServiceAdded,
            None,
            "",
            format!("service `{name}`: added"),
        );
        change.service = Some((*name).to_owned());
        changes.push(change);
    }
    sort(&mut changes);
    changes
}

/// (service, use case) pairs by queue.
type QueueUsers<'a> = BTreeMap<&'a str, Vec<(&'a str, &'a str)>>;

/// Who publishes and who consumes each queue of a system of services.
fn queue_users(services: &[ServiceMetadata]) -> (QueueUsers<'_>, QueueUsers<'_>) {
    let (mut publishers, mut consumers) = (QueueUsers::new(), QueueUsers::new());
    for service in services {
        for (keyname, uc) in &service.use_cases {
            let who = (service.name.as_str(), keyname.as_str());
            for queue in publishes(uc) {
                publishers.entry(queue).or_default().push(who);
            }
            for trigger in &uc.triggers {
                if let TriggerKind::Consumer(consumer) = &trigger.kind {
                    consumers
                        .entry(consumer.queue.as_str())
                        .or_default()
                        .push(who);
                }
            }
        }
    }
    (publishers, consumers)
}

/// Queues consumed in `new` that a service of `old` published and no
/// service of `new` does: their consumers wait for messages that no longer
/// come. (Queues no service ever published are fed from outside.)
fn unpublished(old: &[ServiceMetadata], new: &[ServiceMetadata], out: &mut Vec<Change>) {
    let (old_publishers, _) = queue_users(old);
    let (new_publishers, new_consumers) = queue_users(new);
    for (queue, consumers) in &new_consumers {
        let Some(before) = old_publishers.get(queue) else {
            continue;
        };
        if new_publishers.contains_key(queue) {
            continue;
        }
        let was: Vec<String> = before
            .iter()
            .map(|(service, uc)| format!("`{service}`'s `{uc}`"))
            .collect();
        for (service, uc) in consumers {
            let mut change = Change::new(
                ChangeKind::ConsumedQueueUnpublished,
                Some(uc),
                format!("queue {queue}"),
                format!(
                    "use case `{uc}`: consumes `{queue}`, which no service publishes any more (published by {} before)",
                    was.join(", ")
                ),
            );
            change.service = Some((*service).to_owned());
            out.push(change);
        }
    }
}

/// The use case among `others` whose triggers look the same as `uc`'s.
fn rename_candidate<'a>(uc: &UseCaseMetadata, others: &[&'a UseCaseMetadata]) -> Option<&'a str> {
    let signature = trigger_signature(uc);
    if signature.is_empty() {
        return None;
    }
    let mut matching = others.iter().filter(|o| trigger_signature(o) == signature);
    match (matching.next(), matching.next()) {
        (Some(one), None) => Some(&one.keyname),
        _ => None,
    }
}

fn trigger_signature(uc: &UseCaseMetadata) -> BTreeSet<String> {
    uc.triggers
        .iter()
        .map(|t| match &t.kind {
            TriggerKind::Schedule(s) => format!("schedule {}", s.cronjob.as_str()),
            other => identity(other).unwrap_or_default(),
        })
        .collect()
}

/// What callers reach a trigger by (`http GET /users/{}`, `websocket
/// getUser`, `consumer users.get`); schedules have no callers.
fn identity(kind: &TriggerKind) -> Option<String> {
    match kind {
        TriggerKind::Http(http) => Some(format!(
            "http {}",
            http_key(http.method.as_str(), &http.path.shape())
        )),
        TriggerKind::WebSocket(ws) => Some(format!("websocket {}", ws.route_key)),
        TriggerKind::Consumer(c) => Some(format!("consumer {}", c.queue)),
        TriggerKind::Schedule(_) => None,
    }
}

fn http_key(method: &str, shape: &str) -> String {
    format!("{method} {shape}")
}

fn identities(uc: &UseCaseMetadata) -> BTreeSet<String> {
    uc.triggers
        .iter()
        .filter_map(|t| identity(&t.kind))
        .collect()
}

/// Trigger identities that left one use case (kept in both versions) for
/// exactly one other: identity to (from, to).
type Moves = BTreeMap<String, (String, String)>;

fn moves(old: &ServiceMetadata, new: &ServiceMetadata) -> Moves {
    let mut lost: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut gained: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (keyname, old_uc) in &old.use_cases {
        if let Some(new_uc) = new.use_cases.get(keyname) {
            for id in identities(old_uc).difference(&identities(new_uc)) {
                lost.entry(id.clone()).or_default().push(keyname);
            }
        }
    }
    for (keyname, new_uc) in &new.use_cases {
        let before = old
            .use_cases
            .get(keyname)
            .map(identities)
            .unwrap_or_default();
        for id in identities(new_uc).difference(&before) {
            gained.entry(id.clone()).or_default().push(keyname);
        }
    }
    lost.into_iter()
        .filter_map(
            |(id, from)| match (from.as_slice(), gained.get(&id).map(Vec::as_slice)) {
                ([from], Some([to])) => Some((id, ((*from).to_owned(), (*to).to_owned()))),
                _ => None,
            },
        )
        .collect()
}

/// Takes out of `removed` the triggers another use case took over (each
/// reported as moved), and out of `added` those taken over from another.
fn take_moves(
    keyname: &str,
    prefix: &str,
    removed: &mut Vec<&Keyed<'_>>,
    added: &mut Vec<&Keyed<'_>>,
    moves: &Moves,
    out: &mut Vec<Change>,
) {
    removed.retain(|gone| match moves.get(&format!("{prefix} {}", gone.key)) {
        Some((_, to)) => {
            out.push(Change::new(
                ChangeKind::TriggerMoved,
                Some(keyname),
                gone.shown.clone(),
                format!(
                    "use case `{keyname}`: `{}` moved to use case `{to}`",
                    gone.shown
                ),
            ));
            false
        }
        None => true,
    });
    added.retain(|came| !moves.contains_key(&format!("{prefix} {}", came.key)));
}

fn use_case(
    keyname: &str,
    old: &UseCaseMetadata,
    new: &UseCaseMetadata,
    moves: &Moves,
    out: &mut Vec<Change>,
) {
    let at = Some(keyname);
    if old.name != new.name {
        out.push(Change::new(
            ChangeKind::NameChanged,
            at,
            "name",
            format!(
                "use case `{keyname}`: name changed from {} to {}",
                quoted(old.name.as_deref()),
                quoted(new.name.as_deref())
            ),
        ));
    }
    if old.description != new.description {
        out.push(Change::new(
            ChangeKind::DescriptionChanged,
            at,
            "description",
            format!("use case `{keyname}`: description changed"),
        ));
    }
    if old.criticality != new.criticality {
        let (kind, verb) = if new.criticality > old.criticality {
            (ChangeKind::CriticalityRaised, "raised")
        } else {
            (ChangeKind::CriticalityLowered, "lowered")
        };
        out.push(Change::new(
            kind,
            at,
            "criticality",
            format!(
                "use case `{keyname}`: criticality {verb} from {} to {}",
                old.criticality, new.criticality
            ),
        ));
    }
    trigger_kinds(keyname, old, new, moves, out);
    http_routes(keyname, old, new, moves, out);
    websocket_routes(keyname, old, new, moves, out);
    consumer_queues(keyname, old, new, moves, out);
    schedules(keyname, old, new, out);
    published_queues(keyname, old, new, out);
}

fn kinds(uc: &UseCaseMetadata) -> BTreeSet<&'static str> {
    uc.triggers.iter().map(|t| t.kind.name()).collect()
}

fn keyed<'a>(
    uc: &'a UseCaseMetadata,
    pick: fn(&'a TriggerKind) -> Option<Keyed<'a>>,
) -> BTreeMap<String, Keyed<'a>> {
    uc.triggers
        .iter()
        .filter_map(|t| pick(&t.kind))
        .map(|k| (k.key.clone(), k))
        .collect()
}

/// The entries only in `old`, those only in `new`, and the pairs in both.
type Split<'m, 'a> = (
    Vec<&'m Keyed<'a>>,
    Vec<&'m Keyed<'a>>,
    Vec<(&'m Keyed<'a>, &'m Keyed<'a>)>,
);

fn split<'m, 'a>(
    old: &'m BTreeMap<String, Keyed<'a>>,
    new: &'m BTreeMap<String, Keyed<'a>>,
) -> Split<'m, 'a> {
    let removed = old
        .iter()
        .filter(|(k, _)| !new.contains_key(*k))
        .map(|(_, v)| v)
        .collect();
    let added = new
        .iter()
        .filter(|(k, _)| !old.contains_key(*k))
        .map(|(_, v)| v)
        .collect();
    let both = old
        .iter()
        .filter_map(|(k, v)| new.get(k).map(|n| (v, n)))
        .collect();
    (removed, added, both)
}

fn caller_sent(part: SourcePart) -> bool {
    matches!(
        part,
        SourcePart::Params | SourcePart::Body | SourcePart::Headers | SourcePart::Event
    )
}

fn mappers(
    keyname: &str,
    route: &str,
    old: Option<&Mapper>,
    new: Option<&Mapper>,
    out: &mut Vec<Change>,
) {
    let entries = |mapper: Option<&Mapper>| -> BTreeMap<String, (SourcePart, String)> {
        mapper
            .map(|m| m.entries.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|e| (e.source.to_string(), (e.source.part, e.target.clone())))
            .collect()
    };
    let (old_entries, new_entries) = (entries(old), entries(new));
    let at = Some(keyname);
    for (source, (part, target)) in &old_entries {
        match new_entries.get(source) {
            None if caller_sent(*part) => out.push(Change::new(
                ChangeKind::MapperSourceRemoved,
                at,
                format!("{route}: {source}"),
                format!(
                    "use case `{keyname}`: `{route}` no longer reads `{source}` (was `{target}`); callers that send it are ignored"
                ),
            )),
            Some((_, new_target)) if new_target != target => out.push(Change::new(
                ChangeKind::MapperTargetRenamed,
                at,
                format!("{route}: {source}"),
                format!(
                    "use case `{keyname}`: `{route}` maps `{source}` to `{new_target}` instead of `{target}`"
                ),
            )),
            _ => {}
        }
    }
    for (source, (part, target)) in &new_entries {
        if !old_entries.contains_key(source) && caller_sent(*part) {
            out.push(Change::new(
                ChangeKind::MapperSourceAdded,
                at,
                format!("{route}: {source}"),
                format!(
                    "use case `{keyname}`: `{route}` now reads `{source}` into `{target}`; callers may have to send it"
                ),
            ));
        }
    }
}

fn publishes(uc: &UseCaseMetadata) -> BTreeSet<&str> {
    uc.external_interactions
        .iter()
        .filter(|i| i.type_interaction == Some(InteractionType::Publisher))
        .flat_map(|i| i.operation.iter().map(String::as_str))
        .collect()
}

fn published_queues(
    keyname: &str,
    old: &UseCaseMetadata,
    new: &UseCaseMetadata,
    out: &mut Vec<Change>,
) {
    let (old_queues, new_queues) = (publishes(old), publishes(new));
    for queue in old_queues.difference(&new_queues) {
        out.push(Change::new(
            ChangeKind::PublishedQueueRemoved,
            Some(keyname),
            format!("publishes {queue}"),
            format!(
                "use case `{keyname}`: no longer publishes to `{queue}`; its consumers stop receiving messages"
            ),
        ));
    }
    for queue in new_queues.difference(&old_queues) {
        out.push(Change::new(
            ChangeKind::PublishedQueueAdded,
            Some(keyname),
            format!("publishes {queue}"),
            format!("use case `{keyname}`: now publishes to `{queue}`"),
        ));
    }
}

fn quoted(text: Option<&str>) -> String {
    text.map_or_else(|| "(none)".to_owned(), |t| format!("\"{t}\""))
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
