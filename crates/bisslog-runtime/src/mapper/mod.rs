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
//!
//! Mapping copies nothing: the [`Mapped`] input borrows the request's text
//! and raw JSON, and the use case's input is deserialized from it directly.

mod body;
mod fields;
mod mapped;

use std::borrow::Cow;

use bisslog_schema::{Mapper as MapperSpec, MapperEntry, SourcePart};
use serde_json::Value;

pub use body::Body;
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
    fn headers(&self) -> Vec<(&str, &str)> {
        Vec::new()
    }
    /// The JSON body of a request, or the payload of a message (`event`).
    fn body(&self) -> Option<&Body<'_>> {
        None
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
    /// When every line maps a top-level member of the body to a top-level
    /// field (`body.a: a`, `event.b: total`) or one named value of another
    /// part to a top-level field (`path_query.c: c`, `headers.x-user:
    /// user`), the body is read in one pass instead of split and mapped
    /// line by line.
    flat: Option<Flat>,
}

/// A flat mapper: the body's members it keeps, as `(member, field)`
/// pairs, and its lines that read another part.
#[derive(Debug, Clone)]
struct Flat {
    renames: Vec<(String, String)>,
    others: Vec<Line>,
}

#[derive(Debug, Clone)]
struct Line {
    part: SourcePart,
    path: Vec<String>,
    target: Vec<String>,
}

impl InputMapper {
    /// The mapper of a trigger; `None` is the default mapping.
    pub fn new(spec: Option<&MapperSpec>) -> Self {
        let lines: Option<Vec<Line>> =
            spec.map(|spec| spec.entries.iter().map(Line::new).collect());
        let flat = lines.as_deref().and_then(flat_mapper);
        Self { lines, flat }
    }

    /// Whether this is the default mapping (no mapper in the metadata).
    pub fn is_default(&self) -> bool {
        self.lines.is_none()
    }

    /// Whether mapping reads the body's fields (`body.x` lines, or the
    /// default mapping), so a transport can split them out once with
    /// [`Body::with_fields`].
    pub fn reads_body_fields(&self) -> bool {
        if self.flat.is_some() {
            return false;
        }
        match &self.lines {
            None => true,
            Some(lines) => lines.iter().any(|l| {
                matches!(l.part, SourcePart::Body | SourcePart::Event) && !l.path.is_empty()
            }),
        }
    }

    /// Whether mapping reads the call's context attributes (`context.x`).
    pub fn reads_context(&self) -> bool {
        self.lines
            .as_ref()
            .is_some_and(|lines| lines.iter().any(|l| l.part == SourcePart::Context))
    }

    /// The input straight from a message's JSON text, when this mapper
    /// reads nothing else: a flat mapper (`event.a: a`, ...), or the
    /// default mapping of a payload that is an object. The text is read
    /// (and checked) once, as the input is deserialized; `None` means map
    /// with [`InputMapper::map`].
    pub fn map_text<'a>(&'a self, text: &'a str) -> Option<Mapped<'a>> {
        if !is_object_text(text) {
            return None;
        }
        match (&self.flat, &self.lines) {
            (Some(flat), _) if flat.others.is_empty() => {
                Some(Mapped::Fields(text, &flat.renames, Vec::new()))
            }
            (Some(_), _) => None,
            (None, None) => Some(Mapped::JsonText(text)),
            (None, Some(_)) => None,
        }
    }

    /// Whether [`InputMapper::map_object_text`] maps `text`: this mapper
    /// is flat and the text is an object's.
    pub fn maps_object_text(&self, text: &str) -> bool {
        self.flat.is_some() && is_object_text(text)
    }

    /// The input of a flat mapper straight from a body's JSON text and the
    /// other parts its lines read, without checking the text first: it is
    /// read (and checked) once, as the input is deserialized. `None` when
    /// this mapper is not flat or the text is not an object; then check
    /// the body ([`Body::parse`]) and map with [`InputMapper::map`].
    ///
    /// A text that is not JSON then fails the call as an invalid input
    /// (`invalid-input`): an entry point that answers a malformed body
    /// otherwise asks [`unread_text`] when that happens.
    pub fn map_object_text<'a>(
        &'a self,
        text: &'a str,
        sources: &'a dyn Sources,
        context: &'a serde_json::Map<String, Value>,
    ) -> Option<Mapped<'a>> {
        let flat = self.flat.as_ref().filter(|_| is_object_text(text))?;
        Some(Mapped::Fields(
            text,
            &flat.renames,
            flat.read_others(sources, context).collect(),
        ))
    }

    /// Builds the input from the sources and the call's context attributes.
    pub fn map<'a>(
        &'a self,
        sources: &'a dyn Sources,
        context: &'a serde_json::Map<String, Value>,
    ) -> Mapped<'a> {
        if let Some(flat) = &self.flat {
            let others = flat.read_others(sources, context);
            return match sources.body() {
                Some(body) if body.is_object() => {
                    Mapped::Fields(body.raw().get(), &flat.renames, others.collect())
                }
                _ => {
                    let mut input = Mapped::object();
                    for (field, value) in others {
                        input.add(Cow::Borrowed(field), value);
                    }
                    input
                }
            };
        }
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

