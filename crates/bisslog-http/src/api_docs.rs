//! The API documents a running service serves, when asked to:
//! `/openapi.json` (the document `bisslog openapi` writes from the
//! metadata, typed by what each registered use case's types say: input
//! and output schemas, completion, error kinds) and `/docs` (the same
//! document as a self-contained HTML page that needs no network).

use axum::Router;
use axum::routing::get;
use bisslog_core::ErrorKind;
use std::collections::HashMap;
use std::sync::Arc;

use bisslog_openapi::{ApiOptions, Authentication, Typed, UseCaseTypes};
use bisslog_runtime::Service;
use http::header;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::problem::StatusPolicy;
use crate::{Authenticator, HttpError};

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// Where the HTML rendering of the document is served.
pub const DOCS_PATH: &str = "/docs";

/// Opt-in API documents for [`HttpServerBuilder::openapi`](crate::HttpServerBuilder::openapi).
///
/// The metadata gives paths, parameters and which request parts fill which
/// arguments; the use cases the service registered give the rest (see
/// [`Contract`](bisslog_runtime::Contract)): the JSON Schemas of their
/// inputs (request bodies get real, `required` properties) and outputs,
/// their success status ([`UseCase::COMPLETION`](bisslog_core::UseCase::COMPLETION):
/// 201, 202, 204 with no body) and the error statuses their error types
/// can produce ([`UseCaseError::kinds`](bisslog_core::UseCaseError::kinds),
/// through the server's [`StatusPolicy`]).
///
/// ```
/// use bisslog_http::ApiDocs;
///
/// let docs = ApiDocs::new().version("2.1.0");
/// # let _ = docs;
/// ```
#[derive(Debug, Clone, Default)]
pub struct ApiDocs {
    options: ApiOptions,
}

impl ApiDocs {
    /// Documents of the service's metadata and registered types, version
    /// `1.0.0`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `info.version`.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.options.version = version.into();
        self
    }

    /// The OpenAPI document of `service`, typed by its use cases, with the
    /// error statuses of `policy`: what the server serves at
    /// `/openapi.json` (and what a service's `openapi` command prints).
    ///
    /// Its security is what the metadata says (each authenticator a route
    /// names, documented as a bearer token): a server knows better, see
    /// [`HttpServer::openapi_document`](crate::HttpServer::openapi_document).
    pub fn document(&self, service: &Service, policy: &StatusPolicy) -> Value {
        bisslog_openapi::typed_document(service.metadata(), &self.options, &typed(service, policy))
    }

    /// The document with the security of the server's authenticators.
    pub(crate) fn document_guarded(
        &self,
        service: &Service,
        policy: &StatusPolicy,
        authentication: &Authentication,
    ) -> Value {
        let mut typed = typed(service, policy);
        typed.authentication = Some(authentication.clone());
        bisslog_openapi::typed_document(service.metadata(), &self.options, &typed)
    }
}

/// How the server guards its routes: each registered authenticator's
/// security scheme (the ones that describe none are documented by
/// [`bisslog_openapi::undescribed_scheme`]) and the default one.
pub(crate) fn authentication(
    authenticators: &HashMap<String, Arc<dyn Authenticator>>,
    default: Option<&str>,
) -> Authentication {
    Authentication {
        schemes: authenticators
            .iter()
            .filter_map(|(name, authenticator)| {
                Some((name.clone(), authenticator.security_scheme()?))
            })
            .collect(),
        default: default.map(str::to_owned),
    }
}

/// What the registered use cases say, with their named schemas under
/// `components/schemas`.
fn typed(service: &Service, policy: &StatusPolicy) -> Typed {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    });
    let mut generator = settings.into_generator();
    let mut typed = Typed::default();
    for handle in service.use_cases() {
        let contract = handle.contract();
        let success = crate::handler::success_status(contract.completion()).as_u16();
        // An input that is not JSON or does not fit is a failure of its
        // own kinds, whatever the use case's error type.
        let kinds = [ErrorKind::Malformed, ErrorKind::Invalid]
            .iter()
            .chain(contract.error_kinds());
        let mut failures: Vec<u16> = kinds.map(|kind| policy.status(*kind).as_u16()).collect();
        failures.sort_unstable();
        failures.dedup();
        typed.use_cases.insert(
            handle.keyname().to_owned(),
            UseCaseTypes {
                input: contract.input_schema(&mut generator).to_value(),
                output: contract.output_schema(&mut generator).to_value(),
                success,
                failures,
            },
        );
    }
    typed.schemas = generator.take_definitions(true);
    typed
}

/// `/openapi.json` and `/docs`, rendered once.
pub(crate) fn routes(
    router: Router,
    docs: &ApiDocs,
    service: &Service,
    policy: &StatusPolicy,
    authentication: &Authentication,
) -> Result<Router, HttpError> {
    let metadata = service.metadata();
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
    let document = docs.document_guarded(service, policy, authentication);
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
