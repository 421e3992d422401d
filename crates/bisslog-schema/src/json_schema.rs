//! The JSON Schema of the metadata format, generated from the model with
//! `schemars`, for editors to complete and check metadata files.
//!
//! The model describes the canonical form; the schema describes what files
//! may contain, so a few types have hand-written schemas that accept every
//! spelling the loader accepts (lower-case methods, criticality numbers,
//! digit strings for integers, the map form of external interactions,
//! aliases such as `route` and `desc`).

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

use crate::model::{
    ConsumerTrigger, Criticality, DeliverySemantic, ExternalInteraction, HttpTrigger,
    InteractionType, Mapper, Method, MisfirePolicy, OverlapPolicy, QueueKind, RateLimit,
    ScheduleTrigger, ServiceMetadata, SourcePart, TriggerKind, TriggerMetadata, WebSocketTrigger,
};

/// The `$id` of the published schema.
pub const SCHEMA_ID: &str =
    "https://raw.githubusercontent.com/bisslog/bisslog-rs/main/schemas/metadata.schema.json";

/// The JSON Schema (draft 2020-12) of a metadata file.
///
/// ```
/// let schema = bisslog_schema::json_schema();
/// assert_eq!(schema["title"], "bisslog service metadata");
/// assert!(schema["properties"]["use_cases"].is_object());
/// ```
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<ServiceMetadata>();
    let mut schema = schema.to_value();
    if let Some(root) = schema.as_object_mut() {
        root.insert("$id".into(), SCHEMA_ID.into());
        root.insert(
            "description".into(),
            "A bisslog service: its use cases, their triggers and external interactions. Keys starting with `x-` are extensions.".into(),
        );
    }
    add_aliases(&mut schema);
    require_non_empty_strings(&mut schema);
    schema
}

/// Adds the spellings the loader accepts besides the canonical ones.
fn add_aliases(schema: &mut Value) {
    let defs = &mut schema["$defs"];
    let http = &mut defs["HttpTrigger"];
    http["properties"]["route"] = json!({
        "type": "string",
        "deprecated": true,
        "description": "The older spelling of `path`, used by early bisslog examples. Write `path`."
    });
    if let Some(object) = http.as_object_mut() {
        object.remove("required");
        object.insert(
            "anyOf".into(),
            json!([{"required": ["path"]}, {"required": ["route"]}]),
        );
    }
    let websocket = &mut defs["WebSocketTrigger"];
    websocket["properties"]["route_key"] =
        json!({"type": "string", "description": "Another spelling of `routeKey`."});
    if let Some(object) = websocket.as_object_mut() {
        object.remove("required");
        object.insert(
            "anyOf".into(),
            json!([{"required": ["routeKey"]}, {"required": ["route_key"]}]),
        );
    }
    defs["ExternalInteraction"]["properties"]["desc"] =
        json!({"type": "string", "description": "A short spelling of `description`."});
    let mut entry = defs["ExternalInteraction"].clone();
    if let Some(object) = entry.as_object_mut() {
        object.remove("required");
        object.insert(
            "description".into(),
            "An external interaction in the map form; its keyname is the key.".into(),
        );
        object.insert("type".into(), json!(["object", "null"]));
    }
    defs["ExternalInteractionEntry"] = entry;
}

/// Blank strings are rejected by the loader wherever a string is expected.
fn require_non_empty_strings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_string = map.get("type") == Some(&json!("string"))
                || map.get("type") == Some(&json!(["string", "null"]));
            if is_string && !map.contains_key("pattern") && !map.contains_key("enum") {
                map.insert("pattern".into(), NON_BLANK.into());
            }
            map.values_mut().for_each(require_non_empty_strings);
        }
        Value::Array(items) => items.iter_mut().for_each(require_non_empty_strings),
        _ => {}
    }
}

/// A string with something other than white space in it.
const NON_BLANK: &str = "\\S";

/// `tags`: names to scalar values.
pub(crate) fn tags(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "Free labels: names to values.",
        "additionalProperties": {"type": ["string", "number", "boolean"]}
    })
}

/// `external_interactions`: a list, or a map from keynames.
pub(crate) fn external_interactions(generator: &mut SchemaGenerator) -> Schema {
    let item = generator.subschema_for::<ExternalInteraction>();
    json_schema!({
        "description": "The ports the use case uses: a list of interactions, or a mapping from keynames to interactions.",
        "anyOf": [
            {"type": "array", "items": item},
            {"type": "object", "additionalProperties": {"$ref": "#/$defs/ExternalInteractionEntry"}},
            {"type": "null"}
        ]
    })
}

/// One string, or a list of strings.
pub(crate) fn one_or_many_strings(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            {"type": "string", "pattern": NON_BLANK},
            {"type": "array", "items": {"type": "string", "pattern": NON_BLANK}}
        ]
    })
}

/// `allowed_origins`: a list, or one comma-separated string.
pub(crate) fn origins(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The origins allowed when `allow_cors` is true: `*` or `https://host[:port]`, as a list or a comma-separated string.",
        "anyOf": [
            {"type": "array", "items": {"type": "string", "pattern": NON_BLANK}},
            {"type": "string", "pattern": NON_BLANK}
        ]
    })
}