/// Whether a JSON text is an object's (its first character, nothing
/// checked past it).
fn is_object_text(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Why a call whose input was read in one pass from a text not checked
/// before ([`InputMapper::map_text`], [`InputMapper::map_object_text`])
/// failed, when the text is not JSON at all: the parse error, for the
/// entry point to answer a malformed body or payload rather than the
/// input's failure. `None` for any other failure.
pub fn unread_text(
    text: &str,
    failure: &dyn bisslog_core::UseCaseError,
) -> Option<serde_json::Error> {
    if failure.code() != "invalid-input" {
        return None;
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text).err()
}

impl Flat {
    /// The fields its lines fill from other parts than the body, as
    /// `(field, value)`.
    fn read_others<'a>(
        &'a self,
        sources: &'a dyn Sources,
        context: &'a serde_json::Map<String, Value>,
    ) -> impl Iterator<Item = (&'a str, Mapped<'a>)> {
        self.others
            .iter()
            .filter_map(|line| Some((line.target[0].as_str(), line.read(sources, context)?)))
    }
}

impl Line {
    fn new(entry: &MapperEntry) -> Self {
        Line {
            part: entry.source.part,
            path: entry.source.path.clone(),
            target: entry.target.split('.').map(str::to_owned).collect(),
        }
    }

    fn read<'a>(
        &'a self,
        sources: &'a dyn Sources,
        context: &'a serde_json::Map<String, Value>,
    ) -> Option<Mapped<'a>> {
        let text = |s: &'a str| Mapped::Text(Cow::Borrowed(s));
        let all = |pairs: Vec<(&'a str, &'a str)>| {
            Mapped::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (Cow::Borrowed(k), text(v)))
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
            (SourcePart::Headers, None) => Some(all(sources.headers())),
            (SourcePart::Context, None) => Some(Mapped::Object(
                context
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Mapped::Json(v)))
                    .collect(),
            )),
            (SourcePart::Context, Some(_)) => {
                pointer(context.get(&self.path[0])?, &self.path[1..]).map(Mapped::Json)
            }
            (SourcePart::Body | SourcePart::Event, None) => {
                sources.body().map(|b| Mapped::Raw(b.raw()))
            }
            (SourcePart::Body | SourcePart::Event, Some(_)) => {
                sources.body()?.get(&self.path).map(Mapped::Raw)
            }
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

/// The flat form of a mapper whose every line fills a top-level field,
/// each field once: from a top-level body member (each member once), or
/// from one named value of another part; at least one reads the body.
fn flat_mapper(lines: &[Line]) -> Option<Flat> {
    // The fast path tracks members in a 64-bit set.
    if lines.is_empty() || lines.len() > 64 {
        return None;
    }
    let mut flat = Flat {
        renames: Vec::with_capacity(lines.len()),
        others: Vec::new(),
    };
    let mut fields: Vec<&str> = Vec::with_capacity(lines.len());
    for line in lines {
        let [field] = line.target.as_slice() else {
            return None;
        };
        if fields.contains(&field.as_str()) {
            return None;
        }
        fields.push(field);
        match (line.part, line.path.as_slice()) {
            (SourcePart::Body | SourcePart::Event, [member]) => {
                if flat.renames.iter().any(|(m, _)| m == member) {
                    return None;
                }
                flat.renames.push((member.clone(), field.clone()));
            }
            (
                SourcePart::PathQuery
                | SourcePart::Params
                | SourcePart::Headers
                | SourcePart::Context,
                [_],
            )
            | (SourcePart::ConnectionId | SourcePart::RouteKey, []) => {
                flat.others.push(line.clone())
            }
            _ => return None,
        }
    }
    (!flat.renames.is_empty()).then_some(flat)
}

