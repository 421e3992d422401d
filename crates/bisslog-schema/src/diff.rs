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

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    InteractionType, Mapper, ServiceMetadata, SourcePart, TriggerKind, UseCaseMetadata,
};

/// What a change means for the service's callers and other services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeSeverity {
    /// Callers or other services that worked with the old version may
    /// fail with the new one.
    Breaking,
    /// Nothing that worked stops working.
    Compatible,
    /// Worth knowing, but not breaking for callers.
    Notice,
}

impl ChangeSeverity {
    /// The lower-case name (`breaking`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeSeverity::Breaking => "breaking",
            ChangeSeverity::Compatible => "compatible",
            ChangeSeverity::Notice => "notice",
        }
    }
}

impl std::fmt::Display for ChangeSeverity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of change, each with a stable id ([`ChangeKind::id`]) and a
/// fixed severity ([`ChangeKind::severity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// A service is gone (directory comparisons).
    ServiceRemoved,
    /// A service is new (directory comparisons).
    ServiceAdded,
    /// The service's `name` changed.
    ServiceRenamed,
    /// A use case is gone (a rename is a removal and an addition).
    UseCaseRemoved,
    /// A use case is new.
    UseCaseAdded,
    /// A use case no longer has any trigger of a kind it had.
    TriggerKindRemoved,
    /// A use case has a trigger kind it did not have.
    TriggerKindAdded,
    /// An HTTP route (method and path) is gone.
    HttpRouteRemoved,
    /// An HTTP route's method or path changed.
    HttpRouteChanged,
    /// An HTTP route is new.
    HttpRouteAdded,
    /// A WebSocket route key is gone.
    WebSocketRouteRemoved,
    /// A WebSocket route key is new.
    WebSocketRouteAdded,
    /// A consumed queue is gone.
    ConsumerQueueRemoved,
    /// A consumer's queue changed.
    ConsumerQueueChanged,
    /// A consumed queue is new.
    ConsumerQueueAdded,
    /// An HTTP route, WebSocket route key or consumed queue left a use
    /// case for another one: callers still reach the service.
    TriggerMoved,
    /// A mapper source callers send is no longer read.
    MapperSourceRemoved,
    /// A mapper source now fills a different argument.
    MapperTargetRenamed,
    /// A mapper reads a source it did not read: callers may have to send it.
    MapperSourceAdded,
    /// A queue a publisher interaction published to is no longer named.
    PublishedQueueRemoved,
    /// A publisher interaction names a new queue.
    PublishedQueueAdded,
    /// A schedule trigger's cron, time zone or event changed.
    ScheduleChanged,
    /// A use case's criticality went up.
    CriticalityRaised,
    /// A use case's criticality went down.
    CriticalityLowered,
    /// A human-readable `name` changed.
    NameChanged,
    /// A `description` changed.
    DescriptionChanged,
}

