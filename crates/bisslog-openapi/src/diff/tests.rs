//! One test per change class, on small documents.

use serde_json::{Value, json};

use super::{DiffError, Side, diff};

/// A document with one operation, `POST /users/{id}` unless `op` says
/// otherwise through `path`.
fn doc(path: &str, method: &str, op: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "users", "version": "1"},
        "paths": {path: {method: op}},
        "components": {"schemas": {
            "User": {"type": "object", "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}, "age": {"type": "integer"}
            }, "required": ["id", "name"]}
        }}
    })
}

fn kinds(old: &Value, new: &Value) -> Vec<(String, String)> {
    diff(old, new)
        .expect("both are OpenAPI documents")
        .into_iter()
        .map(|c| (c.kind.id().to_owned(), c.detail))
        .collect()
}

fn body(schema: Value) -> Value {
    json!({"operationId": "create_user",
        "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
        "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}})
}

fn answer(schema: Value) -> Value {
    json!({"operationId": "get_user",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}})
}

#[test]
fn identical_documents_have_no_changes() {
    let a = doc("/users", "post", body(json!({"type": "object"})));
    assert!(kinds(&a, &a).is_empty());
}

#[test]
fn a_removed_operation_breaks_and_a_renamed_path_variable_does_not() {
    let old = doc("/users/{id}", "get", answer(json!(true)));
    let renamed = doc("/users/{user_id}", "get", answer(json!(true)));
    assert!(kinds(&old, &renamed).is_empty());
    let moved = doc("/people/{id}", "get", answer(json!(true)));
    assert_eq!(
        kinds(&old, &moved),
        [
            ("operation-added".to_owned(), "GET /people/{id}".to_owned()),
            ("operation-removed".to_owned(), "GET /users/{id}".to_owned()),
        ]
    );
}

#[test]
fn a_required_request_field_added_is_breaking_an_optional_one_is_not() {
    let schema = |required: Value, extra: bool| {
        let mut properties = json!({"name": {"type": "string"}});
        if extra {
            properties["email"] = json!({"type": "string"});
            properties["nick"] = json!({"type": "string"});
        }
        json!({"type": "object", "properties": properties, "required": required})
    };
    let old = doc("/users", "post", body(schema(json!(["name"]), false)));
    let new = doc(
        "/users",
        "post",
        body(schema(json!(["name", "email"]), true)),
    );
    let changes = diff(&old, &new).expect("documents");
    let found: Vec<(&str, &str, &str)> = changes
        .iter()
        .map(|c| (c.kind.id(), c.severity().as_str(), c.detail.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "request-field-added",
                "compatible",
                "POST /users: body.nick"
            ),
            (
                "request-field-required",
                "breaking",
                "POST /users: body.email"
            ),
        ]
    );
    assert_eq!(changes[1].use_case.as_deref(), Some("create_user"));
    assert!(
        changes[1]
            .message
            .contains("use case `create_user`: `POST /users` requires a new field `body.email`")
    );
}

#[test]
fn a_request_field_made_required_removed_or_narrowed_breaks() {
    let old = doc(
        "/users",
        "post",
        body(json!({"type": "object", "properties": {
            "name": {"type": "string"}, "age": {"type": "number"}, "role": {"enum": ["a", "b"]}, "gone": {}
        }})),
    );
    let new = doc(
        "/users",
        "post",
        body(json!({"type": "object", "properties": {
        "name": {"type": "string"}, "age": {"type": "integer"}, "role": {"enum": ["a"]}
    }, "required": ["name"]})),
    );
    assert_eq!(
        kinds(&old, &new),
        [
            (
                "request-field-removed".to_owned(),
                "POST /users: body.gone".to_owned()
            ),
            (
                "request-field-required".to_owned(),
                "POST /users: body.name".to_owned()
            ),
            (
                "request-type-narrowed".to_owned(),
                "POST /users: body.age".to_owned()
            ),
            (
                "request-type-narrowed".to_owned(),
                "POST /users: body.role".to_owned()
            ),
        ]
    );
    // Widening what a request accepts breaks nobody.
    assert!(
        kinds(&new, &old)
            .iter()
            .all(|(k, _)| k != "request-type-narrowed")
    );
}

#[test]
fn response_fields_removed_made_optional_or_widened_break() {
    let old = doc(
        "/users/{id}",
        "get",
        answer(json!({"$ref": "#/components/schemas/User"})),
    );
    let new = doc(
        "/users/{id}",
        "get",
        answer(json!({"type": "object", "properties": {
        "id": {"type": ["string", "null"]}, "name": {"type": "string"}, "email": {"type": "string"}
    }, "required": ["id"]})),
    );
    assert_eq!(
        kinds(&old, &new),
        [
            (
                "response-field-added".to_owned(),
                "GET /users/{id}: response 200.email".to_owned()
            ),
            (
                "response-field-optional".to_owned(),
                "GET /users/{id}: response 200.name".to_owned()
            ),
            (
                "response-field-removed".to_owned(),
                "GET /users/{id}: response 200.age".to_owned()
            ),
            (
                "response-type-widened".to_owned(),
                "GET /users/{id}: response 200.id".to_owned()
            ),
        ]
    );
}

