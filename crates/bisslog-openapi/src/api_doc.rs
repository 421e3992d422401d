//! What the API document generators share (this crate's OpenAPI and
//! `bisslog-codegen`'s AsyncAPI): the output format, the document's
//! `info`, unique ids, and the schema a mapper implies.

use std::collections::HashSet;

use bisslog_schema::{Mapper, ServiceMetadata, SourcePart, UseCaseMetadata};
use serde_json::{Map, Value, json};

/// How an API document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocumentFormat {
    /// Pretty-printed JSON, two-space indented, ending in a newline.
    #[default]
    Json,
    /// Block-style YAML, from the same deterministic writer as the
    /// metadata and SAM templates ([`bisslog_schema::to_yaml`]).
    Yaml,
}

impl DocumentFormat {
    /// The format named `json` or `yaml` (also `yml`), in any case.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "json" => Some(Self::Json),
            "yaml" | "yml" => Some(Self::Yaml),
            _ => None,
        }
    }

    /// Writes `document` in this format. The same value always gives the
    /// same bytes: object keys keep their insertion order.
    pub fn write(self, document: &Value) -> String {
        match self {
            Self::Json => {
                let mut text =
                    serde_json::to_string_pretty(document).unwrap_or_else(|_| String::from("{}"));
                text.push('\n');
                text
            }
            Self::Yaml => bisslog_schema::to_yaml(document),
        }
    }
}

/// Options shared by the API document generators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiOptions {
    /// `info.version`: the version of the API (the metadata has none).
    pub version: String,
}

impl Default for ApiOptions {
    /// Version `1.0.0`.
    fn default() -> Self {
        Self {
            version: "1.0.0".to_owned(),
        }
    }
}

/// The document's `info` object.
pub fn info(service: &ServiceMetadata, options: &ApiOptions) -> Value {
    let mut info = Map::new();
    info.insert("title".into(), json!(service.name));
    info.insert("version".into(), json!(options.version));
    if let Some(description) = &service.description {
        info.insert("description".into(), json!(description));
    }
    if let Some(team) = &service.team {
        info.insert("x-bisslog-team".into(), json!(team));
    }
    Value::Object(info)
}

/// The `x-bisslog-*` extensions describing a use case.
pub fn use_case_extensions(use_case: &UseCaseMetadata, target: &mut Map<String, Value>) {
    target.insert("x-bisslog-use-case".into(), json!(use_case.keyname));
    target.insert(
        "x-bisslog-criticality".into(),
        json!(use_case.criticality.name()),
    );
    if let Some(actor) = &use_case.actor {
        target.insert("x-bisslog-actor".into(), json!(actor));
    }
}

/// Hands out ids that are unique within one document and use only the
/// characters both OpenAPI and AsyncAPI accept in component keys
/// (`A-Z a-z 0-9 . _ -`).
#[derive(Debug, Default)]
pub struct UniqueIds {
    taken: HashSet<String>,
}

impl UniqueIds {
    /// `wanted` with other characters replaced by `_`, and `_2`, `_3`, ...
    /// appended when it is already taken.
    pub fn claim(&mut self, wanted: &str) -> String {
        let base = safe_id(wanted);
        let mut id = base.clone();
        let mut n = 2;
        while self.taken.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(id.clone());
        id
    }
}

/// `name` with every character outside `A-Z a-z 0-9 . _ -` replaced by `_`.
pub fn safe_id(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() { "_".to_owned() } else { id }
}

/// The JSON Schema of the part `part` of a request or message, as far as
/// the mapper tells: `None` when the mapper reads nothing from it, `{}`
/// (any value) when it reads the part whole, and an object with the read
/// keys as (optional, untyped) properties when it reads keys inside it.
pub fn part_schema(mapper: &Mapper, part: SourcePart) -> Option<Value> {
    let mut read = false;
    let mut schema = Map::new();
    for entry in mapper.entries.iter().filter(|e| e.source.part == part) {
        read = true;
        insert_path(&mut schema, &entry.source.path, &entry.target);
    }
    read.then_some(Value::Object(schema))
}

/// Adds the property at `path` (keys inside the part) to `schema`.
fn insert_path(schema: &mut Map<String, Value>, path: &[String], target: &str) {
    let Some((first, rest)) = path.split_first() else {
        if !schema.contains_key("type") && !schema.contains_key("description") {
            let description = format!("fills the use case's `{target}`");
            schema.insert("description".into(), json!(description));
        }
        return;
    };
    schema.insert("type".into(), json!("object"));
    let properties = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(properties) = properties {
        let child = properties
            .entry(first.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(child) = child {
            insert_path(child, rest, target);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_safe() {
        let mut ids = UniqueIds::default();
        assert_eq!(ids.claim("get user"), "get_user");
        assert_eq!(ids.claim("get_user"), "get_user_2");
        assert_eq!(ids.claim("get_user"), "get_user_3");
        assert_eq!(ids.claim(""), "_");
    }

    #[test]
    fn formats_parse_in_any_case() {
        assert_eq!(DocumentFormat::parse("YAML"), Some(DocumentFormat::Yaml));
        assert_eq!(DocumentFormat::parse("yml"), Some(DocumentFormat::Yaml));
        assert_eq!(DocumentFormat::parse("json"), Some(DocumentFormat::Json));
        assert_eq!(DocumentFormat::parse("toml"), None);
    }
}
