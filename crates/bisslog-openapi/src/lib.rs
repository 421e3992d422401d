//! OpenAPI 3.1 documents for the HTTP triggers of a bisslog service.
//!
//! The CLI (`bisslog openapi`, through `bisslog-codegen`) and the HTTP
//! server (`bisslog-http`'s `/openapi.json`) both write their documents
//! here, so the server does not pull in the docs-site, diagram and SAM
//! generators. This crate only needs the metadata model
//! ([`bisslog_schema`]) and JSON: no async, no I/O.
//!
//! Everything comes from the metadata: each HTTP trigger is an operation
//! on its path (`{x+}`, API Gateway's greedy variable, becomes `{x}`
//! marked `x-bisslog-greedy`), its parameters and request body come from
//! its mapper, and its failures are `application/problem+json` documents
//! (RFC 9457) sharing one `Problem` schema.
//!
//! | from the metadata | in the document |
//! |---|---|
//! | service `name`, `description`, `team` | `info.title`, `info.description`, `info.x-bisslog-team` |
//! | trigger `method` and `path` | an operation under `paths` |
//! | use case keyname | `operationId` (suffixed `_2`, `_3`, ... when a use case has several routes) |
//! | use case `name`, `description` | `summary`, `description` |
//! | use case `tags` (`key: value`), else the service name | `tags` |
//! | use case `criticality`, `actor` | `x-bisslog-criticality`, `x-bisslog-actor` |
//! | mapper `path_query.x` / `params.x` / `headers.x` | path / query / header parameter `x` |
//! | mapper `body`, `body.x` | `requestBody` (an object with property `x`) in the trigger's `content_type` |
//! | `authenticator`, `rate_limit`, path variables | 401 and 403, 429, 404 responses |
//!
//! A success is `200` with a JSON body: whether a use case answers `201`
//! or `204` is decided by its Rust output type, which the metadata does
//! not know.

pub mod api_doc;
mod operation;
mod problem;

use bisslog_schema::{Service, TriggerKind};
use serde_json::{Map, Value, json};

use api_doc::UniqueIds;
pub use api_doc::{ApiOptions, DocumentFormat};

/// The OpenAPI version written.
pub const OPENAPI_VERSION: &str = "3.1.0";

/// The OpenAPI document of `service`'s HTTP triggers, in metadata order.
/// A service without HTTP triggers gets a document with no paths.
///
/// ```
/// let service = bisslog_schema::validate_str(
///     "metadata.yml",
///     "
/// name: greeter
/// use_cases:
///   greet:
///     triggers:
///       - options: {method: get, path: '/greet/{name}', mapper: {path_query.name: name}}
/// ",
/// )
/// .into_service()
/// .expect("valid metadata");
/// let doc = bisslog_openapi::document(&service, &Default::default());
/// assert_eq!(doc["openapi"], "3.1.0");
/// assert_eq!(doc["paths"]["/greet/{name}"]["get"]["operationId"], "greet");
/// ```
pub fn document(service: &Service, options: &ApiOptions) -> Value {
    let mut ids = UniqueIds::default();
    let mut paths = Map::new();
    let mut tags = Vec::<String>::new();
    for use_case in service.use_cases.values() {
        for trigger in &use_case.triggers {
            let TriggerKind::Http(http) = &trigger.kind else {
                continue;
            };
            let id = ids.claim(&use_case.keyname);
            let op = operation::build(service, use_case, http, id);
            for tag in op.tags.iter() {
                if !tags.contains(tag) {
                    tags.push(tag.clone());
                }
            }
            let item = paths
                .entry(op.path)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(item) = item.as_object_mut() {
                item.insert(http.method.as_str().to_ascii_lowercase(), op.body);
            }
        }
    }
    let mut doc = Map::new();
    doc.insert("openapi".into(), json!(OPENAPI_VERSION));
    doc.insert("info".into(), api_doc::info(service, options));
    if !tags.is_empty() {
        let tags: Vec<Value> = tags.into_iter().map(|name| json!({"name": name})).collect();
        doc.insert("tags".into(), Value::Array(tags));
    }
    doc.insert("paths".into(), Value::Object(paths));
    doc.insert("components".into(), problem::components());
    Value::Object(doc)
}
