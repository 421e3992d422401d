//! Failures: the shared `Problem` schema (RFC 9457, as `bisslog-http`
//! writes it) and the responses that use it.

use bisslog_schema::HttpTrigger;
use serde_json::{Map, Value, json};

/// The problem+json media type.
const PROBLEM_MEDIA: &str = "application/problem+json";

/// The error responses every operation may give, by status: component
/// name and description. The statuses are `bisslog-http`'s defaults.
const ALWAYS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "the request is malformed (a body that is not JSON, ...)",
    ),
    (
        "422",
        "UnprocessableContent",
        "the input is invalid; the problem says which field",
    ),
    (
        "500",
        "InternalError",
        "the service failed; quote the transaction id",
    ),
    (
        "503",
        "Unavailable",
        "a dependency of the service is unavailable (its database cannot be reached, its disk is full...); retry after `Retry-After` seconds",
    ),
    (
        "504",
        "GatewayTimeout",
        "the use case or a dependency did not answer in time",
    ),
];
/// The responses that carry `Retry-After`, by component name.
const RETRY_AFTER: &[&str] = &["TooManyRequests", "Unavailable"];
const AUTH: &[(&str, &str, &str)] = &[
    ("401", "Unauthenticated", "the caller is not authenticated"),
    ("403", "Forbidden", "the caller may not do this"),
];
const NOT_FOUND: (&str, &str, &str) = ("404", "NotFound", "what the path names does not exist");
const RATE_LIMITED: (&str, &str, &str) = (
    "429",
    "TooManyRequests",
    "the route's rate limit is exceeded",
);

/// The `responses` of an operation: `200` and its problems, by status.
pub(super) fn responses(http: &HttpTrigger) -> Value {
    let mut statuses: Vec<&(&str, &str, &str)> = ALWAYS.iter().collect();
    if http.authenticator.is_some() {
        statuses.extend(AUTH);
    }
    if http.path.variables().next().is_some() {
        statuses.push(&NOT_FOUND);
    }
    if http.rate_limit.is_some() {
        statuses.push(&RATE_LIMITED);
    }
    statuses.sort_by_key(|(status, _, _)| *status);
    let mut out = Map::new();
    out.insert(
        "200".into(),
        json!({
            "description": "the use case's output",
            "content": {"application/json": {"schema": {}}},
        }),
    );
    for (status, name, _) in statuses {
        out.insert(
            (*status).to_owned(),
            json!({"$ref": format!("#/components/responses/{name}")}),
        );
    }
    Value::Object(out)
}

/// `components`: the `Problem` schema and one response per problem status.
pub(super) fn components() -> Value {
    let mut responses = Map::new();
    let mut all: Vec<&(&str, &str, &str)> = ALWAYS.iter().chain(AUTH).collect();
    all.push(&NOT_FOUND);
    all.push(&RATE_LIMITED);
    all.sort_by_key(|(status, _, _)| *status);
    for (_, name, description) in all {
        let mut response = json!({
            "description": description,
            "content": {PROBLEM_MEDIA: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        });
        if RETRY_AFTER.contains(name) {
            response["headers"] = json!({"Retry-After": {
                "description": "seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1},
            }});
        }
        responses.insert((*name).to_owned(), response);
    }
    json!({
        "schemas": {"Problem": problem_schema()},
        "responses": responses,
    })
}

/// The problem document `bisslog-http` writes.
pub(crate) fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem document. Client errors (4xx) say what went wrong; server errors (5xx) only which transaction to quote.",
        "required": ["type", "title", "status", "detail", "code", "transaction_id"],
        "properties": {
            "type": {"type": "string", "description": "`about:blank#` and the code"},
            "title": {"type": "string", "description": "the status's reason phrase"},
            "status": {"type": "integer", "description": "the HTTP status"},
            "detail": {"type": "string", "description": "what went wrong, for people"},
            "code": {"type": "string", "description": "the stable error code, such as `schema-not-found`"},
            "instance": {"type": "string", "description": "the request path"},
            "transaction_id": {"type": "string", "description": "the transaction to quote when reporting the problem"},
        },
        "additionalProperties": true,
    })
}
