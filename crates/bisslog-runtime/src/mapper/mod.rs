//! Mappers: from the parts of a request or message to a use case's input.
//!
//! A trigger's `mapper` in the metadata lists `source: target` lines, as in
//! bisslog: `path_query.schema_keyname: schema_keyname`, `body: data`,
//! `body.a.b: x`, `headers.x-user: user` (header names in any case),
//! `context.user_id: user_id`, `event.body: data`, ... A target with dots
//! nests (`address.city`). Unlike the Python tools, a source that is absent
//! leaves its target absent (never an explicit `null`), so serde defaults
//! and `Option` fields work.
//!
//! Without a mapper, the input is every path variable, then every query
//! parameter, then every field of a JSON-object body (a body that is not an
//! object goes under `body`); an earlier source wins a name clash.

mod mapped;

use bisslog_schema::{Mapper as MapperSpec, MapperEntry, SourcePart};
use serde_json::Value;

pub use mapped::{MapError, Mapped};

/// The parts of an incoming request or message, as a transport presents
/// them. Methods a transport has nothing for keep their defaults.
pub trait Sources {
    /// A path variable by name.
    fn path_var(&self, _name: &str) -> Option<&str> {
        None
    }
    /// Every path variable, in path order.
    fn path_vars(&self) -> Vec<(&str, &str)> {
        Vec::new()
    }
    /// The first query parameter with this name.
    fn param(&self, _name: &str) -> Option<&str> {
        None
    }
    /// Every query parameter (the first value of repeated ones).
    fn params(&self) -> Vec<(&str, &str)> {
        Vec::new()
    }
    /// A header by name, in any case.
    fn header(&self, _name: &str) -> Option<&str> {
        None
    }
    /// Every header, with lower-case names.
    fn headers(&self) -> Vec<(String, &str)> {
        Vec::new()
    }
    /// The JSON body of a request, or the payload of a message (`event`).
    fn body(&self) -> Option<&Value> {
        None
    }
    /// Takes the body, for the last mapper line that needs it whole.
    fn take_body(&mut self) -> Option<Value> {
        self.body().cloned()
    }
    /// The WebSocket connection id.
    fn connection_id(&self) -> Option<&str> {
        None
    }
    /// The WebSocket route key.
    fn route_key(&self) -> Option<&str> {
        None
    }
}

/// A compiled mapper for one trigger.
#[derive(Debug, Clone)]
pub struct InputMapper {
    lines: Option<Vec<Line>>,
}

#[derive(Debug, Clone)]
struct Line {
    part: SourcePart,
    path: Vec<String>,
    target: Vec<String>,
    /// Whether this is the last line reading the whole body, which may
    /// take it instead of copying it.
    takes_body: bool,
}

impl InputMapper {
    /// The mapper of a trigger; `None` is the default mapping.
    pub fn new(spec: Option<&MapperSpec>) -> Self {
        let Some(spec) = spec else {
            return Self { lines: None };
        };
        let mut lines: Vec<Line> = spec.entries.iter().map(Line::new).collect();
        let body_readers = |line: &Line| matches!(line.part, SourcePart::Body | SourcePart::Event);
        if let Some(last) = lines.iter().rposition(body_readers) {
            lines[last].takes_body = true;
        }
        Self { lines: Some(lines) }
    }

    /// Builds the input from the sources and the call's context attributes.
    pub fn map(
        &self,
        sources: &mut dyn Sources,
        context: &serde_json::Map<String, Value>,
    ) -> Mapped {
        match &self.lines {
            None => default_mapping(sources),
            Some(lines) => {
                let mut input = Mapped::object();
                for line in lines {
                    if let Some(value) = line.read(sources, context) {
                        input.insert(&line.target, value);
                    }
                }
                input
            }
        }
    }
}

impl Line {
    fn new(entry: &MapperEntry) -> Self {
        Line {
            part: entry.source.part,
            path: entry.source.path.clone(),
            target: entry.target.split('.').map(str::to_owned).collect(),
            takes_body: false,
        }
    }

    fn read(
        &self,
        sources: &mut dyn Sources,
        context: &serde_json::Map<String, Value>,
    ) -> Option<Mapped> {
        let text = |s: &str| Mapped::Text(s.to_owned());
        let all = |pairs: Vec<(&str, &str)>| {
            Mapped::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), text(v)))
                    .collect(),
            )
        };
        let first = self.path.first().map(String::as_str);
        match (self.part, first) {
            (SourcePart::PathQuery, Some(name)) => sources.path_var(name).map(text),
            (SourcePart::PathQuery, None) => Some(all(sources.path_vars())),
            (SourcePart::Params, Some(name)) => sources.param(name).map(text),
            (SourcePart::Params, None) => Some(all(sources.params())),
            (SourcePart::Headers, Some(name)) => sources.header(name).map(text),
            (SourcePart::Headers, None) => Some(Mapped::Object(
                sources
                    .headers()
                    .into_iter()
                    .map(|(k, v)| (k, text(v)))
                    .collect(),
            )),
            (SourcePart::Context, None) => Some(Mapped::Json(Value::Object(context.clone()))),
            (SourcePart::Context, Some(_)) => pointer(context.get(&self.path[0])?, &self.path[1..])
                .cloned()
                .map(Mapped::Json),
            (SourcePart::Body | SourcePart::Event, None) => {
                let body = if self.takes_body {
                    sources.take_body()
                } else {
                    sources.body().cloned()
                };
                body.map(Mapped::Json)
            }
            (SourcePart::Body | SourcePart::Event, Some(_)) => pointer(sources.body()?, &self.path)
                .cloned()
                .map(Mapped::Json),
            (SourcePart::ConnectionId, _) => sources.connection_id().map(text),
            (SourcePart::RouteKey, _) => sources.route_key().map(text),
        }
    }
}

