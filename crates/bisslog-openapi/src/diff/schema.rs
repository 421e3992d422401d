//! Two versions of a schema, compared in the direction data flows: what a
//! request accepts may grow and not shrink; what a response holds may
//! shrink and not grow.

use std::collections::BTreeSet;

use bisslog_schema::diff::{Change, ChangeKind};
use serde_json::Value;

use super::document::{Document, Operation};

/// How deep schemas are followed: deeper (or recursive) parts are not
/// compared.
const MAX_DEPTH: usize = 24;

/// Which way the data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// Callers send it: narrowing breaks them.
    Request,
    /// Callers read it: widening breaks them.
    Response,
}

/// One schema comparison, inside one operation.
pub(super) struct Compare<'d, 'a, 'o> {
    old: &'d Document<'a>,
    new: &'d Document<'a>,
    direction: Direction,
    op: &'o Operation<'a>,
    out: &'o mut Vec<Change>,
}

impl<'d, 'a, 'o> Compare<'d, 'a, 'o> {
    pub(super) fn new(
        old: &'d Document<'a>,
        new: &'d Document<'a>,
        direction: Direction,
        op: &'o Operation<'a>,
        out: &'o mut Vec<Change>,
    ) -> Self {
        Self {
            old,
            new,
            direction,
            op,
            out,
        }
    }

    /// Compares `old` and `new`, found at `at` (`body`, `query.limit`,
    /// `response 200`).
    pub(super) fn schema(&mut self, old: &'a Value, new: &'a Value, at: &str) {
        self.walk(old, new, at, 0);
    }

    fn push(&mut self, kind: ChangeKind, at: &str, says: String) {
        let change = self.op.change(kind, at.to_owned(), says);
        self.out.push(change);
    }

    fn walk(&mut self, old: &'a Value, new: &'a Value, at: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let (old, old_null) = unwrap_nullable(self.old, self.old.resolve(old));
        let (new, new_null) = unwrap_nullable(self.new, self.new.resolve(new));
        if is_combined(old) || is_combined(new) {
            if strip_docs(old) != strip_docs(new) {
                self.push(
                    ChangeKind::SchemaChanged,
                    at,
                    format!("changed the schema of `{at}` (anyOf/oneOf/allOf: read it)"),
                );
            }
            return;
        }
        let old_types = types(old, old_null);
        let new_types = types(new, new_null);
        self.types(old_types.as_ref(), new_types.as_ref(), at);
        self.enums(enumeration(old), enumeration(new), at);
        if allows(old_types.as_ref(), "object") && allows(new_types.as_ref(), "object") {
            self.properties(old, new, at, depth);
        }
        if allows(old_types.as_ref(), "array")
            && allows(new_types.as_ref(), "array")
            && let (Some(o), Some(n)) = (old.get("items"), new.get("items"))
        {
            self.walk(o, n, &format!("{at}[]"), depth + 1);
        }
    }

    fn types(&mut self, old: Option<&Types>, new: Option<&Types>, at: &str) {
        match self.direction {
            Direction::Request => match (old, new) {
                (None, Some(new)) => self.push(
                    ChangeKind::RequestTypeNarrowed,
                    at,
                    format!("now accepts only {} as `{at}`", list(new)),
                ),
                (Some(old), Some(new)) => {
                    let lost = not_covered(old, new);
                    if !lost.is_empty() {
                        self.push(
                            ChangeKind::RequestTypeNarrowed,
                            at,
                            format!("no longer accepts {} as `{at}`", list(&lost)),
                        );
                    }
                }
                _ => {}
            },
            Direction::Response => match (old, new) {
                (Some(_), None) => self.push(
                    ChangeKind::ResponseTypeWidened,
                    at,
                    format!("may now answer any value as `{at}`"),
                ),
                (Some(old), Some(new)) => {
                    let gained = not_covered(new, old);
                    if !gained.is_empty() {
                        self.push(
                            ChangeKind::ResponseTypeWidened,
                            at,
                            format!("may now answer {} as `{at}`", list(&gained)),
                        );
                    }
                }
                _ => {}
            },
        }
    }

    fn enums(&mut self, old: Option<Vec<&Value>>, new: Option<Vec<&Value>>, at: &str) {
        let missing = |from: &[&Value], to: &[&Value]| -> Vec<String> {
            from.iter()
                .filter(|v| !to.contains(v))
                .map(|v| v.to_string())
                .collect()
        };
        match self.direction {
            Direction::Request => match (old, new) {
                (None, Some(new)) => {
                    let values: Vec<String> = new.iter().map(|v| v.to_string()).collect();
                    self.push(
                        ChangeKind::RequestTypeNarrowed,
                        at,
                        format!("now accepts only {} as `{at}`", values.join(", ")),
                    );
                }
                (Some(old), Some(new)) => {
                    let lost = missing(&old, &new);
                    if !lost.is_empty() {
                        self.push(
                            ChangeKind::RequestTypeNarrowed,
                            at,
                            format!("no longer accepts {} as `{at}`", lost.join(", ")),
                        );
                    }
                }
                _ => {}
            },
            Direction::Response => match (old, new) {
                (Some(_), None) => self.push(
                    ChangeKind::ResponseTypeWidened,
                    at,
                    format!("may now answer values outside its former list as `{at}`"),
                ),
                (Some(old), Some(new)) => {
                    let gained = missing(&new, &old);
                    if !gained.is_empty() {
                        self.push(
                            ChangeKind::ResponseTypeWidened,
                            at,
                            format!("may now answer {} as `{at}`", gained.join(", ")),
                        );
                    }
                }
                _ => {}
            },
        }
    }

