//! The caller an API Gateway authorizer authenticated, as the attributes
//! an authenticator would return: what the metadata's `authorization`
//! rules are decided against on AWS Lambda.
//!
//! API Gateway verified the caller before invoking the function; its
//! result is in `requestContext.authorizer`, shaped by the kind of API and
//! of authorizer:
//!
//! | event | authorizer | caller's attributes |
//! |---|---|---|
//! | REST API (1.0) | Cognito user pool | `authorizer.claims` |
//! | REST API (1.0), WebSocket | Lambda authorizer | `authorizer.*` but `integrationLatency`; `principalId` as `sub` |
//! | HTTP API (2.0) | JWT | `authorizer.jwt.claims`; `jwt.scopes` as `scope` when no claim has scopes |
//! | HTTP API (2.0) | Lambda authorizer | `authorizer.lambda.*` |
//! | HTTP API (2.0) | IAM | none: AWS credentials carry no claims |
//!
//! API Gateway hands claims over as text: a list claim arrives as
//! `"[admin reader]"` (HTTP API JWT authorizers). A string in brackets is
//! turned back into a list (a JSON array of strings is read as one; else
//! the items are split at commas and spaces). Other strings stay as they
//! are: `"admin reader"` already names two roles (rules split at spaces),
//! but `"admin,reader"` is one text (a comma may belong to a claim, as in
//! a name).

use serde_json::{Map, Value};

/// The caller of an event, `None` when no authorizer ran (or it passed
/// nothing on).
pub(crate) fn caller(event: &Value) -> Option<Map<String, Value>> {
    let authorizer = event
        .get("requestContext")
        .and_then(|c| c.get("authorizer"))
        .and_then(Value::as_object)?;
    if authorizer.contains_key("iam") {
        // IAM authorization signs requests with AWS credentials: no
        // claims a rule could read.
        return None;
    }
    let mut attributes = if let Some(jwt) = authorizer.get("jwt").and_then(Value::as_object) {
        from_jwt(jwt)
    } else if let Some(lambda) = authorizer.get("lambda").and_then(Value::as_object) {
        lambda.clone()
    } else if let Some(claims) = authorizer.get("claims").and_then(Value::as_object) {
        claims.clone()
    } else {
        from_lambda_authorizer(authorizer)
    };
    for value in attributes.values_mut() {
        if let Some(list) = value.as_str().and_then(bracketed_list) {
            *value = list;
        }
    }
    (!attributes.is_empty()).then_some(attributes)
}

/// An HTTP API JWT authorizer's claims, with its scopes as `scope` (a
/// space-separated string, RFC 8693 §4.2) when the claims carry none.
fn from_jwt(jwt: &Map<String, Value>) -> Map<String, Value> {
    let mut claims = jwt
        .get("claims")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let scopes: Vec<&str> = jwt
        .get("scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let has_scopes = claims.contains_key("scope") || claims.contains_key("scp");
    if !has_scopes && !scopes.is_empty() {
        claims.insert("scope".into(), Value::String(scopes.join(" ")));
    }
    claims
}

/// A Lambda authorizer's context (REST and WebSocket APIs): its fields
/// but API Gateway's own `integrationLatency`, and the `principalId` as
/// `sub` unless the context names a `sub` itself.
fn from_lambda_authorizer(authorizer: &Map<String, Value>) -> Map<String, Value> {
    let mut attributes: Map<String, Value> = authorizer
        .iter()
        .filter(|(name, value)| {
            !matches!(name.as_str(), "principalId" | "integrationLatency") && !value.is_null()
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    if let Some(principal) = authorizer.get("principalId").filter(|p| !p.is_null())
        && !attributes.contains_key("sub")
    {
        attributes.insert("sub".into(), principal.clone());
    }
    attributes
}

/// `"[a b]"`, `"[a, b]"` or `"[\"a\",\"b\"]"` as the list `["a", "b"]`;
/// `None` for a string not in brackets.
fn bracketed_list(text: &str) -> Option<Value> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text.trim())
        && items.iter().all(Value::is_string)
    {
        return Some(Value::Array(items));
    }
    let items = inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(|item| Value::String(item.to_owned()))
        .collect();
    Some(Value::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(authorizer: Value) -> Option<Value> {
        caller(&json!({"requestContext": {"authorizer": authorizer}})).map(Value::Object)
    }

    #[test]
    fn each_authorizer_shape_gives_the_caller() {
        assert_eq!(
            of(json!({"claims": {"sub": "ana", "roles": "[admin reader]"}})),
            Some(json!({"sub": "ana", "roles": ["admin", "reader"]}))
        );
        assert_eq!(
            of(
                json!({"principalId": "ana", "integrationLatency": 12, "roles": "admin", "tier": 3})
            ),
            Some(json!({"sub": "ana", "roles": "admin", "tier": 3}))
        );
        assert_eq!(
            of(json!({"principalId": "user|a1", "sub": "a1"})),
            Some(json!({"sub": "a1"}))
        );
        assert_eq!(
            of(
                json!({"jwt": {"claims": {"sub": "ana"}, "scopes": ["orders:read", "orders:write"]}})
            ),
            Some(json!({"sub": "ana", "scope": "orders:read orders:write"}))
        );
        assert_eq!(
            of(json!({"jwt": {"claims": {"sub": "ana", "scope": "a"}, "scopes": ["b"]}})),
            Some(json!({"sub": "ana", "scope": "a"}))
        );
        assert_eq!(
            of(json!({"lambda": {"sub": "ana", "roles": "[\"admin\",\"reader\"]"}})),
            Some(json!({"sub": "ana", "roles": ["admin", "reader"]}))
        );
    }

    #[test]
    fn no_authorizer_no_caller() {
        assert_eq!(caller(&json!({"requestContext": {}})), None);
        assert_eq!(of(json!({})), None);
        assert_eq!(
            of(json!({"principalId": null, "integrationLatency": 0})),
            None
        );
        assert_eq!(of(json!({"iam": {"accessKey": "x"}})), None);
    }

    #[test]
    fn only_bracketed_strings_become_lists() {
        assert_eq!(bracketed_list("[a, b]"), Some(json!(["a", "b"])));
        assert_eq!(bracketed_list("[]"), Some(json!([])));
        assert_eq!(bracketed_list("a,b"), None);
        assert_eq!(bracketed_list("Doe, John"), None);
    }
}