/// The value at a key path inside JSON (array items by index).
fn pointer<'v>(mut value: &'v Value, path: &[String]) -> Option<&'v Value> {
    for key in path {
        value = match value {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Path variables, then query parameters, then body fields; an earlier
/// source wins a clash.
fn default_mapping(sources: &mut dyn Sources) -> Mapped {
    let mut entries: Vec<(String, Mapped)> = Vec::new();
    let add = |entries: &mut Vec<(String, Mapped)>, key: &str, value: Mapped| {
        if !entries.iter().any(|(k, _)| k == key) {
            entries.push((key.to_owned(), value));
        }
    };
    for (name, value) in sources.path_vars() {
        add(&mut entries, name, Mapped::Text(value.to_owned()));
    }
    for (name, value) in sources.params() {
        add(&mut entries, name, Mapped::Text(value.to_owned()));
    }
    match sources.take_body() {
        Some(Value::Object(fields)) => {
            for (name, value) in fields {
                add(&mut entries, &name, Mapped::Json(value));
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => add(&mut entries, "body", Mapped::Json(other)),
    }
    Mapped::Object(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_schema::MapperSource;
    use serde_json::json;

    struct Request {
        path: Vec<(&'static str, &'static str)>,
        query: Vec<(&'static str, &'static str)>,
        headers: Vec<(&'static str, &'static str)>,
        body: Option<Value>,
    }

    impl Sources for Request {
        fn path_var(&self, name: &str) -> Option<&str> {
            self.path.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
        }
        fn path_vars(&self) -> Vec<(&str, &str)> {
            self.path.clone()
        }
        fn param(&self, name: &str) -> Option<&str> {
            self.query.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
        }
        fn params(&self) -> Vec<(&str, &str)> {
            self.query.clone()
        }
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        }
        fn body(&self) -> Option<&Value> {
            self.body.as_ref()
        }
        fn take_body(&mut self) -> Option<Value> {
            self.body.take()
        }
    }

    fn request() -> Request {
        Request {
            path: vec![("schema_keyname", "language"), ("uid", "7")],
            query: vec![("code", "es"), ("uid", "query-loses")],
            headers: vec![("X-User", "ana")],
            body: Some(json!({"data": {"code": "es"}, "uid": "body-loses", "n": 1})),
        }
    }

    fn spec(lines: &[(&str, &str)]) -> MapperSpec {
        let entries = lines
            .iter()
            .map(|(source, target)| {
                let mut parts = source.split('.');
                let prefix = parts.next().unwrap_or_default();
                MapperEntry {
                    source: MapperSource {
                        part: SourcePart::from_prefix(prefix).unwrap_or(SourcePart::Body),
                        path: parts.map(str::to_owned).collect(),
                    },
                    target: (*target).to_owned(),
                }
            })
            .collect();
        MapperSpec { entries }
    }

    #[test]
    fn declared_lines_fill_their_targets_and_missing_sources_stay_absent() {
        let spec = spec(&[
            ("path_query.schema_keyname", "schema_keyname"),
            ("body.data", "payload.data"),
            ("headers.x-user", "user"),
            ("context.user_id", "user_id"),
            ("params.missing", "missing"),
            ("body", "whole"),
        ]);
        let mut context = serde_json::Map::new();
        context.insert("user_id".into(), json!("u-1"));
        let mapped = InputMapper::new(Some(&spec)).map(&mut request(), &context);
        assert_eq!(
            mapped.to_json(),
            json!({
                "schema_keyname": "language",
                "payload": {"data": {"code": "es"}},
                "user": "ana",
                "user_id": "u-1",
                "whole": {"data": {"code": "es"}, "uid": "body-loses", "n": 1}
            })
        );
        assert!(!mapped.contains("missing"));
    }

    #[test]
    fn the_default_mapping_merges_path_query_and_body() {
        let mapped = InputMapper::new(None).map(&mut request(), &serde_json::Map::new());
        assert_eq!(
            mapped.to_json(),
            json!({"schema_keyname": "language", "uid": "7", "code": "es", "data": {"code": "es"}, "n": 1})
        );
    }
}