fn integer(minimum: u32) -> Schema {
    json_schema!({
        "anyOf": [
            {"type": "integer", "minimum": minimum},
            {"type": "string", "pattern": "^[0-9]+$"},
            {"type": "null"}
        ]
    })
}

/// A whole number ≥ 1, or its digits as a string.
pub(crate) fn positive_integer(_: &mut SchemaGenerator) -> Schema {
    integer(1)
}

/// A whole number ≥ 0, or its digits as a string.
pub(crate) fn non_negative_integer(_: &mut SchemaGenerator) -> Schema {
    integer(0)
}

/// The text of a duration: parts `<number><unit>`, units from the largest
/// (`h`, `m`, `s`, `ms`), each at most once.
const DURATION: &str = "^(?:[0-9]+h(?:[0-9]+m)?(?:[0-9]+s)?(?:[0-9]+ms)?|[0-9]+m(?:[0-9]+s)?(?:[0-9]+ms)?|[0-9]+s(?:[0-9]+ms)?|[0-9]+ms)$";

/// A duration such as `250ms`, `2s` or `1m30s`.
pub(crate) fn duration(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A duration: a whole number and its unit (`ms`, `s`, `m`, `h`), several parts from the largest unit down (`1m30s`); more than 0, at most `24h`.",
        "anyOf": [
            {"type": "string", "pattern": DURATION},
            {"type": "null"}
        ],
        "examples": ["250ms", "2s", "1m30s"]
    })
}

/// `multiplier`: a number of at least 1.
pub(crate) fn multiplier(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["number", "null"], "minimum": 1})
}

/// `jitter`: a fraction from 0 to 1.
pub(crate) fn fraction(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["number", "null"], "minimum": 0, "maximum": 1})
}

/// `failure_ratio`: more than 0, at most 1.
pub(crate) fn ratio(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 1})
}

/// `cronjob`.
pub(crate) fn cron(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "description": "5 fields: Unix cron (minute hour day-of-month month day-of-week). 6 fields: AWS EventBridge cron (minutes hours day-of-month month day-of-week year, with `?` in one day field).",
        "examples": ["*/5 * * * *", "0 0 ? * 1 *"]
    })
}

impl JsonSchema for Criticality {
    fn schema_name() -> Cow<'static, str> {
        "Criticality".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Criticality::ALL.iter().map(|c| c.name()).collect();
        let levels: Vec<String> = Criticality::ALL
            .iter()
            .map(|c| c.level().to_string())
            .collect();
        let numbers: Vec<u8> = Criticality::ALL.iter().map(|c| c.level()).collect();
        json_schema!({
            "description": "A level name (any case), its number, or the number as a string.",
            "anyOf": [
                {"enum": names},
                {"type": "string", "pattern": any_case(&names)},
                {"type": "string", "pattern": format!("^\\s*({})\\s*$", levels.join("|"))},
                {"enum": numbers}
            ],
            "default": "medium"
        })
    }
}

impl JsonSchema for Method {
    fn schema_name() -> Cow<'static, str> {
        "Method".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
        json_schema!({
            "description": "An HTTP method, in any case.",
            "anyOf": [{"enum": names}, {"type": "string", "pattern": any_case(&names)}],
            "default": "GET"
        })
    }
}

/// A pattern matching any of `names` in any letter case (JSON Schema
/// patterns have no case-insensitive flag).
fn any_case(names: &[&str]) -> String {
    let alternatives: Vec<String> = names
        .iter()
        .map(|name| {
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() {
                        format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        })
        .collect();
    format!("^({})$", alternatives.join("|"))
}

impl JsonSchema for DeliverySemantic {
    fn schema_name() -> Cow<'static, str> {
        "DeliverySemantic".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = DeliverySemantic::ALL.iter().map(|s| s.as_str()).collect();
        json_schema!({"enum": names, "default": "at-least-once"})
    }
}

impl JsonSchema for OverlapPolicy {
    fn schema_name() -> Cow<'static, str> {
        "OverlapPolicy".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = OverlapPolicy::ALL.iter().map(|s| s.as_str()).collect();
        json_schema!({"enum": names, "default": OverlapPolicy::default().as_str()})
    }
}

impl JsonSchema for MisfirePolicy {
    fn schema_name() -> Cow<'static, str> {
        "MisfirePolicy".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = MisfirePolicy::ALL.iter().map(|s| s.as_str()).collect();
        json_schema!({"enum": names, "default": MisfirePolicy::default().as_str()})
    }
}

impl JsonSchema for QueueKind {
    fn schema_name() -> Cow<'static, str> {
        "QueueKind".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = QueueKind::ALL.iter().map(|s| s.as_str()).collect();
        json_schema!({"enum": names, "default": QueueKind::default().as_str()})
    }
}

