//! API Gateway REST and HTTP API events, and ALB requests: turned into an
//! `http::Request`, served by the same axum router `bisslog-http` builds
//! (so mapping, options and problem+json errors are identical), and the
//! response turned back into the document each integration expects.

use axum::body::Body as AxumBody;
use axum::extract::Request;
use bisslog_http::{GatewayCaller, SpanAttributes};
use bisslog_runtime::trace::Value as TraceValue;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Map, Value};
use tower::ServiceExt as _;

use crate::error::LambdaError;
use crate::routing::Routing;

/// Which integration sent the request (each encodes a little differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// API Gateway REST API, payload format 1.0.
    RestApi,
    /// API Gateway HTTP API, payload format 2.0.
    HttpApi,
    /// Application Load Balancer.
    Alb,
}

/// Serves one HTTP event through the router.
pub(crate) async fn handle(
    routing: &Routing,
    flavor: Flavor,
    event: &Value,
) -> Result<Value, LambdaError> {
    let mut request = match flavor {
        Flavor::RestApi => rest_request(event)?,
        Flavor::HttpApi => http_api_request(event)?,
        Flavor::Alb => rest_request(event)?,
    };
    if routing.service.tracer().is_some() {
        request.extensions_mut().insert(span_attributes(event));
    }
    // API Gateway's authorizer verified the caller: routes without an
    // authenticator decide their rules against it (ALB events carry none).
    if let Some(caller) = super::authorizer::caller(event) {
        request.extensions_mut().insert(GatewayCaller(caller));
    }
    let seen = format!(
        "an HTTP request {} {}",
        request.method(),
        request.uri().path()
    );
    let router = routing.router.clone();
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response
        .extensions()
        .get::<super::only::NotServed>()
        .is_some()
        && let Some(only) = routing.only.as_deref()
    {
        return Err(LambdaError::NotServed {
            serves: only.to_owned(),
            seen,
        });
    }
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            // Only a streaming body can fail, and no route streams.
            tracing::error!(error = %error, "the response body could not be read");
            return Ok(super::http_response::encode(
                flavor,
                event,
                StatusCode::INTERNAL_SERVER_ERROR,
                &HeaderMap::new(),
                &Bytes::new(),
            ));
        }
    };
    Ok(super::http_response::encode(
        flavor,
        event,
        parts.status,
        &parts.headers,
        &body,
    ))
}

/// What the HTTP server span of an invocation adds to a server's: the
/// trigger, the request id and the cloud.
fn span_attributes(event: &Value) -> SpanAttributes {
    let mut attributes = vec![
        ("faas.trigger", TraceValue::Static("http")),
        ("cloud.provider", TraceValue::Static("aws")),
    ];
    if let Some(id) = event
        .get("requestContext")
        .and_then(|c| c.get("requestId"))
        .and_then(Value::as_str)
    {
        attributes.push(("faas.invocation_id", TraceValue::Owned(id.to_owned())));
    }
    SpanAttributes(attributes)
}

/// A REST API (1.0) or ALB request. REST API query values arrive decoded
/// and are encoded again; ALB passes them as the client sent them
/// (encoded), so they are used as they are.
fn rest_request(event: &Value) -> Result<Request, LambdaError> {
    let alb = event
        .get("requestContext")
        .is_some_and(|c| c.get("elb").is_some());
    let what = if alb {
        "ALB event"
    } else {
        "API Gateway REST event"
    };
    let method = str_field(event, "httpMethod").unwrap_or("GET");
    // `path` is the request's path (`resource` is the route template).
    let path = str_field(event, "path").unwrap_or("/");
    let mut query = String::new();
    let multi = non_empty_object(event, "multiValueQueryStringParameters");
    let single = non_empty_object(event, "queryStringParameters");
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(params) = multi {
        for (name, values) in params {
            for value in values.as_array().into_iter().flatten() {
                if let Some(value) = value.as_str() {
                    pairs.push((name, value));
                }
            }
        }
    } else if let Some(params) = single {
        for (name, value) in params {
            if let Some(value) = value.as_str() {
                pairs.push((name, value));
            }
        }
    }
    if alb {
        let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        query = joined.join("&");
    } else if !pairs.is_empty() {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        serializer.extend_pairs(pairs);
        query = serializer.finish();
    }
    let headers = super::headers(event, what)?;
    build_request(
        what,
        method,
        path,
        &query,
        headers,
        super::body(event, what)?.unwrap_or_default(),
    )
}

