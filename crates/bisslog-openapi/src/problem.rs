//! Responses: the success, and the failures as the shared `Problem`
//! schema (RFC 9457, as `bisslog-http` writes it), by status.

use bisslog_schema::{HttpTrigger, Method};
use serde_json::{Map, Value, json};

use crate::typed::UseCaseTypes;

/// The problem+json media type.
const PROBLEM_MEDIA: &str = "application/problem+json";

/// A problem response the server can give: its status, the name of its
/// `components.responses` entry, and what it means.
struct Known {
    status: u16,
    name: &'static str,
    description: &'static str,
}

/// Every problem status `bisslog-http` answers with its default status
/// policy, in status order; each is a `components.responses` entry.
const KNOWN: &[Known] = &[
    Known {
        status: 400,
        name: "BadRequest",
        description: "the request is malformed (a body that is not JSON, invalid bytes in the path, ...)",
    },
    Known {
        status: 401,
        name: "Unauthenticated",
        description: "the caller is not authenticated",
    },
    Known {
        status: 403,
        name: "Forbidden",
        description: "the caller may not do this",
    },
    Known {
        status: 404,
        name: "NotFound",
        description: "what the path names does not exist",
    },
    Known {
        status: 405,
        name: "MethodNotAllowed",
        description: "the path does not serve this method; `Allow` lists the methods it serves",
    },
    Known {
        status: 409,
        name: "Conflict",
        description: "the request conflicts with the current state (it already exists, it changed meanwhile)",
    },
    Known {
        status: 413,
        name: "ContentTooLarge",
        description: "the request body is larger than the server accepts",
    },
    Known {
        status: 415,
        name: "UnsupportedMediaType",
        description: "the request body is not in the route's media type (JSON unless the route declares another)",
    },
    Known {
        status: 422,
        name: "UnprocessableContent",
        description: "the input is invalid; the problem says which field",
    },
    Known {
        status: 429,
        name: "TooManyRequests",
        description: "the route's rate limit is exceeded; retry after `Retry-After` seconds",
    },
    Known {
        status: 500,
        name: "InternalError",
        description: "the service failed; quote the transaction id",
    },
    Known {
        status: 503,
        name: "Unavailable",
        description: "a dependency of the service is unavailable (its database cannot be reached, its disk is full...); retry after `Retry-After` seconds",
    },
    Known {
        status: 504,
        name: "GatewayTimeout",
        description: "the use case or a dependency did not answer in time",
    },
];

/// The responses that carry `Retry-After`.
const RETRY_AFTER: &[u16] = &[429, 503];

/// What every operation can answer whatever its use case: a malformed
/// request, a failure of the service (a panic), an unavailable
/// dependency (its unit of work), and the route's timeout, which every
/// route has (the server's default when the trigger declares none).
const ALWAYS: &[u16] = &[400, 500, 503, 504];

/// What an operation documented from the metadata alone can answer,
/// besides [`ALWAYS`]: an input that does not fit (the code decides).
const UNTYPED: &[u16] = &[422];

/// The `responses` of an operation: its success and its problems, by
/// status. `has_body` says whether it documents a request body (413 and
/// 415 are answered to bodies only); `authenticated` whether an
/// authenticator checks its callers (401, and 403 from the authenticator
/// or the route's rule).
pub(crate) fn responses(
    http: &HttpTrigger,
    has_body: bool,
    authenticated: bool,
    typed: Option<&UseCaseTypes>,
) -> Value {
    let mut statuses: Vec<u16> = ALWAYS.to_vec();
    match typed {
        Some(types) => statuses.extend(&types.failures),
        None => {
            statuses.extend(UNTYPED);
            if http.path.variables().next().is_some() {
                statuses.push(404);
            }
        }
    }
    if authenticated {
        statuses.extend([401, 403]);
    }
    if http.rate_limit.is_some() {
        statuses.push(429);
    }
    if has_body {
        statuses.extend([413, 415]);
    }
    statuses.retain(|status| *status >= 400);
    statuses.sort_unstable();
    statuses.dedup();

    let mut out = Map::new();
    let (success, output) = match typed {
        Some(types) => (types.success, Some(&types.output)),
        None => (200, None),
    };
    out.insert(success.to_string(), success_response(success, output));
    if http.cacheable && http.method == Method::Get {
        out.insert(
            "304".into(),
            json!({"description": "not modified: the representation matches `If-None-Match`"}),
        );
    }
    for status in statuses {
        let response = match KNOWN.iter().find(|k| k.status == status) {
            Some(known) => json!({"$ref": format!("#/components/responses/{}", known.name)}),
            // A status a custom policy chose: described in place.
            None => problem_response(&format!("a failure answered with {status}"), status),
        };
        out.insert(status.to_string(), response);
    }
    out.sort_keys();
    Value::Object(out)
}

/// The success response: its output in JSON (any JSON when untyped), or
/// nothing for 204.
fn success_response(status: u16, output: Option<&Value>) -> Value {
    let description = match status {
        201 => "created; the use case's output",
        202 => "accepted for later processing; the use case's output",
        204 => return json!({"description": "done; nothing to return"}),
        _ => "the use case's output",
    };
    let schema = output.cloned().unwrap_or_else(|| json!({}));
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema}},
    })
}

/// A problem response with its headers.
fn problem_response(description: &str, status: u16) -> Value {
    let mut response = json!({
        "description": description,
        "content": {PROBLEM_MEDIA: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    });
    if RETRY_AFTER.contains(&status) {
        response["headers"] = json!({"Retry-After": {
            "description": "seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 1},
        }});
    }
    if status == 405 {
        response["headers"] = json!({"Allow": {
            "description": "the methods the path serves",
            "schema": {"type": "string"},
        }});
    }
    response
}

/// `components`: the `Problem` schema and one response per problem status
/// the server answers (405 included, which the server answers for methods
/// a path does not serve, where no operation can list it).
pub(crate) fn components() -> Value {
    let mut responses = Map::new();
    for known in KNOWN {
        responses.insert(
            known.name.to_owned(),
            problem_response(known.description, known.status),
        );
    }
    json!({
        "schemas": {"Problem": problem_schema()},
        "responses": responses,
    })
}

/// The problem document `bisslog-http` writes.
fn problem_schema() -> Value {
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
