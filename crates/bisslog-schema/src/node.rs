//! The syntax tree both parsers produce: plain data values, each with its
//! span. The validator reads metadata from this tree, never from text.

use crate::span::Span;

/// How a scalar was written, which decides how far its text can be trusted
/// to match its value (for pointing inside it) and whether a YAML 1.1
/// spelling such as `yes` was meant as a boolean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// A YAML plain scalar (`name: abc`).
    Plain,
    /// A YAML single-quoted or JSON/YAML double-quoted string.
    Quoted,
    /// A YAML block scalar (`|` or `>`), or a collection.
    Other,
}

/// One node of a parsed document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) span: Span,
    pub(crate) style: Style,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub(crate) fn new(value: Value, span: Span, style: Style) -> Self {
        Self { value, span, style }
    }

    /// The text of a string scalar.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value under a string key of a mapping, with its key.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// What a reader would call this value's type, for messages such as
    /// "expected a string, found a number".
    pub(crate) fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(s) if s.is_empty() => "an empty string",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// A short rendering of a scalar for messages (`56`, `"update"`).
    pub(crate) fn display_scalar(&self) -> String {
        match &self.value {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => format!("{:?}", truncate(s, 60)),
            Value::Seq(_) => "a list".to_owned(),
            Value::Map(_) => "a mapping".to_owned(),
        }
    }

    /// The first float in this subtree that JSON cannot represent.
    pub(crate) fn non_finite(&self) -> Option<&Node> {
        match &self.value {
            Value::Float(f) if !f.is_finite() => Some(self),
            Value::Seq(items) => items.iter().find_map(Node::non_finite),
            Value::Map(entries) => entries
                .iter()
                .find_map(|(k, v)| k.non_finite().or_else(|| v.non_finite())),
            _ => None,
        }
    }

    /// The number of nodes in this subtree, counting itself.
    pub(crate) fn size(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }

    /// The value as JSON, for payloads such as a schedule's static `event`.
    /// Keys that are not strings are written as their text; non-finite
    /// floats have no JSON form and give `None`.
    pub(crate) fn to_json(&self) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => J::Number(serde_json::Number::from_f64(*f)?),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect::<Option<_>>()?),
            Value::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = match &k.value {
                        Value::Str(s) => s.clone(),
                        _ => k.display_scalar(),
                    };
                    map.insert(key, v.to_json()?);
                }
                J::Object(map)
            }
        })
    }
}

/// At most `max` characters of `s`, with an ellipsis when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}