/// Path variables, then query parameters, then body fields; an earlier
/// source wins a clash.
fn default_mapping(sources: &dyn Sources) -> Mapped<'_> {
    // Only a body that is an object: it is the input as it stands.
    if let Some(body) = sources.body()
        && body.is_object()
        && sources.path_vars().is_empty()
        && sources.params().is_empty()
    {
        return Mapped::Raw(body.raw());
    }
    let mut input = Mapped::object();
    for (name, value) in sources.path_vars() {
        input.add(Cow::Borrowed(name), Mapped::Text(Cow::Borrowed(value)));
    }
    for (name, value) in sources.params() {
        input.add(Cow::Borrowed(name), Mapped::Text(Cow::Borrowed(value)));
    }
    if let Some(body) = sources.body() {
        match body.fields() {
            Some(fields) => {
                for (name, value) in fields {
                    input.add(name, Mapped::Raw(value));
                }
            }
            None if !body.is_null() => input.add(Cow::Borrowed("body"), Mapped::Raw(body.raw())),
            None => {}
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_schema::MapperSource;
    use serde_json::json;

    struct Request<'a> {
        path: Vec<(&'static str, &'static str)>,
        query: Vec<(&'static str, &'static str)>,
        headers: Vec<(&'static str, &'static str)>,
        body: Option<Body<'a>>,
    }

    impl Sources for Request<'_> {
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
        fn body(&self) -> Option<&Body<'_>> {
            self.body.as_ref()
        }
    }

    const BODY: &str = r#"{"data": {"code": "es"}, "uid": "body-loses", "n": 1}"#;

    fn request(mapper: &InputMapper) -> Request<'static> {
        let body = Body::parse(BODY).unwrap();
        Request {
            path: vec![("schema_keyname", "language"), ("uid", "7")],
            query: vec![("code", "es"), ("uid", "query-loses")],
            headers: vec![("X-User", "ana")],
            body: Some(if mapper.reads_body_fields() {
                body.with_fields()
            } else {
                body
            }),
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
        let mapper = InputMapper::new(Some(&spec));
        assert!(mapper.reads_body_fields());
        let request = request(&mapper);
        let mapped = mapper.map(&request, &context);
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
        assert!(!InputMapper::new(Some(&self::spec(&[("body", "data")]))).reads_body_fields());
    }

    #[test]
    fn the_default_mapping_merges_path_query_and_body() {
        let mapper = InputMapper::new(None);
        let request = request(&mapper);
        let context = serde_json::Map::new();
        let mapped = mapper.map(&request, &context);
        assert_eq!(
            mapped.to_json(),
            json!({"schema_keyname": "language", "uid": "7", "code": "es", "data": {"code": "es"}, "n": 1})
        );
    }

    #[test]
    fn flat_mappers_read_the_body_in_one_pass_with_the_same_result() {
        let flat = spec(&[("body.data", "payload"), ("body.n", "n")]);
        let mapper = InputMapper::new(Some(&flat));
        assert!(!mapper.reads_body_fields(), "no fields to split");
        let request = request(&mapper);
        let context = serde_json::Map::new();
        let mapped = mapper.map(&request, &context);
        assert!(matches!(mapped, Mapped::Fields(..)));
        assert_eq!(mapped.to_json(), json!({"payload": {"code": "es"}, "n": 1}));
        #[derive(Debug, serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Input {
            payload: Value,
            n: u8,
        }
        assert_eq!(
            <Input as serde::Deserialize>::deserialize(&mapped).unwrap(),
            Input {
                payload: json!({"code": "es"}),
                n: 1
            }
        );
        // A mapper that nests, reads a whole part or reads no body member
        // takes the general path.
        for general in [
            spec(&[("body.data.code", "code")]),
            spec(&[("body.n", "a.n")]),
            spec(&[("body.n", "n"), ("headers", "all")]),
            spec(&[("body.n", "n"), ("path_query.uid", "n")]),
            spec(&[("path_query.uid", "uid")]),
        ] {
            assert!(InputMapper::new(Some(&general)).flat.is_none());
        }
    }

    #[test]
    fn flat_mappers_with_other_parts_read_the_body_in_one_pass_with_the_same_result() {
        let mixed = spec(&[
            ("path_query.uid", "id"),
            ("body.n", "n"),
            ("headers.x-user", "user"),
            ("context.tenant", "tenant"),
            ("params.missing", "missing"),
            ("body.data", "payload"),
        ]);
        let mapper = InputMapper::new(Some(&mixed));
        assert!(!mapper.reads_body_fields(), "no fields to split");
        let request = request(&mapper);
        let mut context = serde_json::Map::new();
        context.insert("tenant".into(), json!("acme"));
        let mapped = mapper.map(&request, &context);
        assert!(matches!(mapped, Mapped::Fields(..)));
        let expected =
            json!({"id": "7", "n": 1, "user": "ana", "tenant": "acme", "payload": {"code": "es"}});
        assert_eq!(mapped.to_json(), expected);
        // The general path, line by line, gives the same input.
        let mut general = Mapped::object();
        for line in mapper.lines.as_deref().unwrap_or_default() {
            if let Some(value) = line.read(&request, &context) {
                general.insert(&line.target, value);
            }
        }
        assert_eq!(general.to_json(), expected);
        #[derive(Debug, serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Input {
            id: u32,
            n: u8,
            user: String,
            tenant: String,
            payload: Value,
            #[serde(default)]
            missing: Option<String>,
        }
        assert_eq!(
            <Input as serde::Deserialize>::deserialize(&mapped).unwrap(),
            Input {
                id: 7,
                n: 1,
                user: "ana".into(),
                tenant: "acme".into(),
                payload: json!({"code": "es"}),
                missing: None,
            },
            "path text read as the number the field asks for"
        );
        // A path value that does not fit its field is an error naming it.
        let request = Request {
            path: vec![("uid", "seven")],
            ..self::request(&mapper)
        };
        let mapped = mapper.map(&request, &context);
        let error = <Input as serde::Deserialize>::deserialize(&mapped).unwrap_err();
        assert!(error.to_string().contains("seven"), "{error}");
        // A body that is not an object fills only the other fields.
        let request = Request {
            body: Some(Body::parse("[1, 2]").unwrap()),
            ..self::request(&mapper)
        };
        assert_eq!(
            mapper.map(&request, &context).to_json(),
            json!({"id": "7", "user": "ana", "tenant": "acme"})
        );
        // Messages: not from the text alone, the headers are needed.
        assert!(mapper.map_text(BODY).is_none());
    }

    #[test]
    fn flat_mappers_map_an_unchecked_object_text_as_a_checked_body() {
        let mixed = spec(&[
            ("path_query.uid", "id"),
            ("body.n", "n"),
            ("headers.x-user", "user"),
            ("body.data", "payload"),
        ]);
        let mapper = InputMapper::new(Some(&mixed));
        let mut request = request(&mapper);
        let context = serde_json::Map::new();
        let checked = mapper.map(&request, &context).to_json();
        request.body = None;
        let unchecked = mapper.map_object_text(BODY, &request, &context);
        assert!(matches!(unchecked, Some(Mapped::Fields(..))));
        assert_eq!(unchecked.map(|m| m.to_json()), Some(checked));
        // Not JSON: the input fails to read, as a malformed body would.
        let broken = mapper.map_object_text(r#"{"n": 1, "data": [1,"#, &request, &context);
        let broken = broken.unwrap_or_else(|| unreachable!("an object's text"));
        assert!(<Value as serde::Deserialize>::deserialize(&broken).is_err());
        let trailing = mapper.map_object_text(r#"{"n": 1} {"#, &request, &context);
        let trailing = trailing.unwrap_or_else(|| unreachable!("an object's text"));
        assert!(<Value as serde::Deserialize>::deserialize(&trailing).is_err());
        // Not an object, or not a flat mapper: the general path.
        assert!(
            mapper
                .map_object_text("[1, 2]", &request, &context)
                .is_none()
        );
        let nested = spec(&[("body.data.code", "code")]);
        let nested = InputMapper::new(Some(&nested));
        assert!(nested.map_object_text(BODY, &request, &context).is_none());
        assert!(
            InputMapper::new(None)
                .map_object_text(BODY, &request, &context)
                .is_none()
        );
    }

    #[test]
    fn without_path_or_query_the_default_input_is_the_body_itself() {
        let mapper = InputMapper::new(None);
        let request = Request {
            path: vec![],
            query: vec![],
            headers: vec![],
            body: Some(Body::parse(BODY).unwrap()),
        };
        let context = serde_json::Map::new();
        let mapped = mapper.map(&request, &context);
        assert!(matches!(mapped, Mapped::Raw(_)));
        assert_eq!(
            mapped.to_json(),
            serde_json::from_str::<Value>(BODY).unwrap()
        );
    }
}
