//! Changes to the triggers of a use case: kinds, HTTP routes, WebSocket
//! route keys, consumed queues, schedules.

use super::{
    Change, ChangeKind, Keyed, Moves, http_key, identity, keyed, kinds, mappers, split, take_moves,
};
use crate::model::{TriggerKind, UseCaseMetadata};

pub(super) fn trigger_kinds(
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

pub(super) fn http_routes(
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

pub(super) fn websocket_routes(
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

pub(super) fn consumer_queues(
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
pub(super) fn schedules(
    keyname: &str,
    old: &UseCaseMetadata,
    new: &UseCaseMetadata,
    out: &mut Vec<Change>,
) {
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
