//! The parts of one operation callers depend on: its parameters, its
//! request body and its responses.

use std::collections::{BTreeMap, BTreeSet};

use bisslog_schema::diff::{Change, ChangeKind};
use serde_json::{Map, Value};

use super::document::{Document, Operation, identity};
use super::schema::{Compare, Direction};

/// The changes between two versions of one operation.
pub(super) fn compare(
    old_doc: &Document<'_>,
    old: &Operation<'_>,
    new_doc: &Document<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    parameters(old_doc, old, new_doc, new, out);
    request_body(old_doc, old, new_doc, new, out);
    responses(old_doc, old, new_doc, new, out);
}

fn required(parameter: &Map<String, Value>) -> bool {
    parameter.get("required").and_then(Value::as_bool) == Some(true)
}

fn parameters(
    old_doc: &Document<'_>,
    old: &Operation<'_>,
    new_doc: &Document<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let old_parameters = old.parameters(old_doc);
    let new_parameters = new.parameters(new_doc);
    // Path variables are compared by position: the route's shape already
    // matched, and their names are not something callers send.
    let path = |list: &[&Map<String, Value>]| -> Vec<Option<Value>> {
        list.iter()
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
            .map(|p| p.get("schema").cloned())
            .collect()
    };
    let (old_path, new_path) = (path(&old_parameters), path(&new_parameters));
    for (position, (old_schema, new_schema)) in old_path.iter().zip(&new_path).enumerate() {
        if let (Some(o), Some(n)) = (old_schema, new_schema) {
            let at = format!("path variable {}", position + 1);
            Compare::new(old_doc, new_doc, Direction::Request, new, out).schema(o, n, &at);
        }
    }
    let (old_by, new_by) = (by_identity(&old_parameters), by_identity(&new_parameters));
    for ((location, name), parameter) in &old_by {
        let detail = format!("{location}.{name}");
        match new_by.get(&(location.clone(), name.clone())) {
            None => out.push(old.change(
                ChangeKind::ParameterRemoved,
                detail,
                format!(
                    "no longer reads the {location} parameter `{name}`; callers that send it are ignored"
                ),
            )),
            Some(now) => {
                if required(now) && !required(parameter) {
                    out.push(new.change(
                        ChangeKind::ParameterRequired,
                        detail.clone(),
                        format!("now requires the {location} parameter `{name}`"),
                    ));
                }
                if let (Some(o), Some(n)) = (parameter.get("schema"), now.get("schema")) {
                    Compare::new(old_doc, new_doc, Direction::Request, new, out)
                        .schema(o, n, &detail);
                }
            }
        }
    }
    for ((location, name), parameter) in &new_by {
        if old_by.contains_key(&(location.clone(), name.clone())) {
            continue;
        }
        let detail = format!("{location}.{name}");
        if required(parameter) {
            out.push(new.change(
                ChangeKind::ParameterRequired,
                detail,
                format!(
                    "requires a new {location} parameter `{name}`; callers that do not send it fail"
                ),
            ));
        } else {
            out.push(new.change(
                ChangeKind::ParameterAdded,
                detail,
                format!("reads a new optional {location} parameter `{name}`"),
            ));
        }
    }
}

/// Query, header and cookie parameters by location and name.
fn by_identity<'a>(
    list: &[&'a Map<String, Value>],
) -> BTreeMap<(String, String), &'a Map<String, Value>> {
    list.iter()
        .filter(|p| p.get("in").and_then(Value::as_str) != Some("path"))
        .map(|p| (identity(p), *p))
        .collect()
}

/// The operation's request body, its `$ref` followed.
fn body<'a>(doc: &Document<'a>, op: &Operation<'a>) -> Option<&'a Value> {
    op.value.get("requestBody").map(|b| doc.resolve(b))
}

fn content<'a>(doc: &Document<'a>, holder: &'a Value) -> BTreeMap<&'a str, Option<&'a Value>> {
    holder
        .get("content")
        .and_then(Value::as_object)
        .map(|media| {
            media
                .iter()
                .map(|(name, m)| (name.as_str(), doc.resolve(m).get("schema")))
                .collect()
        })
        .unwrap_or_default()
}