/// An HTTP API (2.0) request: `rawPath` and `rawQueryString` as the client
/// sent them, `cookies` back into one `cookie` header. When the API's
/// stage is not `$default`, `rawPath` starts with the stage's name, which
/// is taken off (the metadata's paths do not know the stage).
fn http_api_request(event: &Value) -> Result<Request, LambdaError> {
    const WHAT: &str = "API Gateway HTTP API event";
    let context = event.get("requestContext");
    let method = context
        .and_then(|c| c.get("http"))
        .and_then(|h| h.get("method"))
        .and_then(Value::as_str)
        .unwrap_or("GET");
    let raw_path = str_field(event, "rawPath")
        .or_else(|| {
            context
                .and_then(|c| c.get("http"))
                .and_then(|h| h.get("path"))
                .and_then(Value::as_str)
        })
        .unwrap_or("/");
    let stage = context.and_then(|c| c.get("stage")).and_then(Value::as_str);
    let path = strip_stage(raw_path, stage);
    let query = str_field(event, "rawQueryString").unwrap_or("");
    let mut headers = super::headers(event, WHAT)?;
    if let Some(cookies) = event.get("cookies").and_then(Value::as_array) {
        let cookies: Vec<&str> = cookies.iter().filter_map(Value::as_str).collect();
        if !cookies.is_empty() {
            super::append_header(&mut headers, "cookie", &cookies.join("; "), WHAT)?;
        }
    }
    build_request(
        WHAT,
        method,
        path,
        query,
        headers,
        super::body(event, WHAT)?.unwrap_or_default(),
    )
}

/// `/prod/orders` with stage `prod` → `/orders`.
fn strip_stage<'p>(path: &'p str, stage: Option<&str>) -> &'p str {
    let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
        return path;
    };
    match path
        .strip_prefix('/')
        .and_then(|rest| rest.strip_prefix(stage))
    {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

fn build_request(
    what: &'static str,
    method: &str,
    path: &str,
    query: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Request, LambdaError> {
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| LambdaError::malformed(what, format!("`{method}` is not an HTTP method")))?;
    let mut uri = encode_uri_part(path, false);
    if !uri.starts_with('/') {
        uri.insert(0, '/');
    }
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&encode_uri_part(query, true));
    }
    let mut request = Request::builder()
        .method(method)
        .uri(&uri)
        .body(AxumBody::from(body))
        .map_err(|e| {
            LambdaError::malformed(what, format!("the request `{uri}` is invalid: {e}"))
        })?;
    *request.headers_mut() = headers;
    Ok(request)
}

/// Percent-encodes the bytes a URI may not carry as they are (spaces,
/// non-ASCII); what is already encoded stays as it is.
fn encode_uri_part(text: &str, query: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=:@/%".contains(&byte)
            || (query && byte == b'?');
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn str_field<'e>(event: &'e Value, name: &str) -> Option<&'e str> {
    event.get(name).and_then(Value::as_str)
}

fn non_empty_object<'e>(event: &'e Value, name: &str) -> Option<&'e Map<String, Value>> {
    event
        .get(name)
        .and_then(Value::as_object)
        .filter(|o| !o.is_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_stage_is_taken_off_http_api_paths() {
        assert_eq!(strip_stage("/prod/orders", Some("prod")), "/orders");
        assert_eq!(strip_stage("/prod", Some("prod")), "/");
        assert_eq!(strip_stage("/production/x", Some("prod")), "/production/x");
        assert_eq!(strip_stage("/orders", Some("$default")), "/orders");
        assert_eq!(strip_stage("/orders", None), "/orders");
    }

    #[test]
    fn repeated_query_parameters_keep_every_value() {
        let rest = serde_json::json!({
            "httpMethod": "GET",
            "path": "/search",
            "queryStringParameters": {"tag": "b"},
            "multiValueQueryStringParameters": {"tag": ["a b", "b"], "page": ["2"]},
            "requestContext": {}
        });
        let request = rest_request(&rest).unwrap();
        assert_eq!(request.uri(), "/search?tag=a+b&tag=b&page=2");
        // ALB passes values as the client encoded them.
        let mut alb = rest;
        alb["requestContext"] = serde_json::json!({"elb": {}});
        alb["multiValueQueryStringParameters"] = serde_json::json!({"tag": ["a%20b", "b"]});
        let request = rest_request(&alb).unwrap();
        assert_eq!(request.uri(), "/search?tag=a%20b&tag=b");
    }

    #[test]
    fn uris_are_encoded_only_where_needed() {
        assert_eq!(encode_uri_part("/a b/ñ", false), "/a%20b/%C3%B1");
        assert_eq!(encode_uri_part("x=%20&y=1", true), "x=%20&y=1");
    }
}
