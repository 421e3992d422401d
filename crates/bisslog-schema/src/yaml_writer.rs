//! A small, deterministic YAML writer for JSON values, in block style.
//!
//! Strings are written plain when a YAML 1.2 reader *and* a YAML 1.1 reader
//! (PyYAML, used by the Python bisslog tools) would read them back as the
//! same string; otherwise they are written as JSON strings, which are valid
//! YAML double-quoted scalars.

use std::fmt::Write as _;

use serde_json::Value;

/// Writes a JSON value as a YAML document (ending in a newline).
///
/// ```
/// let value = serde_json::json!({"name": "svc", "tags": {"on": "yes"}, "list": [1, "a: b"]});
/// assert_eq!(
///     bisslog_schema::to_yaml(&value),
///     "name: svc\ntags:\n  \"on\": \"yes\"\nlist:\n- 1\n- \"a: b\"\n"
/// );
/// ```
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_object(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_array(&mut out, items, 0),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn write_object(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        // The first key of an object that is a list item shares the dash line.
        if i > 0 || indent == 0 {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&string_text(key));
        out.push(':');
        write_value(out, value, indent, true);
    }
}

fn write_array(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        write_value(out, item, indent, false);
    }
}

/// Writes what follows `key:` or `-`.
fn write_value(out: &mut String, value: &Value, indent: usize, in_object: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            if in_object {
                out.push('\n');
                out.push_str(&" ".repeat(indent + 2));
            } else {
                out.push(' ');
            }
            write_object(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_array(out, items, if in_object { indent } else { indent + 2 });
        }
        scalar => {
            let _ = writeln!(out, " {}", scalar_text(scalar));
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

fn string_text(s: &str) -> String {
    if is_safe_plain(s) {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

/// Whether `s` can be written as a plain scalar and read back unchanged by
/// YAML 1.1 and 1.2 readers.
fn is_safe_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || first.is_ascii_digit()
        || first == '.'
        || first == '+'
    {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(|c| c.is_control())
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let reserved = [
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", ".nan",
    ];
    !reserved.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_structures() {
        let value = json!({
            "a": {"b": [{"c": 1, "d": [true, null]}, "x"], "e": {}},
            "f": [],
            "g": "0 0 ? * 1 *",
            "h": "plain text",
            "i": "-leading",
            "j": "123"
        });
        let expected = "a:\n  b:\n  - c: 1\n    d:\n    - true\n    - null\n  - x\n  e: {}\nf: []\n\
g: \"0 0 ? * 1 *\"\nh: plain text\ni: \"-leading\"\nj: \"123\"\n";
        assert_eq!(to_yaml(&value), expected);
    }
}
