//! `LambdaHandler::only` for HTTP: a router in front of the service's
//! that passes on only the requests for one use case's triggers.

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bisslog_http::HttpError;
use bisslog_runtime::Service;
use bisslog_schema::TriggerKind;
use http::{Method, StatusCode};
use tower::ServiceExt as _;

use crate::error::LambdaError;

/// Marks the response of a request for a use case the handler does not
/// serve (see [`LambdaHandler::only`](crate::LambdaHandler::only)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NotServed;

fn not_served() -> Response {
    let mut response = StatusCode::NOT_FOUND.into_response();
    response.extensions_mut().insert(NotServed);
    response
}

/// A router that passes to `full` only the requests for `keyname`'s HTTP
/// triggers, and marks every other request as not served.
pub(crate) fn only_router(
    full: Router,
    service: &Service,
    keyname: &str,
) -> Result<Router, LambdaError> {
    // Paths of the same shape (`/a/{x}`, `/a/{y}`) share one route, as in
    // bisslog-http.
    let mut groups: Vec<(String, String, Vec<Method>)> = Vec::new();
    if let Some(spec) = service.metadata().use_cases.get(keyname) {
        for trigger in &spec.triggers {
            let TriggerKind::Http(http) = &trigger.kind else {
                continue;
            };
            let method = Method::from_bytes(http.method.as_str().as_bytes()).unwrap_or(Method::GET);
            let shape = http.path.shape();
            match groups.iter_mut().find(|(s, _, _)| *s == shape) {
                Some((_, _, methods)) => methods.push(method),
                None => groups.push((
                    shape,
                    bisslog_http::router_path(http.path.as_str()),
                    vec![method],
                )),
            }
        }
    }
    let mut router = Router::new();
    for (_, path, methods) in groups {
        let full = full.clone();
        let forward = any(move |request: Request| {
            let full = full.clone();
            let allowed = methods.contains(request.method())
                || request.method() == Method::OPTIONS
                || (request.method() == Method::HEAD && methods.contains(&Method::GET));
            async move {
                if !allowed {
                    return not_served();
                }
                match full.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
        });
        router = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            router.route(&path, forward)
        }))
        .map_err(|_| {
            LambdaError::Build(HttpError::RouteConflict {
                path: path.clone(),
                reason: "the router refused the path".to_owned(),
            })
        })?;
    }
    Ok(router.fallback(|| async { not_served() }))
}