    fn properties(&mut self, old: &'a Value, new: &'a Value, at: &str, depth: usize) {
        let (old_fields, new_fields) = (fields(old), fields(new));
        let (old_required, new_required) = (required(old), required(new));
        for name in old_fields.union(&new_fields) {
            let field = format!("{at}.{name}");
            let (was, is) = (old_fields.contains(name), new_fields.contains(name));
            let (was_required, is_required) =
                (old_required.contains(name), new_required.contains(name));
            match self.direction {
                Direction::Request => {
                    if was && !is {
                        self.push(
                            ChangeKind::RequestFieldRemoved,
                            &field,
                            format!("no longer reads `{field}`; callers that send it are ignored or refused"),
                        );
                    } else if !was && is && is_required {
                        self.push(
                            ChangeKind::RequestFieldRequired,
                            &field,
                            format!(
                                "requires a new field `{field}`; callers that do not send it fail"
                            ),
                        );
                    } else if !was && is {
                        self.push(
                            ChangeKind::RequestFieldAdded,
                            &field,
                            format!("reads a new optional field `{field}`"),
                        );
                    } else if is_required && !was_required {
                        self.push(
                            ChangeKind::RequestFieldRequired,
                            &field,
                            format!("now requires `{field}`; callers that do not send it fail"),
                        );
                    }
                }
                Direction::Response => {
                    if was && !is {
                        self.push(
                            ChangeKind::ResponseFieldRemoved,
                            &field,
                            format!("no longer answers `{field}`; callers that read it break"),
                        );
                    } else if !was && is {
                        self.push(
                            ChangeKind::ResponseFieldAdded,
                            &field,
                            format!("answers a new field `{field}`"),
                        );
                    } else if was_required && !is_required {
                        self.push(
                            ChangeKind::ResponseFieldOptional,
                            &field,
                            format!("may answer without `{field}`, which was always present"),
                        );
                    }
                }
            }
            if let (Some(o), Some(n)) = (property(old, name), property(new, name)) {
                self.walk(o, n, &field, depth + 1);
            }
        }
    }
}

/// The JSON types a schema allows; `None` when it does not constrain them.
type Types = BTreeSet<String>;

/// `anyOf`/`oneOf` of a schema and `{"type": "null"}`, as that schema and
/// "may be null".
fn unwrap_nullable<'a>(doc: &Document<'a>, schema: &'a Value) -> (&'a Value, bool) {
    for key in ["anyOf", "oneOf"] {
        let Some([a, b]) = schema.get(key).and_then(Value::as_array).map(Vec::as_slice) else {
            continue;
        };
        let (a, b) = (doc.resolve(a), doc.resolve(b));
        if is_null(b) {
            return (a, true);
        }
        if is_null(a) {
            return (b, true);
        }
    }
    let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    (schema, nullable)
}

fn is_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

fn is_combined(schema: &Value) -> bool {
    ["anyOf", "oneOf", "allOf"]
        .iter()
        .any(|k| schema.get(k).is_some())
}

/// A schema without the keywords that only document it.
fn strip_docs(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "description" | "title" | "examples" | "example")
                })
                .map(|(k, v)| (k.clone(), strip_docs(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_docs).collect()),
        other => other.clone(),
    }
}

fn types(schema: &Value, nullable: bool) -> Option<Types> {
    if schema == &Value::Bool(false) {
        return Some(Types::new());
    }
    let mut set: Types = match schema.get("type") {
        Some(Value::String(t)) => [t.clone()].into(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ if schema.get("properties").is_some() => ["object".to_owned()].into(),
        _ if schema.get("items").is_some() => ["array".to_owned()].into(),
        _ => return None,
    };
    if nullable {
        set.insert("null".to_owned());
    }
    Some(set)
}

fn allows(types: Option<&Types>, wanted: &str) -> bool {
    types.is_none_or(|t| t.contains(wanted))
}

/// The types of `from` that `to` does not allow (`integer` is a `number`).
fn not_covered(from: &Types, to: &Types) -> Types {
    from.iter()
        .filter(|t| !(to.contains(*t) || (t.as_str() == "integer" && to.contains("number"))))
        .cloned()
        .collect()
}

fn list(types: &Types) -> String {
    let names: Vec<&str> = types.iter().map(String::as_str).collect();
    match names.as_slice() {
        [] => "no value".to_owned(),
        [one] => format!("a {one}"),
        many => format!("values of type {}", many.join(", ")),
    }
}

/// `enum` values, or `const` as a list of one.
fn enumeration(schema: &Value) -> Option<Vec<&Value>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(values.iter().collect());
    }
    schema.get("const").map(|v| vec![v])
}

/// The fields a schema names: its properties and its required names.
fn fields(schema: &Value) -> BTreeSet<&str> {
    let mut names = required(schema);
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        names.extend(properties.keys().map(String::as_str));
    }
    names
}

fn required(schema: &Value) -> BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn property<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    schema.get("properties").and_then(|p| p.get(name))
}