impl JsonSchema for InteractionType {
    fn schema_name() -> Cow<'static, str> {
        "InteractionType".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = InteractionType::STANDARD
            .iter()
            .flat_map(|(canonical, aliases)| {
                std::iter::once(*canonical).chain(aliases.iter().copied())
            })
            .collect();
        json_schema!({
            "description": "The kind of port; a standard name or alias, or any other name (reported as non-standard).",
            "anyOf": [{"enum": names}, {"type": "string", "pattern": NON_BLANK}]
        })
    }
}

impl JsonSchema for Mapper {
    fn schema_name() -> Cow<'static, str> {
        "Mapper".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let prefixes: Vec<&str> = SourcePart::ALL.iter().map(|p| p.prefix()).collect();
        let pattern = format!("^({})(\\.[^.]+)*$", prefixes.join("|"));
        json_schema!({
            "type": "object",
            "description": "Sources (`body.a.b`, `path_query.id`, `headers.x-user`, `event.x`, ...) to the argument names they fill.",
            "propertyNames": {"pattern": pattern},
            "additionalProperties": {"type": "string", "pattern": "^[^.]*[^.\\s][^.]*(\\.[^.]*[^.\\s][^.]*)*$"}
        })
    }
}

impl JsonSchema for RateLimit {
    fn schema_name() -> Cow<'static, str> {
        "RateLimit".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Requests per second (`100r/s`, or a number) or per minute (`200r/m`).",
            "anyOf": [{"type": "string", "pattern": "^0*[1-9][0-9]*r/[sm]$"}, {"type": "integer", "minimum": 1}]
        })
    }
}

impl JsonSchema for TriggerMetadata {
    fn schema_name() -> Cow<'static, str> {
        "Trigger".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let http = generator.subschema_for::<HttpTrigger>();
        let websocket = generator.subschema_for::<WebSocketTrigger>();
        let consumer = generator.subschema_for::<ConsumerTrigger>();
        let schedule = generator.subschema_for::<ScheduleTrigger>();
        // `http` applies when `type` is absent too; the others need it.
        let when = |kind: &str, options: Schema| {
            let mut condition = json!({"properties": {"type": {"const": kind}}});
            if kind != "http" {
                condition["required"] = json!(["type"]);
            }
            json!({"if": condition, "then": {"properties": {"options": options}}})
        };
        json_schema!({
            "type": "object",
            "description": "How the use case is started. Without `type` a trigger is an HTTP trigger.",
            "properties": {
                "type": {"enum": TriggerKind::NAMES, "default": "http"},
                "keyname": {"type": "string"},
                "options": {"type": ["object", "null"]}
            },
            "allOf": [
                when("http", http),
                when("websocket", websocket),
                when("consumer", consumer),
                when("schedule", schedule)
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::validate::keys;

    fn property_names(schema: &Value) -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn set(keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|k| (*k).to_owned()).collect()
    }

    /// The schema and the validator must know the same keys, or editors
    /// and `bisslog validate` would disagree.
    #[test]
    fn schema_properties_match_the_validator_keys() {
        let schema = json_schema();
        let defs = &schema["$defs"];
        assert_eq!(property_names(&schema), set(keys::SERVICE));
        assert_eq!(property_names(&defs["UseCase"]), set(keys::USE_CASE));
        assert_eq!(property_names(&defs["Trigger"]), set(keys::TRIGGER));
        assert_eq!(property_names(&defs["HttpTrigger"]), set(keys::HTTP));
        assert_eq!(
            property_names(&defs["WebSocketTrigger"]),
            set(keys::WEBSOCKET)
        );
        assert_eq!(
            property_names(&defs["ConsumerTrigger"]),
            set(keys::CONSUMER)
        );
        assert_eq!(
            property_names(&defs["ScheduleTrigger"]),
            set(keys::SCHEDULE)
        );
        assert_eq!(
            property_names(&defs["ExternalInteraction"]),
            set(keys::INTERACTION)
        );
        assert_eq!(
            property_names(&defs["ExternalInteractionEntry"]),
            set(keys::INTERACTION)
        );
        assert_eq!(property_names(&defs["ResiliencePolicy"]), set(keys::POLICY));
        assert_eq!(property_names(&defs["RetrySpec"]), set(keys::RETRY));
        assert_eq!(
            property_names(&defs["CircuitBreakerSpec"]),
            set(keys::CIRCUIT_BREAKER)
        );
        assert_eq!(property_names(&defs["BulkheadSpec"]), set(keys::BULKHEAD));
    }

    #[test]
    fn required_fields() {
        let schema = json_schema();
        assert_eq!(schema["required"], json!(["name"]));
        let path_or_route = json!([{"required": ["path"]}, {"required": ["route"]}]);
        assert_eq!(schema["$defs"]["HttpTrigger"]["anyOf"], path_or_route);
        assert_eq!(
            schema["$defs"]["ConsumerTrigger"]["required"],
            json!(["queue"])
        );
        assert_eq!(
            schema["$defs"]["ScheduleTrigger"]["required"],
            json!(["cronjob"])
        );
    }
}
