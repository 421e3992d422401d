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
