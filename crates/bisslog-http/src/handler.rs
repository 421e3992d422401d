//! Serving one HTTP trigger: rate limit, authentication, body, mapping,
//! the use case under its timeout, and the response with its headers.
//!
//! This is the hot path: it borrows the request's text and raw JSON
//! instead of copying them, and builds strings only for errors.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;
use std::task::Poll;

use axum::body::Body as HttpBody;
use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::response::{IntoResponse, Response};
use bisslog_core::{Completion, Trigger};
use bisslog_runtime::Reply;
use bisslog_runtime::authorization;
use bisslog_runtime::mapper::{Body, unread_text};
use bisslog_runtime::resilience::Deadline;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::auth::GatewayCaller;
use crate::config::HttpConfig;
use crate::headers::TRANSACTION;
use crate::problem::{Problem, ProblemIntoResponse as _, StatusPolicy};
use crate::routes::Route;
use crate::sources::HttpSources;

static JSON: HeaderValue = HeaderValue::from_static("application/json");

/// What every route shares.
pub(crate) struct Shared {
    pub(crate) policy: StatusPolicy,
    pub(crate) config: HttpConfig,
}

/// Why a request was refused before its use case ran:
/// (status, code, detail).
type Refusal = (StatusCode, &'static str, String);

/// Serves one request for one route.
pub(crate) async fn handle(route: &Route, shared: &Shared, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let raw_path = RawPathParams::from_request_parts(&mut parts, &()).await;
    let (transaction, transaction_header) = crate::headers::transaction(&parts.headers);
    // The header's value is visible ASCII (a caller's id is checked, a
    // generated one is hexadecimal): its text, without another copy.
    let transaction_text = transaction_header.to_str().unwrap_or_default();
    let incoming = crate::trace::incoming(&parts.headers);
    let span = crate::trace::server_span(
        route.use_case.tracer(),
        route,
        &parts,
        transaction_text,
        incoming.as_ref(),
    );
    // With a tracer the call continues the server span; without one, the
    // caller's trace travels on unchanged.
    let trace_parent = span.context().cloned().or(incoming);
    if route.authenticator.is_some() {
        // The authenticator logs its refusals under the caller's
        // transaction id.
        parts.extensions.insert(transaction.clone());
    }
    let problem = |(status, code, detail): Refusal| {
        Problem::new(
            status,
            code,
            detail,
            transaction_text,
            Some(parts.uri.path()),
        )
    };

    let outcome: Result<Response, Problem> = async {
        if let Some(rate) = &route.rate
            && let Err(wait) = rate.acquire()
        {
            let detail = format!(
                "this route accepts at most its declared rate; retry in {} ms",
                wait.as_millis().max(1)
            );
            let mut response =
                problem((StatusCode::TOO_MANY_REQUESTS, "rate-limited", detail)).into_response();
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            return Ok(response);
        }
        let raw_path = raw_path
            .map_err(|e| problem((StatusCode::BAD_REQUEST, "malformed-path", e.body_text())))?;
        // A `public` rule lets anyone in: no credentials are read.
        let public = route.authorization.as_ref().is_some_and(|rule| rule.public);
        let authenticator = route.authenticator.as_ref().filter(|_| !public);
        let gateway = parts.extensions.get::<GatewayCaller>();
        // Somebody authenticated the caller: this route's authenticator, or
        // the layer that put the gateway's caller in the extensions.
        let authenticated = authenticator.is_some() || gateway.is_some();
        let attributes = match authenticator {
            Some(authenticator) => match authenticator.authenticate(&parts).await {
                Ok(attributes) => attributes,
                Err(error) => {
                    let refused =
                        shared
                            .policy
                            .problem(&error, transaction_text, Some(parts.uri.path()));
                    let unauthorized = refused.status_code() == StatusCode::UNAUTHORIZED;
                    let mut response = refused.into_response();
                    if unauthorized && let Some(challenge) = authenticator.challenge(&error) {
                        response
                            .headers_mut()
                            .insert(header::WWW_AUTHENTICATE, challenge);
                    }
                    return Ok(response);
                }
            },
            // A caller an outer layer authenticated (an API Gateway
            // authorizer): only code can put it there.
            None => gateway.map(|caller| caller.0.clone()).unwrap_or_default(),
        };
        let bytes = read_body(&parts.headers, body, &shared.config)
            .await
            .map_err(problem)?;
        let text = body_text(&parts.headers, &bytes, route).map_err(problem)?;
        // A flat mapper reads an object body in one pass as the input is
        // deserialized, unchecked before; a route with an authorization
        // rule checks it first, so that a malformed body is a 400 before
        // the rule reads the input.
        let one_pass = text
            .filter(|text| route.authorization.is_none() && route.mapper.maps_object_text(text));
        let body = match (text, one_pass) {
            (Some(text), None) => Some(parse_body(text, route).map_err(problem)?),
            _ => None,
        };
        let sources = HttpSources {
            path: route
                .variables
                .iter()
                .map(String::as_str)
                .zip(raw_path.iter().map(|(_, v)| v))
                .collect(),
            query: parts.uri.query().unwrap_or_default(),
            parsed_query: OnceLock::new(),
            headers: &parts.headers,
            body,
        };
        let ctx = route
            .use_case
            .ctx_builder(Trigger::Http)
            .transaction_id(transaction.clone())
            .attributes(attributes)
            .maybe_trace_parent(trace_parent)
            .build();
        let input = one_pass
            .and_then(|text| {
                route
                    .mapper
                    .map_object_text(text, &sources, ctx.attributes())
            })
            .unwrap_or_else(|| route.mapper.map(&sources, ctx.attributes()));
        // The rule is checked whenever somebody authenticated the caller:
        // without that there is no caller to check (start-up warned about
        // the route).
        if let (Some(rule), true) = (&route.authorization, authenticated) {
            let decision = authorization::decide(rule, Some(ctx.attributes()), &input);
            decision.log(&transaction, route.use_case.keyname());
            if let Some(refusal) = decision.refusal() {
                return Err(shared.policy.problem(
                    &refusal,
                    transaction_text,
                    Some(parts.uri.path()),
                ));
            }
        }
        // One clock read for the timeout's deadline and the call's metrics.
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(route.timeout);
        if route.deadline
            && let Some(deadline) = deadline
        {
            let _ = Deadline::attach(&ctx, deadline);
        }
        let call = route.use_case.call_at(ctx.clone(), &input, now.into_std());
        drop(input);
        drop(sources);
        let timed = within(call, deadline, route.timeout).await;
        match timed {
            Err(_) => {
                let error = route.use_case.timed_out(Trigger::Http, route.timeout);
                Err(problem((
                    StatusCode::GATEWAY_TIMEOUT,
                    "timeout",
                    error.to_string(),
                )))
            }
            // Read in one pass, unchecked: a text that is not JSON at all
            // is the malformed body the check would have refused.
            Ok(Err(failure)) => Err(
                match one_pass.and_then(|text| unread_text(text, failure.as_ref())) {
                    Some(error) => problem(not_json(&error)),
                    None => shared.policy.problem(
                        failure.as_ref(),
                        transaction_text,
                        Some(parts.uri.path()),
                    ),
                },
            ),
            Ok(Ok(reply)) => Ok(success(reply, route, &parts.headers, &shared.config)),
        }
    }
    .await;

    let mut response = outcome.unwrap_or_else(|problem| problem.into_response());
    finish(&mut response, route, &parts.headers, transaction_header);
    crate::trace::end_server_span(span, response.status());
    response
}

/// Runs `call`, given up at `deadline` (or `limit` from now, when the
/// clock has no room for a deadline). A call that finishes in its first
/// poll arms no timer: it could not have been cancelled during that poll
/// anyway, and the timer costs a handle on the runtime's timer and,
/// dropped, its release.
async fn within<F: Future>(
    call: F,
    deadline: Option<tokio::time::Instant>,
    limit: std::time::Duration,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    let mut call = std::pin::pin!(call);
    let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
    if let Poll::Ready(output) = first {
        return Ok(output);
    }
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, call).await,
        None => tokio::time::timeout(limit, call).await,
    }
}

