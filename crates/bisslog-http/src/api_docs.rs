//! The API documents a running service serves, when asked to:
//! `/openapi.json` (the document `bisslog openapi` writes from the
//! metadata, plus the schemas of the Rust input and output types the
//! service describes) and `/docs` (the same document as a self-contained
//! HTML page that needs no network).

use axum::Router;
use axum::routing::get;
use bisslog_openapi::ApiOptions;
use bisslog_runtime::Service;
use bisslog_schema::{HttpTrigger, SourcePart};
use http::header;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::HttpError;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where the HTML rendering of the document is served.
pub const DOCS_PATH: &str = "/docs";

/// Opt-in API documents for [`HttpServerBuilder::openapi`](crate::HttpServerBuilder::openapi).
///
/// The metadata gives paths, parameters and which request parts fill which
/// arguments; [`describe`](Self::describe) adds what only the Rust types
/// know: the JSON Schema of a use case's input (so request bodies get real
/// properties and types) and of its output (the `200` response, or `204`
/// for `()`). The use case itself does not change.
///
/// ```
/// use bisslog_http::ApiDocs;
///
/// #[derive(schemars::JsonSchema)]
/// struct AddInput { a: i64, b: i64 }
/// #[derive(schemars::JsonSchema)]
/// struct Sum { result: i64 }
///
/// let docs = ApiDocs::new().version("2.1.0").describe::<AddInput, Sum>("add");
/// # let _ = docs;
/// ```
pub struct ApiDocs {
    options: ApiOptions,
    generator: SchemaGenerator,
    described: Vec<Described>,
}

/// The schemas of one use case's types.
struct Described {
    keyname: String,
    input: Value,
    output: Value,
}

impl Default for ApiDocs {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ApiDocs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let described: Vec<&str> = self.described.iter().map(|d| d.keyname.as_str()).collect();
        f.debug_struct("ApiDocs")
            .field("options", &self.options)
            .field("described", &described)
            .finish()
    }
}

impl ApiDocs {
    /// Documents built from the metadata alone, version `1.0.0`.
    pub fn new() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        });
        Self {
            options: ApiOptions::default(),
            generator: settings.into_generator(),
            described: Vec::new(),
        }
    }

    /// Sets `info.version`.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.options.version = version.into();
        self
    }

    /// Adds the schemas of the use case `keyname`'s input and output types.
    /// Named types become `components.schemas` entries.
    #[must_use]
    pub fn describe<Input: JsonSchema, Output: JsonSchema>(
        mut self,
        keyname: impl Into<String>,
    ) -> Self {
        let input = self.generator.subschema_for::<Input>().to_value();
        let output = self.generator.subschema_for::<Output>().to_value();
        self.described.push(Described {
            keyname: keyname.into(),
            input,
            output,
        });
        self
    }

    /// The keynames [`describe`](Self::describe)d.
    pub(crate) fn described(&self) -> impl Iterator<Item = &str> {
        self.described.iter().map(|d| d.keyname.as_str())
    }

    /// The OpenAPI document of `metadata` with the described types.
    pub(crate) fn into_document(mut self, metadata: &bisslog_schema::Service) -> Value {
        let mut doc = bisslog_openapi::document(metadata, &self.options);
        let definitions = self.generator.take_definitions(true);
        for described in &self.described {
            let Some(use_case) = metadata.use_cases.get(&described.keyname) else {
                continue;
            };
            for http in use_case.http_triggers() {
                let path = http.path.as_str().replace("+}", "}");
                let method = http.method.as_str().to_ascii_lowercase();
                if let Some(op) =
                    doc.pointer_mut(&format!("/paths/{}/{method}", escape_pointer(&path)))
                {
                    apply(op, http, described, &definitions);
                }
            }
        }
        if let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            for (name, schema) in definitions {
                // The shared problem schema keeps its name.
                schemas.entry(name).or_insert(schema);
            }
        }
        doc
    }
}

/// `/openapi.json` and `/docs`, rendered once.
pub(crate) fn routes(
    router: Router,
    docs: ApiDocs,
    service: &Service,
) -> Result<Router, HttpError> {
    let metadata = service.metadata();
    let undeclared: Vec<HttpError> = docs
        .described()
        .filter(|keyname| !metadata.use_cases.contains_key(*keyname))
        .map(|keyname| HttpError::UndeclaredDescribedUseCase {
            keyname: keyname.to_owned(),
        })
        .collect();
    if !undeclared.is_empty() {
        return Err(HttpError::Many(undeclared));
    }
    for use_case in metadata.use_cases.values() {
        for http in use_case.http_triggers() {
            if [OPENAPI_PATH, DOCS_PATH].contains(&http.path.as_str()) {
                return Err(HttpError::ReservedPath {
                    path: http.path.as_str().to_owned(),
                    use_case: use_case.keyname.clone(),
                });
            }
        }
    }
    let document = docs.into_document(metadata);
    let json = bytes::Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
    let html = bytes::Bytes::from(crate::docs_page::render(&document));
    Ok(router
        .route(
            OPENAPI_PATH,
            get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], json) }
            }),
        )
        .route(
            DOCS_PATH,
            get(move || {
                let html = html.clone();
                async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html) }
            }),
        ))
}

/// `~` and `/` escaped for a JSON pointer segment.
fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Puts the described types into one operation.
fn apply(
    op: &mut Value,
    http: &HttpTrigger,
    described: &Described,
    definitions: &Map<String, Value>,
) {
    if described.output == json!({"type": "null"}) {
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            responses.shift_remove("200");
            responses.insert(
                "204".into(),
                json!({"description": "done; nothing to return"}),
            );
            responses.sort_keys();
        }
    } else if let Some(schema) = op.pointer_mut("/responses/200/content/application~1json/schema") {
        *schema = described.output.clone();
    }
    let Some(content) = op
        .pointer_mut("/requestBody/content")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let body = match &http.mapper {
        None => Some(described.input.clone()),
        Some(mapper) => body_schema(mapper, &described.input, definitions),
    };
    if let Some(body) = body {
        for media in content.values_mut() {
            if let Some(media) = media.as_object_mut() {
                media.insert("schema".into(), body.clone());
            }
        }
    }
}

/// The body schema a mapper implies, with each property typed as the input
/// field it fills; `None` when the input's fields cannot be found.
fn body_schema(
    mapper: &bisslog_schema::Mapper,
    input: &Value,
    definitions: &Map<String, Value>,
) -> Option<Value> {
    let input = match input.get("$ref").and_then(Value::as_str) {
        Some(reference) => definitions.get(reference.rsplit('/').next()?)?,
        None => input,
    };
    let fields = input.get("properties")?.as_object()?;
    let mut body = Map::new();
    for entry in mapper
        .entries
        .iter()
        .filter(|e| e.source.part == SourcePart::Body)
    {
        let field = fields
            .get(&entry.target)
            .cloned()
            .unwrap_or_else(|| json!({}));
        let Some((last, parents)) = entry.source.path.split_last() else {
            return Some(field);
        };
        let mut at = &mut body;
        for key in parents {
            at.insert("type".into(), json!("object"));
            let properties = at
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()?;
            at = properties
                .entry(key.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()?;
        }
        at.insert("type".into(), json!("object"));
        at.entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()?
            .insert(last.clone(), field);
    }
    Some(Value::Object(body))
}
