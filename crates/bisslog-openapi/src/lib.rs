//! OpenAPI 3.1 documents for the HTTP triggers of a bisslog service.
//!
//! **Where it fits:** A service gets its document served by `bisslog::http`
//! (`HttpServerBuilder::openapi`); the `bisslog openapi` command writes it
//! from the metadata alone.
//!
//! The CLI (`bisslog openapi`, through `bisslog-codegen`) and the HTTP
//! server (`bisslog-http`'s `/openapi.json`) both write their documents
//! here, so the server does not pull in the docs-site, diagram and SAM
//! generators. This crate only needs the metadata model
//! ([`bisslog_schema`]) and JSON: no async, no I/O.
//!
//! [`document`] writes what the metadata knows: each HTTP trigger is an
//! operation on its path (`{x+}`, API Gateway's greedy variable, becomes
//! `{x}` marked `x-bisslog-greedy`), its parameters and request body come
//! from its mapper, and its failures are `application/problem+json`
//! documents (RFC 9457) sharing one `Problem` schema.
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
//! | a request body | 413 and 415 responses |
//! | `authenticator` | a `components.securitySchemes` entry of that name ([`undescribed_scheme`]), required by the operation's `security`; 401 and 403 responses; `x-bisslog-authenticator` |
//! | `authorization` (trigger's, else use case's) | the rule in words after the `description`, `x-bisslog-authorization`; its `scopes` in the `security` requirement; `public`: `security: []` and no 401/403 |
//! | `rate_limit`, `cacheable` (GET) | 429, 304 responses |
//!
//! Every operation lists 400 (malformed request), 500, 503 (with
//! `Retry-After`) and 504 (every route has a timeout: its own or the
//! server's). From the metadata alone, a success is `200` with any JSON
//! body, an input that does not fit is 422, and a path variable may name
//! nothing (404): the rest is the code's to say.
//!
//! [`typed_document`] adds what the code says ([`Typed`], which
//! `bisslog-http` takes from the use cases a service registers): the
//! request body typed by the input fields the mapper fills from it and
//! `required` when the input needs them, the success status (201, 202,
//! 204 with no body) and output schema, and exactly the error statuses
//! the use case's error type can produce, and ([`Authentication`]) the
//! authenticators that really guard each route: their own security
//! schemes, and the server's default authenticator on the routes that
//! name none.

pub mod api_doc;
pub mod diff;
mod operation;
mod problem;
mod security;
mod typed;

use bisslog_schema::{ServiceMetadata, TriggerKind};
use serde_json::{Map, Value, json};

use api_doc::UniqueIds;
pub use api_doc::{ApiOptions, DocumentFormat};
pub use security::{Authentication, undescribed_scheme};
pub use typed::{Typed, UseCaseTypes};

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
pub fn document(service: &ServiceMetadata, options: &ApiOptions) -> Value {
    build(service, options, None)
}

/// The OpenAPI document of `service`'s HTTP triggers with what its code
/// says ([`Typed`]): request and response bodies typed from each use
/// case's input and output schemas, the request body `required` when the
/// input needs it, the success status the use case completes with, and
/// the error statuses its error type and the trigger's options can give.
/// A use case missing from `typed` is documented from its metadata.
///
/// ```
/// use bisslog_openapi::{Typed, UseCaseTypes};
/// use serde_json::json;
///
/// let service = bisslog_schema::validate_str(
///     "metadata.yml",
///     "
/// name: users
/// use_cases:
///   create_user:
///     triggers:
///       - options: {method: post, path: /users, mapper: {body.name: name}}
/// ",
/// )
/// .into_service()
/// .expect("valid metadata");
/// let mut typed = Typed::default();
/// typed.use_cases.insert(
///     "create_user".into(),
///     UseCaseTypes {
///         input: json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
///         output: json!({"type": "null"}),
///         success: 201,
///         failures: vec![409, 422],
///     },
/// );
/// let doc = bisslog_openapi::typed_document(&service, &Default::default(), &typed);
/// let op = &doc["paths"]["/users"]["post"];
/// assert_eq!(op["requestBody"]["required"], true);
/// let body = &op["requestBody"]["content"]["application/json"]["schema"];
/// assert_eq!(body["properties"]["name"]["type"], "string");
/// assert_eq!(body["required"], json!(["name"]));
/// assert!(op["responses"]["201"].is_object());
/// assert!(op["responses"]["200"].is_null());
/// assert_eq!(op["responses"]["409"]["$ref"], "#/components/responses/Conflict");
/// ```
pub fn typed_document(service: &ServiceMetadata, options: &ApiOptions, typed: &Typed) -> Value {
    let mut doc = build(service, options, Some(typed));
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in &typed.schemas {
            // The shared problem schema keeps its name.
            schemas
                .entry(name.clone())
                .or_insert_with(|| schema.clone());
        }
    }
    doc
}

fn build(service: &ServiceMetadata, options: &ApiOptions, typed: Option<&Typed>) -> Value {
    let mut ids = UniqueIds::default();
    let mut paths = Map::new();
    let mut tags = Vec::<String>::new();
    let from_metadata;
    let authentication = match typed.and_then(|t| t.authentication.as_ref()) {
        Some(authentication) => authentication,
        None => {
            from_metadata = Authentication::from_metadata(service);
            &from_metadata
        }
    };
    let mut schemes = security::UsedSchemes::default();
    for use_case in service.use_cases.values() {
        for (index, trigger) in use_case.triggers.iter().enumerate() {
            let TriggerKind::Http(http) = &trigger.kind else {
                continue;
            };
            let id = ids.claim(&use_case.keyname);
            let types = typed.and_then(|t| Some((t.use_cases.get(&use_case.keyname)?, t)));
            let guard = security::Guard::of(
                http.authenticator.as_deref(),
                service.authorization_for(&use_case.keyname, index),
                authentication,
            );
            let mut op = operation::build(service, use_case, http, id, types, guard);
            if let Value::Object(body) = &mut op.body {
                security::apply(body, guard, authentication, &mut schemes);
            }
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
    let mut components = problem::components();
    if let (Some(schemes), Value::Object(components)) = (schemes.into_components(), &mut components)
    {
        components.insert("securitySchemes".into(), schemes);
    }
    doc.insert("components".into(), components);
    Value::Object(doc)
}