impl ChangeKind {
    /// The stable id (`use-case-removed`).
    pub const fn id(self) -> &'static str {
        match self {
            ChangeKind::ServiceRemoved => "service-removed",
            ChangeKind::ServiceAdded => "service-added",
            ChangeKind::ServiceRenamed => "service-renamed",
            ChangeKind::UseCaseRemoved => "use-case-removed",
            ChangeKind::UseCaseAdded => "use-case-added",
            ChangeKind::TriggerKindRemoved => "trigger-kind-removed",
            ChangeKind::TriggerKindAdded => "trigger-kind-added",
            ChangeKind::HttpRouteRemoved => "http-route-removed",
            ChangeKind::HttpRouteChanged => "http-route-changed",
            ChangeKind::HttpRouteAdded => "http-route-added",
            ChangeKind::WebSocketRouteRemoved => "websocket-route-removed",
            ChangeKind::WebSocketRouteAdded => "websocket-route-added",
            ChangeKind::ConsumerQueueRemoved => "consumer-queue-removed",
            ChangeKind::ConsumerQueueChanged => "consumer-queue-changed",
            ChangeKind::ConsumerQueueAdded => "consumer-queue-added",
            ChangeKind::TriggerMoved => "trigger-moved",
            ChangeKind::MapperSourceRemoved => "mapper-source-removed",
            ChangeKind::MapperTargetRenamed => "mapper-target-renamed",
            ChangeKind::MapperSourceAdded => "mapper-source-added",
            ChangeKind::PublishedQueueRemoved => "published-queue-removed",
            ChangeKind::PublishedQueueAdded => "published-queue-added",
            ChangeKind::ScheduleChanged => "schedule-changed",
            ChangeKind::CriticalityRaised => "criticality-raised",
            ChangeKind::CriticalityLowered => "criticality-lowered",
            ChangeKind::NameChanged => "name-changed",
            ChangeKind::DescriptionChanged => "description-changed",
        }
    }

    /// What this kind of change means for callers.
    pub const fn severity(self) -> ChangeSeverity {
        match self {
            ChangeKind::ServiceRemoved
            | ChangeKind::UseCaseRemoved
            | ChangeKind::TriggerKindRemoved
            | ChangeKind::HttpRouteRemoved
            | ChangeKind::HttpRouteChanged
            | ChangeKind::WebSocketRouteRemoved
            | ChangeKind::ConsumerQueueRemoved
            | ChangeKind::ConsumerQueueChanged
            | ChangeKind::MapperSourceRemoved
            | ChangeKind::MapperTargetRenamed
            | ChangeKind::PublishedQueueRemoved => ChangeSeverity::Breaking,
            ChangeKind::ServiceAdded
            | ChangeKind::UseCaseAdded
            | ChangeKind::TriggerKindAdded
            | ChangeKind::HttpRouteAdded
            | ChangeKind::WebSocketRouteAdded
            | ChangeKind::ConsumerQueueAdded
            | ChangeKind::PublishedQueueAdded
            | ChangeKind::CriticalityRaised
            | ChangeKind::NameChanged
            | ChangeKind::DescriptionChanged => ChangeSeverity::Compatible,
            ChangeKind::ServiceRenamed
            | ChangeKind::MapperSourceAdded
            | ChangeKind::TriggerMoved
            | ChangeKind::ScheduleChanged
            | ChangeKind::CriticalityLowered => ChangeSeverity::Notice,
        }
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// One difference between the old and the new metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed.
    pub kind: ChangeKind,
    /// The service's name, when comparing several services; `None` for a
    /// comparison of two files.
    pub service: Option<String>,
    /// The use case's keyname; `None` for a service-level change.
    pub use_case: Option<String>,
    /// Where: the trigger, route (`GET /users/{id}`), queue or field the
    /// change is about; empty when the use case says it all.
    pub detail: String,
    /// A sentence for people.
    pub message: String,
}

impl Change {
    /// The severity of the change's kind.
    pub const fn severity(&self) -> ChangeSeverity {
        self.kind.severity()
    }

    fn new(
        kind: ChangeKind,
        use_case: Option<&str>,
        detail: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            service: None,
            use_case: use_case.map(str::to_owned),
            detail: detail.into(),
            message: message.into(),
        }
    }

    fn sort_key(&self) -> (&Option<String>, &Option<String>, &'static str, &str) {
        (&self.service, &self.use_case, self.kind.id(), &self.detail)
    }
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

fn trigger_kinds(
    keyname: &str,
    old: &UseCaseMetadata,
    new: &UseCaseMetadata,
    moves: &Moves,
    out: &mut Vec<Change>,
) {
    let (old_kinds, new_kinds) = (kinds(old), kinds(new));
    for kind in old_kinds.difference(&new_kinds) {
        // Every trigger of the kind went to other use cases: reported as
        // moves.
        let all_moved = old
            .triggers
            .iter()
            .filter(|t| t.kind.name() == *kind)
            .all(|t| identity(&t.kind).is_some_and(|id| moves.contains_key(&id)));
        if all_moved {
            continue;
        }
        out.push(Change::new(
            ChangeKind::TriggerKindRemoved,
            Some(keyname),
            *kind,
            format!("use case `{keyname}`: no longer has a {kind} trigger"),
        ));
    }
    for kind in new_kinds.difference(&old_kinds) {
        out.push(Change::new(
            ChangeKind::TriggerKindAdded,
            Some(keyname),
            *kind,
            format!("use case `{keyname}`: now has a {kind} trigger"),
        ));
    }
}

