//! The metadata-only document, one property at a time (the golden
//! documents of every metadata file are in `bisslog-codegen`'s tests, as
//! the CLI writes them).

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog_openapi::{ApiOptions, document};
use serde_json::Value;

fn openapi_of(yaml: &str) -> Value {
    let service = bisslog_schema::validate_str("metadata.yml", yaml)
        .into_service()
        .unwrap();
    document(&service, &ApiOptions::default())
}

#[test]
fn a_greedy_variable_is_a_plain_path_parameter_marked_greedy() {
    let doc = openapi_of(
        "name: s\nuse_cases:\n  get:\n    triggers:\n      - type: http\n        options: {path: '/f/{key+}'}\n",
    );
    let op = &doc["paths"]["/f/{key}"]["get"];
    assert_eq!(op["parameters"][0]["name"], "key");
    assert_eq!(op["parameters"][0]["in"], "path");
    assert_eq!(op["parameters"][0]["x-bisslog-greedy"], true);
}

#[test]
fn operation_ids_stay_unique_across_several_routes_of_one_use_case() {
    let doc = openapi_of(
        "name: s\nuse_cases:\n  a:\n    triggers:\n      - type: http\n        options: {path: /x}\n      - type: http\n        options: {path: /y}\n  a_2:\n    triggers:\n      - type: http\n        options: {path: /z}\n",
    );
    let ids: Vec<&str> = ["/x", "/y", "/z"]
        .iter()
        .map(|p| doc["paths"][p]["get"]["operationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "a_2", "a_2_2"]);
}

#[test]
fn failures_are_problem_documents_sharing_one_schema() {
    let doc = openapi_of(
        "name: s\nuse_cases:\n  a:\n    triggers:\n      - type: http\n        options: {path: /x, authenticator: staff}\n",
    );
    let responses = &doc["paths"]["/x"]["get"]["responses"];
    assert_eq!(
        responses["401"]["$ref"],
        "#/components/responses/Unauthenticated"
    );
    assert!(responses.get("404").is_none(), "no path variable, no 404");
    let problem =
        &doc["components"]["responses"]["Unauthenticated"]["content"]["application/problem+json"];
    assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
}

const GUARDED: &str = "
name: s
use_cases:
  edit:
    description: Edits a thing
    authorization: {roles: [editor, admin], scopes: [things.write, things.read], owner: owner_id}
    triggers:
      - type: http
        options: {method: put, path: /things, authenticator: staff}
      - type: http
        options: {method: post, path: /legacy}
  look:
    authorization: public
    triggers:
      - type: http
        options: {path: /things, authenticator: staff}
      - type: http
        options: {path: /open}
      - type: http
        options: {path: /mine, authenticator: staff, authorization: {}}
  plain:
    triggers:
      - type: http
        options: {path: /plain}
";

#[test]
fn a_named_authenticator_is_a_scheme_the_operation_requires_with_the_rules_scopes() {
    let doc = openapi_of(GUARDED);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes.as_object().unwrap().len(), 1, "{schemes}");
    assert_eq!(schemes["staff"]["type"], "http");
    assert_eq!(schemes["staff"]["scheme"], "bearer");
    let edit = &doc["paths"]["/things"]["put"];
    assert_eq!(
        edit["security"],
        serde_json::json!([{"staff": ["things.write", "things.read"]}])
    );
    assert_eq!(
        edit["x-bisslog-authorization"],
        serde_json::json!({"roles": ["editor", "admin"], "scopes": ["things.write", "things.read"], "owner": "owner_id"})
    );
    let description = edit["description"].as_str().unwrap();
    assert!(
        description.starts_with("Edits a thing\n\nWho may call: "),
        "{description}"
    );
    assert!(
        description.contains("one of the roles `editor`, `admin`"),
        "{description}"
    );
    assert!(
        description.contains("all of the scopes `things.write`, `things.read`"),
        "{description}"
    );
    assert!(
        description.contains("the input's `owner_id`"),
        "{description}"
    );
    for status in ["401", "403"] {
        assert!(edit["responses"].get(status).is_some(), "{status}");
    }
}

#[test]
fn a_route_nobody_authenticates_claims_no_security_but_states_its_rule() {
    let doc = openapi_of(GUARDED);
    let legacy = &doc["paths"]["/legacy"]["post"];
    assert!(legacy.get("security").is_none());
    assert!(legacy["responses"].get("401").is_none());
    assert!(legacy["responses"].get("403").is_none());
    assert_eq!(legacy["x-bisslog-authorization"]["roles"][0], "editor");
    assert!(
        legacy["description"]
            .as_str()
            .unwrap()
            .contains("none does in this document"),
        "{}",
        legacy["description"]
    );
    let plain = &doc["paths"]["/plain"]["get"];
    assert!(plain.get("security").is_none());
    assert!(plain.get("x-bisslog-authorization").is_none());
    assert!(plain["responses"].get("401").is_none());
}

#[test]
fn a_public_route_an_authenticator_would_guard_says_security_is_empty() {
    let doc = openapi_of(GUARDED);
    let look = &doc["paths"]["/things"]["get"];
    assert_eq!(look["security"], serde_json::json!([]));
    assert_eq!(look["x-bisslog-authorization"], "public");
    assert!(
        look["responses"].get("401").is_none(),
        "public: nobody is refused"
    );
    let open = &doc["paths"]["/open"]["get"];
    assert!(open.get("security").is_none(), "nothing to opt out of");
    // A trigger's own rule replaces the use case's.
    let mine = &doc["paths"]["/mine"]["get"];
    assert_eq!(mine["security"], serde_json::json!([{"staff": []}]));
    assert_eq!(mine["x-bisslog-authorization"], serde_json::json!({}));
    assert!(
        mine["description"]
            .as_str()
            .unwrap()
            .contains("Any authenticated caller.")
    );
}

#[test]
fn the_servers_authentication_names_the_scheme_guarding_each_route() {
    use bisslog_openapi::{Authentication, Typed, typed_document};
    let service = bisslog_schema::validate_str("metadata.yml", GUARDED)
        .into_service()
        .unwrap();
    let typed = Typed {
        authentication: Some(Authentication {
            schemes: [(
                "jwt".to_owned(),
                serde_json::json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}),
            )]
            .into_iter()
            .collect(),
            default: Some("jwt".to_owned()),
        }),
        ..Typed::default()
    };
    let doc = typed_document(&service, &ApiOptions::default(), &typed);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["jwt"]["bearerFormat"], "JWT");
    // `staff` describes no scheme: documented, and saying so.
    assert!(
        schemes["staff"]["description"]
            .as_str()
            .unwrap()
            .contains("nothing describes")
    );
    let plain = &doc["paths"]["/plain"]["get"];
    assert_eq!(plain["security"], serde_json::json!([{"jwt": []}]));
    assert!(plain["responses"].get("401").is_some());
    let legacy = &doc["paths"]["/legacy"]["post"];
    assert_eq!(
        legacy["security"],
        serde_json::json!([{"jwt": ["things.write", "things.read"]}])
    );
    assert!(
        !legacy["description"]
            .as_str()
            .unwrap()
            .contains("none does")
    );
    assert_eq!(
        doc["paths"]["/open"]["get"]["security"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["paths"]["/things"]["put"]["security"],
        serde_json::json!([{"staff": ["things.write", "things.read"]}])
    );
}