fn request_body(
    old_doc: &Document<'_>,
    old: &Operation<'_>,
    new_doc: &Document<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let is_required = |b: &Value| b.get("required").and_then(Value::as_bool) == Some(true);
    let (before, after) = match (body(old_doc, old), body(new_doc, new)) {
        (None, None) => return,
        (None, Some(after)) => {
            if is_required(after) {
                out.push(new.change(
                    ChangeKind::RequestBodyChanged,
                    "body".to_owned(),
                    "now requires a request body; callers that send none fail".to_owned(),
                ));
            }
            return;
        }
        (Some(_), None) => {
            out.push(new.change(
                ChangeKind::RequestBodyChanged,
                "body".to_owned(),
                "no longer reads a request body; what callers send is ignored".to_owned(),
            ));
            return;
        }
        (Some(before), Some(after)) => (before, after),
    };
    if is_required(after) && !is_required(before) {
        out.push(new.change(
            ChangeKind::RequestBodyChanged,
            "body".to_owned(),
            "now requires its request body; callers that send none fail".to_owned(),
        ));
    }
    let (old_media, new_media) = (content(old_doc, before), content(new_doc, after));
    for (media, old_schema) in &old_media {
        match new_media.get(media) {
            None => out.push(new.change(
                ChangeKind::RequestMediaTypeRemoved,
                format!("body {media}"),
                format!("no longer accepts `{media}` request bodies"),
            )),
            Some(new_schema) => {
                if let (Some(o), Some(n)) = (old_schema, new_schema) {
                    Compare::new(old_doc, new_doc, Direction::Request, new, out)
                        .schema(o, n, "body");
                }
            }
        }
    }
}

fn responses_of<'a>(doc: &Document<'a>, op: &Operation<'a>) -> BTreeMap<&'a str, &'a Value> {
    op.value
        .get("responses")
        .and_then(Value::as_object)
        .map(|all| {
            all.iter()
                .map(|(status, r)| (status.as_str(), doc.resolve(r)))
                .collect()
        })
        .unwrap_or_default()
}

fn is_success(status: &str) -> bool {
    status.starts_with('2')
}

fn responses(
    old_doc: &Document<'_>,
    old: &Operation<'_>,
    new_doc: &Document<'_>,
    new: &Operation<'_>,
    out: &mut Vec<Change>,
) {
    let (before, after) = (responses_of(old_doc, old), responses_of(new_doc, new));
    let gone: BTreeSet<&str> = before
        .keys()
        .filter(|s| is_success(s) && !after.contains_key(*s))
        .copied()
        .collect();
    let came: BTreeSet<&str> = after
        .keys()
        .filter(|s| is_success(s) && !before.contains_key(*s))
        .copied()
        .collect();
    if let (&[was], &[now]) = (
        gone.iter().collect::<Vec<_>>().as_slice(),
        came.iter().collect::<Vec<_>>().as_slice(),
    ) {
        out.push(new.change(
            ChangeKind::SuccessStatusRemoved,
            format!("status {was}"),
            format!("answers `{now}` instead of `{was}` on success"),
        ));
    } else {
        for status in &gone {
            out.push(new.change(
                ChangeKind::SuccessStatusRemoved,
                format!("status {status}"),
                format!("no longer answers `{status}`"),
            ));
        }
        for status in &came {
            out.push(new.change(
                ChangeKind::SuccessStatusAdded,
                format!("status {status}"),
                format!("may now answer `{status}` on success"),
            ));
        }
    }
    for status in after.keys() {
        if !is_success(status) && *status != "default" && !before.contains_key(status) {
            out.push(new.change(
                ChangeKind::ErrorStatusAdded,
                format!("status {status}"),
                format!("may now answer `{status}`"),
            ));
        }
    }
    for (status, was) in &before {
        let Some(now) = after.get(status).filter(|_| is_success(status)) else {
            continue;
        };
        let (old_media, new_media) = (content(old_doc, was), content(new_doc, now));
        for (media, old_schema) in &old_media {
            match new_media.get(media) {
                None => out.push(new.change(
                    ChangeKind::ResponseMediaTypeRemoved,
                    format!("status {status} {media}"),
                    format!("no longer answers `{status}` with `{media}`"),
                )),
                Some(new_schema) => {
                    if let (Some(o), Some(n)) = (old_schema, new_schema) {
                        Compare::new(old_doc, new_doc, Direction::Response, new, out).schema(
                            o,
                            n,
                            &format!("response {status}"),
                        );
                    }
                }
            }
        }
    }
}
