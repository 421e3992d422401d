//! Readers for the field types every object shares: text, booleans,
//! whole numbers, tags and extension keys.

use indexmap::IndexMap;

use super::{Checker, Field, Reported, describe, entry};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::node::{Node, Style, Value};
use crate::span::Span;

/// A node that must be a non-empty string when present; `null` counts as
/// absent, as in the Python tools.
pub(crate) fn string<'n>(cx: &mut Checker, node: &'n Node, label: &str) -> Field<&'n str> {
    cx.check(Severity::Error);
    match &node.value {
        Value::Null => Ok(None),
        Value::Str(s) if s.trim().is_empty() => Err(cx.report(
            Diagnostic::new(Code::EmptyValue, node.span, format!("`{label}` is empty"))
                .with_hint(format!("give `{label}` a value, or remove the key")),
        )),
        Value::Str(s) => Ok(Some(s)),
        _ => Err(cx.report(wrong_type(node, label, "a string"))),
    }
}

/// A wrong-type diagnostic: "`x` must be a string, found a number (245)",
/// with a hint to quote scalars meant as text.
pub(crate) fn wrong_type(node: &Node, label: &str, expected: &str) -> Diagnostic {
    let diagnostic = Diagnostic::new(
        Code::WrongType,
        node.span,
        format!("`{label}` must be {expected}, found {}", describe(node)),
    );
    let quotable = matches!(node.value, Value::Int(_) | Value::Float(_) | Value::Bool(_));
    if quotable && expected == "a string" {
        diagnostic.with_hint(format!(
            "write it in quotes if it is meant as text: \"{}\"",
            node.display_scalar()
        ))
    } else {
        diagnostic
    }
}

/// A number JSON cannot hold (`.inf`, `.nan`) inside a payload.
pub(crate) fn non_finite(node: &Node, label: &str) -> Diagnostic {
    Diagnostic::new(
        Code::WrongType,
        node.span,
        format!(
            "`{label}` holds {}, which has no JSON form",
            node.display_scalar()
        ),
    )
    .with_hint("payloads are JSON: use a finite number, or a string")
}

/// An optional non-empty string field.
pub(crate) fn opt_string(cx: &mut Checker, entries: &[(Node, Node)], key: &str) -> Field<String> {
    match entry(entries, key) {
        None => Ok(None),
        Some((_, node)) => Ok(string(cx, node, key)?.map(str::to_owned)),
    }
}

/// A required non-empty string field, reported at `owner` (the span of
/// the object's key or first line) when absent.
pub(crate) fn required_string<'n>(
    cx: &mut Checker,
    entries: &'n [(Node, Node)],
    key: &str,
    owner: Span,
    within: &str,
) -> Result<(&'n Node, &'n str), Reported> {
    match entry(entries, key) {
        Some((_, node)) => match string(cx, node, key)? {
            Some(s) => Ok((node, s)),
            None => Err(cx.report(missing(key, within, owner))),
        },
        None => {
            cx.check(Severity::Error);
            Err(cx.report(missing(key, within, owner)))
        }
    }
}

/// A missing-field diagnostic.
pub(crate) fn missing(key: &str, within: &str, owner: Span) -> Diagnostic {
    Diagnostic::new(
        Code::MissingField,
        owner,
        format!("`{key}` is missing from {within}"),
    )
    .with_hint(format!("`{key}` is required"))
}

/// An optional boolean. The YAML 1.1 spellings PyYAML reads as booleans
/// (`yes`, `no`, `on`, `off`, in lower, title or upper case) are accepted
/// with a warning.
pub(crate) fn boolean(cx: &mut Checker, entries: &[(Node, Node)], key: &str) -> Field<bool> {
    let Some((_, node)) = entry(entries, key) else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    match &node.value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Str(s) if node.style == Style::Plain => match yaml11_boolean(s) {
            Some(b) => {
                cx.report(
                    Diagnostic::new(
                        Code::Yaml11Boolean,
                        node.span,
                        format!("`{s}` is a YAML 1.1 boolean; it is read as `{b}`"),
                    )
                    .with_hint(format!("write `{b}`: YAML 1.2 readers take `{s}` as text")),
                );
                Ok(Some(b))
            }
            None => Err(cx.report(wrong_type(node, key, "true or false"))),
        },
        _ => Err(cx.report(wrong_type(node, key, "true or false"))),
    }
}