/// A trigger's identity (the route or queue callers use), its display
/// form and its mapper.
struct Keyed<'a> {
    key: String,
    shown: String,
    mapper: Option<&'a Mapper>,
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

fn http_routes(
    keyname: &str,
    old: &UseCaseMetadata,
    new: &UseCaseMetadata,
    moves: &Moves,
    out: &mut Vec<Change>,
) {
    const PREFIX: &str = "http";
    fn pick(kind: &TriggerKind) -> Option<Keyed<'_>> {
        match kind {
            TriggerKind::Http(http) => Some(Keyed {
                key: http_key(http.method.as_str(), &http.path.shape()),
                shown: format!("{} {}", http.method, http.path),
                mapper: http.mapper.as_ref(),
            }),
            _ => None,
        }
    }
    let (old_routes, new_routes) = (keyed(old, pick), keyed(new, pick));
    let (mut removed, mut added, both) = split(&old_routes, &new_routes);
    take_moves(keyname, PREFIX, &mut removed, &mut added, moves, out);
    let at = Some(keyname);
    let mut pairs = both;
    if let ([gone], [came]) = (removed.as_slice(), added.as_slice()) {
        out.push(Change::new(
            ChangeKind::HttpRouteChanged,
            at,
            format!("{} -> {}", gone.shown, came.shown),
            format!(
                "use case `{keyname}`: HTTP route `{}` is now `{}`; callers of the old route get 404 or 405",
                gone.shown, came.shown
            ),
        ));
        pairs.push((gone, came));
    } else {
        for gone in removed {
            out.push(Change::new(
                ChangeKind::HttpRouteRemoved,
                at,
                gone.shown.clone(),
                format!("use case `{keyname}`: HTTP route `{}` removed", gone.shown),
            ));
        }
        for came in added {
            out.push(Change::new(
                ChangeKind::HttpRouteAdded,
                at,
                came.shown.clone(),
                format!("use case `{keyname}`: HTTP route `{}` added", came.shown),
            ));
        }
    }
    for (o, n) in pairs {
        mappers(keyname, &n.shown, o.mapper, n.mapper, out);
    }
}

fn websocket_routes(
    keyname: &str,
    old: &UseCaseMetadata,
    new: &UseCaseMetadata,
    moves: &Moves,
    out: &mut Vec<Change>,
) {
    const PREFIX: &str = "websocket";
    fn pick(kind: &TriggerKind) -> Option<Keyed<'_>> {
        match kind {
            TriggerKind::WebSocket(ws) => Some(Keyed {
                key: ws.route_key.clone(),
                shown: format!("websocket {}", ws.route_key),
                mapper: ws.mapper.as_ref(),
            }),
            _ => None,
        }
    }
    let (old_routes, new_routes) = (keyed(old, pick), keyed(new, pick));
    let (mut removed, mut added, both) = split(&old_routes, &new_routes);
    take_moves(keyname, PREFIX, &mut removed, &mut added, moves, out);
    for gone in removed {
        out.push(Change::new(
            ChangeKind::WebSocketRouteRemoved,
            Some(keyname),
            gone.shown.clone(),
            format!(
                "use case `{keyname}`: WebSocket route key `{}` removed",
                gone.key
            ),
        ));
    }
    for came in added {
        out.push(Change::new(
            ChangeKind::WebSocketRouteAdded,
            Some(keyname),
            came.shown.clone(),
            format!(
                "use case `{keyname}`: WebSocket route key `{}` added",
                came.key
            ),
        ));
    }
    for (o, n) in both {
        mappers(keyname, &n.shown, o.mapper, n.mapper, out);
    }
}