#[test]
fn nullable_wrappers_and_nested_arrays_are_followed() {
    let items = |inner: Value| json!({"type": "object", "properties": {"tags": {"type": "array", "items": inner}}});
    let old = doc(
        "/users",
        "post",
        body(items(
            json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
        )),
    );
    let new = doc("/users", "post", body(items(json!({"type": "string"}))));
    assert_eq!(
        kinds(&old, &new),
        [(
            "request-type-narrowed".to_owned(),
            "POST /users: body.tags[]".to_owned()
        )]
    );
}

#[test]
fn parameters_added_required_and_removed() {
    let op = |parameters: Value| json!({"operationId": "list", "parameters": parameters, "responses": {"200": {"description": "ok"}}});
    let old = doc(
        "/users",
        "get",
        op(json!([
            {"name": "limit", "in": "query", "schema": {"type": "integer"}},
            {"name": "cursor", "in": "query"}
        ])),
    );
    let new = doc(
        "/users",
        "get",
        op(json!([
            {"name": "limit", "in": "query", "required": true, "schema": {"type": "integer"}},
            {"name": "x-tenant", "in": "header", "required": true},
            {"name": "sort", "in": "query"}
        ])),
    );
    assert_eq!(
        kinds(&old, &new),
        [
            (
                "parameter-added".to_owned(),
                "GET /users: query.sort".to_owned()
            ),
            (
                "parameter-removed".to_owned(),
                "GET /users: query.cursor".to_owned()
            ),
            (
                "parameter-required".to_owned(),
                "GET /users: header.x-tenant".to_owned()
            ),
            (
                "parameter-required".to_owned(),
                "GET /users: query.limit".to_owned()
            ),
        ]
    );
}

#[test]
fn statuses_and_media_types() {
    let op = |status: &str, media: &str, extra: &str| {
        json!({"operationId": "create_user",
            "requestBody": {"content": {media: {"schema": {}}}},
            "responses": {status: {"description": "ok", "content": {media: {"schema": {}}}}, extra: {"description": "problem"}}})
    };
    let old = doc("/users", "post", op("200", "application/json", "400"));
    let new = doc("/users", "post", op("201", "application/json", "409"));
    assert_eq!(
        kinds(&old, &new),
        [
            (
                "error-status-added".to_owned(),
                "POST /users: status 409".to_owned()
            ),
            (
                "success-status-removed".to_owned(),
                "POST /users: status 200".to_owned()
            ),
        ]
    );
    let xml = doc("/users", "post", op("200", "application/xml", "400"));
    assert_eq!(
        kinds(&old, &xml),
        [
            (
                "request-media-type-removed".to_owned(),
                "POST /users: body application/json".to_owned()
            ),
            (
                "response-media-type-removed".to_owned(),
                "POST /users: status 200 application/json".to_owned()
            ),
        ]
    );
}

#[test]
fn request_bodies_required_or_dropped() {
    let with = |required: bool| json!({"operationId": "x", "requestBody": {"required": required, "content": {"application/json": {"schema": {}}}}, "responses": {}});
    let without = json!({"operationId": "x", "responses": {}});
    let id = |old: Value, new: Value| kinds(&doc("/x", "put", old), &doc("/x", "put", new));
    assert_eq!(
        id(with(false), with(true)),
        [("request-body-changed".to_owned(), "PUT /x: body".to_owned())]
    );
    assert_eq!(
        id(with(true), without.clone()),
        [("request-body-changed".to_owned(), "PUT /x: body".to_owned())]
    );
    assert_eq!(
        id(without.clone(), with(true)),
        [("request-body-changed".to_owned(), "PUT /x: body".to_owned())]
    );
    assert!(id(without, with(false)).is_empty());
}

#[test]
fn combined_schemas_are_reported_when_they_differ() {
    let one = |b: &str| {
        doc(
            "/x",
            "post",
            body(json!({"oneOf": [{"type": "string"}, {"type": b}]})),
        )
    };
    assert_eq!(
        kinds(&one("integer"), &one("boolean")),
        [("schema-changed".to_owned(), "POST /x: body".to_owned())]
    );
}

#[test]
fn recursive_references_end() {
    let tree = json!({
        "openapi": "3.1.0",
        "paths": {"/t": {"get": answer(json!({"$ref": "#/components/schemas/Node"}))}},
        "components": {"schemas": {
            "Node": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}},
            "Loop": {"$ref": "#/components/schemas/Loop"}
        }}
    });
    let mut looping = tree.clone();
    looping["paths"]["/t"]["get"] = answer(json!({"$ref": "#/components/schemas/Loop"}));
    assert!(kinds(&tree, &tree).is_empty());
    // A reference to itself is taken as it is: no hang, no panic.
    let _ = kinds(&looping, &tree);
}

#[test]
fn documents_that_are_not_openapi_are_refused() {
    let valid = doc("/x", "get", answer(json!(true)));
    assert_eq!(
        diff(&json!({"name": "users"}), &valid),
        Err(DiffError::NotOpenApi {
            side: Side::Old,
            reason: "it has no `openapi` version"
        })
    );
    assert_eq!(
        diff(&valid, &json!({"openapi": "2.0"})),
        Err(DiffError::NotOpenApi {
            side: Side::New,
            reason: "its `openapi` version is not 3.x"
        })
    );
    assert!(diff(&valid, &json!([1])).is_err());
}