/// Reads the body within the size limit.
async fn read_body(
    headers: &HeaderMap,
    body: HttpBody,
    config: &HttpConfig,
) -> Result<Bytes, Refusal> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!(
                "the request body is larger than {} bytes",
                config.body_limit
            ),
        )
    };
    let announced =
        crate::headers::text(headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > config.body_limit as u64) {
        return Err(too_large());
    }
    let bytes = match Limited::new(body, config.body_limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => return Err(too_large()),
        Err(error) => {
            let detail = format!("the request body could not be read: {error}");
            return Err((StatusCode::BAD_REQUEST, "body-unreadable", detail));
        }
    };
    Ok(bytes)
}

/// The body's text, once its media type is checked; `None` when it is
/// empty (then it has no media type to check).
fn body_text<'b>(
    headers: &HeaderMap,
    bytes: &'b Bytes,
    route: &Route,
) -> Result<Option<&'b str>, Refusal> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let content_type = crate::headers::text(headers, header::CONTENT_TYPE);
    check_content_type(content_type, route.content_type.as_deref()).map_err(|detail| {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            detail,
        )
    })?;
    std::str::from_utf8(bytes)
        .map(Some)
        .map_err(|e| malformed(format!("the request body is not UTF-8: {e}")))
}

/// The body as JSON borrowed from its text.
fn parse_body<'b>(text: &'b str, route: &Route) -> Result<Body<'b>, Refusal> {
    let body = Body::parse(text).map_err(|e| not_json(&e))?;
    Ok(if route.mapper.reads_body_fields() {
        body.with_fields()
    } else {
        body
    })
}