fn consumer_queues(
    keyname: &str,
    old: &UseCaseMetadata,
    new: &UseCaseMetadata,
    moves: &Moves,
    out: &mut Vec<Change>,
) {
    const PREFIX: &str = "consumer";
    fn pick(kind: &TriggerKind) -> Option<Keyed<'_>> {
        match kind {
            TriggerKind::Consumer(c) => Some(Keyed {
                key: c.queue.clone(),
                shown: format!("queue {}", c.queue),
                mapper: c.mapper.as_ref(),
            }),
            _ => None,
        }
    }
    let (old_queues, new_queues) = (keyed(old, pick), keyed(new, pick));
    let (mut removed, mut added, both) = split(&old_queues, &new_queues);
    take_moves(keyname, PREFIX, &mut removed, &mut added, moves, out);
    let at = Some(keyname);
    let mut pairs = both;
    if let ([gone], [came]) = (removed.as_slice(), added.as_slice()) {
        out.push(Change::new(
            ChangeKind::ConsumerQueueChanged,
            at,
            format!("queue {} -> {}", gone.key, came.key),
            format!(
                "use case `{keyname}`: consumes `{}` instead of `{}`; messages published to the old queue are no longer consumed",
                came.key, gone.key
            ),
        ));
        pairs.push((gone, came));
    } else {
        for gone in removed {
            out.push(Change::new(
                ChangeKind::ConsumerQueueRemoved,
                at,
                gone.shown.clone(),
                format!(
                    "use case `{keyname}`: no longer consumes queue `{}`",
                    gone.key
                ),
            ));
        }
        for came in added {
            out.push(Change::new(
                ChangeKind::ConsumerQueueAdded,
                at,
                came.shown.clone(),
                format!("use case `{keyname}`: now consumes queue `{}`", came.key),
            ));
        }
    }
    for (o, n) in pairs {
        mappers(keyname, &n.shown, o.mapper, n.mapper, out);
    }
}

/// Whether callers (or producers of messages) provide this part: path
/// variables belong to the route, and the context, connection id and
/// route key are filled by the runtime.
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

fn schedules(keyname: &str, old: &UseCaseMetadata, new: &UseCaseMetadata, out: &mut Vec<Change>) {
    let list = |uc: &UseCaseMetadata| -> Vec<String> {
        let mut list: Vec<String> = uc
            .triggers
            .iter()
            .filter_map(|t| match &t.kind {
                TriggerKind::Schedule(s) => Some(format!(
                    "`{}` ({}{})",
                    s.cronjob.as_str(),
                    s.timezone.as_deref().unwrap_or("UTC"),
                    s.event
                        .as_ref()
                        .map_or(String::new(), |e| format!(", event {e}"))
                )),
                _ => None,
            })
            .collect();
        list.sort();
        list
    };
    let (old_list, new_list) = (list(old), list(new));
    if !old_list.is_empty() && !new_list.is_empty() && old_list != new_list {
        out.push(Change::new(
            ChangeKind::ScheduleChanged,
            Some(keyname),
            "schedule",
            format!(
                "use case `{keyname}`: schedule changed from {} to {}",
                old_list.join(", "),
                new_list.join(", ")
            ),
        ));
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
    fn every_kind_has_a_distinct_id() {
        use ChangeKind::*;
        let all = [
            ServiceRemoved,
            ServiceAdded,
            ServiceRenamed,
            UseCaseRemoved,
            UseCaseAdded,
            TriggerKindRemoved,
            TriggerKindAdded,
            HttpRouteRemoved,
            HttpRouteChanged,
            HttpRouteAdded,
            WebSocketRouteRemoved,
            WebSocketRouteAdded,
            ConsumerQueueRemoved,
            ConsumerQueueChanged,
            ConsumerQueueAdded,
            TriggerMoved,
            MapperSourceRemoved,
            MapperTargetRenamed,
            MapperSourceAdded,
            PublishedQueueRemoved,
            PublishedQueueAdded,
            ScheduleChanged,
            CriticalityRaised,
            CriticalityLowered,
            NameChanged,
            DescriptionChanged,
        ];
        let ids: BTreeSet<_> = all.iter().map(|k| k.id()).collect();
        assert_eq!(ids.len(), all.len());
    }
}
