//! One HTTP trigger as an OpenAPI operation.

use bisslog_schema::{HttpTrigger, Method, ServiceMetadata, SourcePart, UseCaseMetadata};
use serde_json::{Map, Value, json};

use crate::api_doc::{part_schema, use_case_extensions};
use crate::problem;
use crate::security::{self, Guard};
use crate::typed::{self, Typed, UseCaseTypes};

/// Headers OpenAPI forbids as header parameters (they are described by
/// the request body's media type and the security schemes instead).
const RESERVED_HEADERS: &[&str] = &["accept", "content-type", "authorization"];

/// An operation and where it goes.
pub(crate) struct Operation {
    /// The OpenAPI path template (`/files/{key}` for `/files/{key+}`).
    pub(crate) path: String,
    /// The operation's tags.
    pub(crate) tags: Vec<String>,
    /// The Operation Object.
    pub(crate) body: Value,
}

/// The operation of one trigger; `typed` is what the code says of the use
/// case, when it is known.
pub(crate) fn build(
    service: &ServiceMetadata,
    use_case: &UseCaseMetadata,
    http: &HttpTrigger,
    operation_id: String,
    typed: Option<(&UseCaseTypes, &Typed)>,
    guard: Guard<'_>,
) -> Operation {
    let tags = tags(service, use_case);
    let mut op = Map::new();
    op.insert("operationId".into(), json!(operation_id));
    op.insert("tags".into(), json!(tags));
    op.insert("summary".into(), json!(use_case.display_name()));
    if let Some(description) = security::description(use_case.description.as_deref(), guard) {
        op.insert("description".into(), json!(description));
    }
    let parameters = parameters(use_case, http);
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    let body = match typed {
        Some((types, all)) => typed::request_body(http, types, all),
        None => untyped_request_body(http).map(|schema| (schema, false)),
    };
    let has_body = body.is_some();
    if let Some((schema, required)) = body {
        let media = http.content_type.as_deref().unwrap_or("application/json");
        let mut request = json!({"content": {media: {"schema": schema}}});
        if required {
            request["required"] = json!(true);
        }
        op.insert("requestBody".into(), request);
    }
    op.insert(
        "responses".into(),
        problem::responses(
            http,
            has_body,
            guard.checking().is_some(),
            typed.map(|(types, _)| types),
        ),
    );
    use_case_extensions(use_case, &mut op);
    if let Some(authenticator) = &http.authenticator {
        op.insert("x-bisslog-authenticator".into(), json!(authenticator));
    }
    Operation {
        path: template(http.path.as_str()),
        tags,
        body: Value::Object(op),
    }
}

/// `key: value` for each use-case tag; the service name when it has none.
fn tags(service: &ServiceMetadata, use_case: &UseCaseMetadata) -> Vec<String> {
    if use_case.tags.is_empty() {
        return vec![service.name.clone()];
    }
    use_case
        .tags
        .iter()
        .map(|(key, value)| format!("{key}: {value}"))
        .collect()
}

/// The path with `{x+}` written `{x}`: OpenAPI has no greedy variables.
fn template(path: &str) -> String {
    path.replace("+}", "}")
}

fn parameters(use_case: &UseCaseMetadata, http: &HttpTrigger) -> Vec<Value> {
    let mapper = http.mapper.as_ref();
    let target_of = |part: SourcePart, name: &str| {
        mapper.and_then(|m| {
            m.entries
                .iter()
                .find(|e| {
                    e.source.part == part && e.source.path.first().map(String::as_str) == Some(name)
                })
                .map(|e| e.target.clone())
        })
    };
    let mut out = Vec::new();
    for name in http.path.variables() {
        let greedy = http.path.as_str().contains(&format!("{{{name}+}}"));
        let mut param = Map::new();
        param.insert("name".into(), json!(name));
        param.insert("in".into(), json!("path"));
        param.insert("required".into(), json!(true));
        let mut description = match target_of(SourcePart::PathQuery, name) {
            Some(target) => format!("fills the use case's `{target}`"),
            None => String::new(),
        };
        if greedy {
            if !description.is_empty() {
                description.push_str("; ");
            }
            description.push_str("matches the rest of the path, `/` included");
        }
        if !description.is_empty() {
            param.insert("description".into(), json!(description));
        }
        param.insert("schema".into(), json!({"type": "string"}));
        if greedy {
            param.insert("x-bisslog-greedy".into(), json!(true));
        }
        out.push(Value::Object(param));
    }
    let Some(mapper) = mapper else {
        return out;
    };
    let mut seen: Vec<(SourcePart, String)> = Vec::new();
    for entry in &mapper.entries {
        let location = match entry.source.part {
            SourcePart::Params => "query",
            SourcePart::Headers => "header",
            _ => continue,
        };
        let Some(name) = entry.source.path.first() else {
            continue;
        };
        let key = match entry.source.part {
            SourcePart::Headers => name.to_ascii_lowercase(),
            _ => name.clone(),
        };
        if location == "header" && RESERVED_HEADERS.contains(&key.as_str()) {
            continue;
        }
        if seen.contains(&(entry.source.part, key.clone())) {
            continue;
        }
        seen.push((entry.source.part, key));
        out.push(json!({
            "name": name,
            "in": location,
            "description": format!("fills the use case's `{}`", entry.target),
            "schema": {"type": "string"},
        }));
    }
    let _ = use_case;
    out
}

/// Whether requests of this method carry a body the input is read from
/// when a trigger has no mapper.
pub(crate) fn carries_body(method: Method) -> bool {
    matches!(method, Method::Post | Method::Put | Method::Patch)
}

/// The request body's schema from the metadata alone: what the mapper
/// reads from `body`, or, with no mapper, any JSON object on the methods
/// that carry a body.
fn untyped_request_body(http: &HttpTrigger) -> Option<Value> {
    match &http.mapper {
        Some(mapper) => part_schema(mapper, SourcePart::Body),
        None if carries_body(http.method) => {
            Some(json!({"type": "object", "description": "the use case's input fields"}))
        }
        None => None,
    }
}