/// A body that cannot be read: 400 `malformed-body`.
fn malformed(detail: String) -> Refusal {
    (StatusCode::BAD_REQUEST, "malformed-body", detail)
}

/// A body that is not JSON.
fn not_json(error: &serde_json::Error) -> Refusal {
    malformed(format!("the request body is not valid JSON: {error}"))
}

/// A body must be JSON (or the route's declared media type).
fn check_content_type(given: Option<&str>, declared: Option<&str>) -> Result<(), String> {
    fn essence(s: &str) -> &str {
        s.split(';').next().unwrap_or_default().trim()
    }
    // The common case first, without splitting off parameters.
    if declared.is_none()
        && given.is_none_or(|given| given.eq_ignore_ascii_case("application/json"))
    {
        return Ok(());
    }
    let Some(given) = given.map(essence) else {
        return Ok(());
    };
    match declared.map(essence) {
        Some(declared) if !given.eq_ignore_ascii_case(declared) => Err(format!(
            "this route accepts `{declared}` bodies, not `{given}`"
        )),
        Some(_) => Ok(()),
        None => {
            let json = given.eq_ignore_ascii_case("application/json")
                || given
                    .get(given.len().saturating_sub(5)..)
                    .is_some_and(|s| s.eq_ignore_ascii_case("+json"));
            if json {
                Ok(())
            } else {
                Err(format!("this route accepts JSON bodies, not `{given}`"))
            }
        }
    }
}

/// The response of a successful call.
fn success(
    reply: Reply,
    route: &Route,
    request_headers: &HeaderMap,
    config: &HttpConfig,
) -> Response {
    let status = success_status(reply.completion);
    let Some(body) = reply.body else {
        return status.into_response();
    };
    let cache = route.cacheable && route.method == http::Method::GET && status == StatusCode::OK;
    let etag = cache.then(|| entity_tag(&body));
    if let Some(etag) = &etag
        && crate::headers::text(request_headers, header::IF_NONE_MATCH)
            .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_cache_headers(response.headers_mut(), etag, config);
        return response;
    }
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, JSON.clone());
    if let Some(etag) = &etag {
        set_cache_headers(headers, etag, config);
    }
    response
}

/// The status a completion is answered with (the documents list the same).
pub(crate) fn success_status(completion: Completion) -> StatusCode {
    match completion {
        Completion::Done => StatusCode::OK,
        Completion::Created => StatusCode::CREATED,
        Completion::Accepted => StatusCode::ACCEPTED,
        Completion::NoContent => StatusCode::NO_CONTENT,
    }
}

fn set_cache_headers(headers: &mut HeaderMap, etag: &str, config: &HttpConfig) {
    if let Ok(value) = HeaderValue::from_str(&format!(
        "public, max-age={}",
        config.cache_max_age.as_secs()
    )) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
}

/// A strong entity tag from the body's hash.
fn entity_tag(body: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}

/// Headers every response of a route carries: the transaction id and, for
/// CORS routes, the allowed origin.
fn finish(
    response: &mut Response,
    route: &Route,
    request_headers: &HeaderMap,
    transaction: HeaderValue,
) {
    let headers = response.headers_mut();
    headers.insert(TRANSACTION.clone(), transaction);
    let Some(cors) = &route.cors else { return };
    let origin = crate::headers::text(request_headers, header::ORIGIN);
    if let Some(allowed) = cors.allow(origin)
        && let Ok(value) = HeaderValue::from_str(&allowed)
    {
        if allowed != "*" {
            headers.append(header::VARY, HeaderValue::from_static("origin"));
        }
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(crate::TRANSACTION_HEADER),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_must_be_json_or_the_declared_type() {
        assert!(check_content_type(None, None).is_ok());
        assert!(check_content_type(Some("application/json; charset=utf-8"), None).is_ok());
        assert!(check_content_type(Some("application/merge-patch+json"), None).is_ok());
        assert!(check_content_type(Some("text/plain"), None).is_err());
        assert!(check_content_type(Some("json"), None).is_err());
        assert!(
            check_content_type(Some("application/json"), Some("application/vnd.api+json")).is_err()
        );
        assert!(check_content_type(Some("Application/JSON"), Some("application/json")).is_ok());
    }

    #[test]
    fn entity_tags_are_stable_and_quoted() {
        assert_eq!(entity_tag(b"{}"), entity_tag(b"{}"));
        assert_ne!(entity_tag(b"{}"), entity_tag(b"[]"));
        assert!(entity_tag(b"x").starts_with('"'));
    }
}
