//! HTTP responses back into the document each integration expects.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value, json};

use super::http::Flavor;

/// The response document of each integration.
pub(super) fn encode(
    flavor: Flavor,
    event: &Value,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
) -> Value {
    let (body, base64) = encode_body(headers, body);
    let mut response = Map::new();
    response.insert("statusCode".into(), json!(status.as_u16()));
    match flavor {
        Flavor::RestApi => {
            // API Gateway merges both maps; a name with one value goes in
            // both, identically, and appears once.
            response.insert(
                "headers".into(),
                single_headers(headers, |values| {
                    (values.len() == 1).then(|| values[0].to_owned())
                }),
            );
            response.insert("multiValueHeaders".into(), multi_headers(headers));
        }
        Flavor::Alb => {
            let description = format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Unknown")
            );
            response.insert("statusDescription".into(), json!(description));
            // The target group answers in the mode it asked in.
            if event.get("multiValueHeaders").is_some() {
                response.insert("multiValueHeaders".into(), multi_headers(headers));
            } else {
                response.insert(
                    "headers".into(),
                    single_headers(headers, |values| values.last().map(|v| (*v).to_owned())),
                );
            }
        }
        Flavor::HttpApi => {
            let cookies: Vec<&str> = headers
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let mut without_cookies = headers.clone();
            without_cookies.remove(header::SET_COOKIE);
            response.insert(
                "headers".into(),
                single_headers(&without_cookies, |values| Some(values.join(", "))),
            );
            response.insert("cookies".into(), json!(cookies));
        }
    }
    response.insert("body".into(), Value::String(body));
    response.insert("isBase64Encoded".into(), Value::Bool(base64));
    Value::Object(response)
}

/// Text bodies as they are; anything else (or text that is not UTF-8) in
/// base64.
fn encode_body(headers: &HeaderMap, body: &Bytes) -> (String, bool) {
    if body.is_empty() {
        return (String::new(), false);
    }
    let textual = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(is_text);
    match std::str::from_utf8(body) {
        Ok(text) if textual => (text.to_owned(), false),
        _ => (BASE64.encode(body), true),
    }
}

fn is_text(content_type: &str) -> bool {
    let content_type = content_type.to_ascii_lowercase();
    content_type.starts_with("text/")
        || ["json", "xml", "javascript", "x-www-form-urlencoded", "yaml"]
            .iter()
            .any(|t| content_type.contains(t))
}

/// Each header name once, with the value `pick` makes of its values.
fn single_headers(headers: &HeaderMap, pick: impl Fn(&[&str]) -> Option<String>) -> Value {
    let mut map = Map::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if let Some(value) = pick(&values) {
            map.insert(name.as_str().to_owned(), Value::String(value));
        }
    }
    Value::Object(map)
}

fn multi_headers(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for name in headers.keys() {
        let values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| Value::String(v.to_owned()))
            .collect();
        map.insert(name.as_str().to_owned(), Value::Array(values));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn binary_bodies_are_base64() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        let (body, base64) = encode_body(&headers, &Bytes::from_static(b"\x89PNG"));
        assert!(base64);
        assert_eq!(BASE64.decode(body).ok().as_deref(), Some(&b"\x89PNG"[..]));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        assert_eq!(
            encode_body(&headers, &Bytes::from_static(b"{}")),
            ("{}".to_owned(), false)
        );
    }
}