/// Exactly the spellings of PyYAML's YAML 1.1 boolean resolver.
fn yaml11_boolean(s: &str) -> Option<bool> {
    match s {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// An optional whole number in `min..=max`. Digit strings (`"30"`) are
/// read as numbers, as the Python loader does.
pub(crate) fn unsigned(
    cx: &mut Checker,
    entries: &[(Node, Node)],
    key: &str,
    min: u64,
    max: u64,
) -> Field<u64> {
    let Some((_, node)) = entry(entries, key) else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let value: i128 = match &node.value {
        Value::Null => return Ok(None),
        Value::Int(i) => i128::from(*i),
        Value::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<i128>().unwrap_or(i128::MAX)
        }
        _ => return Err(cx.report(wrong_type(node, key, "a whole number"))),
    };
    if value < i128::from(min) || value > i128::from(max) {
        let message = if value < i128::from(min) {
            format!(
                "`{key}` must be at least {min}, found {}",
                node.display_scalar()
            )
        } else {
            format!(
                "`{key}` must be at most {max}, found {}",
                node.display_scalar()
            )
        };
        return Err(cx.report(Diagnostic::new(Code::OutOfRange, node.span, message)));
    }
    Ok(u64::try_from(value).ok())
}

/// [`unsigned`] for fields held as `u32`.
pub(crate) fn unsigned32(
    cx: &mut Checker,
    entries: &[(Node, Node)],
    key: &str,
    min: u32,
) -> Field<u32> {
    let value = unsigned(cx, entries, key, u64::from(min), u64::from(u32::MAX))?;
    Ok(value.and_then(|v| u32::try_from(v).ok()))
}

/// Tags: a mapping of names to scalar values (numbers and booleans are
/// kept as their text).
pub(crate) fn tags(cx: &mut Checker, entries: &[(Node, Node)]) -> Field<IndexMap<String, String>> {
    let Some((_, node)) = entry(entries, "tags") else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let pairs = match &node.value {
        Value::Null => return Ok(None),
        Value::Map(pairs) => pairs,
        _ => return Err(cx.report(wrong_type(node, "tags", "a mapping of names to values"))),
    };
    let mut tags = IndexMap::with_capacity(pairs.len());
    let mut failed = false;
    for (key, value) in pairs {
        let text = match &value.value {
            Value::Str(s) => s.clone(),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => value.display_scalar(),
            Value::Null => String::new(),
            Value::Seq(_) | Value::Map(_) => {
                let label = format!("tags.{}", scalar_text(key));
                cx.report(wrong_type(value, &label, "a string"));
                failed = true;
                continue;
            }
        };
        tags.insert(scalar_text(key), text);
    }
    if failed {
        Err(Reported)
    } else {
        Ok(Some(tags))
    }
}

/// The text of a scalar key (`123` for the integer key 123).
pub(crate) fn scalar_text(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => s.clone(),
        _ => node.display_scalar(),
    }
}

/// The `x-` extension keys of an object, as JSON.
pub(crate) fn extensions(
    cx: &mut Checker,
    entries: &[(Node, Node)],
) -> IndexMap<String, serde_json::Value> {
    let mut extensions = IndexMap::new();
    for (key, value) in entries {
        let Some(name) = key.as_str().filter(|k| k.starts_with("x-")) else {
            continue;
        };
        match (value.non_finite(), value.to_json()) {
            (None, Some(json)) => {
                extensions.insert(name.to_owned(), json);
            }
            (bad, _) => {
                cx.report(non_finite(bad.unwrap_or(value), name));
            }
        }
    }
    extensions
}
