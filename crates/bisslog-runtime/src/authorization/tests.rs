use serde_json::json;

use bisslog_core::UseCaseError as _;

use super::*;

fn rule(roles: &[&str], scopes: &[&str], owner: Option<&str>) -> Rule {
    Rule {
        public: false,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        owner: owner.map(str::to_owned),
    }
}

fn caller(claims: Value) -> Map<String, Value> {
    claims.as_object().cloned().unwrap()
}

fn no_input() -> Mapped<'static> {
    Mapped::object()
}

#[test]
fn public_allows_anyone() {
    let public = Rule::public();
    assert_eq!(decide(&public, None, &no_input()), Decision::Allow);
    let nobody = caller(json!({}));
    assert_eq!(decide(&public, Some(&nobody), &no_input()), Decision::Allow);
}

#[test]
fn any_other_rule_needs_a_caller() {
    for rule in [
        rule(&[], &[], None),
        rule(&["admin"], &[], None),
        rule(&[], &["a"], None),
        rule(&[], &[], Some("id")),
    ] {
        assert_eq!(decide(&rule, None, &no_input()), Decision::Unauthenticated);
    }
    let empty = rule(&[], &[], None);
    let anyone = caller(json!({"sub": "ana"}));
    assert_eq!(decide(&empty, Some(&anyone), &no_input()), Decision::Allow);
}

#[test]
fn roles_are_any_of_from_a_list_or_a_string() {
    let rule = rule(&["schema-manager", "admin"], &[], None);
    for claims in [
        json!({"roles": ["reader", "admin"]}),
        json!({"roles": "reader schema-manager"}),
        json!({"roles": ["schema-manager"]}),
    ] {
        assert_eq!(
            decide(&rule, Some(&caller(claims.clone())), &no_input()),
            Decision::Allow,
            "{claims}"
        );
    }
    let refused = Decision::NotAllowed(Requirement::Roles(vec![
        "schema-manager".into(),
        "admin".into(),
    ]));
    for claims in [
        json!({"roles": ["reader"]}),
        json!({"roles": "reader"}),
        json!({"roles": []}),
        json!({"roles": 7}),
        json!({"roles": ["schema-manager-x"]}),
        json!({"role": ["admin"]}),
        json!({}),
    ] {
        assert_eq!(
            decide(&rule, Some(&caller(claims.clone())), &no_input()),
            refused,
            "{claims}"
        );
    }
}

#[test]
fn scopes_are_all_of_from_scope_or_scp() {
    let rule = rule(&[], &["schemas:read", "schemas:write"], None);
    for claims in [
        json!({"scope": "schemas:read schemas:write"}),
        json!({"scope": "openid schemas:write schemas:read"}),
        json!({"scp": ["schemas:write", "schemas:read"]}),
        json!({"scope": "schemas:read", "scp": ["schemas:write"]}),
    ] {
        assert_eq!(
            decide(&rule, Some(&caller(claims.clone())), &no_input()),
            Decision::Allow,
            "{claims}"
        );
    }
    let missing_write = Decision::NotAllowed(Requirement::Scope("schemas:write".into()));
    for claims in [
        json!({"scope": "schemas:read"}),
        json!({"scp": ["schemas:read"]}),
        json!({"scope": "schemas:read schemas:writer"}),
    ] {
        assert_eq!(
            decide(&rule, Some(&caller(claims.clone())), &no_input()),
            missing_write,
            "{claims}"
        );
    }
    let none = caller(json!({"sub": "ana"}));
    assert_eq!(
        decide(&rule, Some(&none), &no_input()),
        Decision::NotAllowed(Requirement::Scope("schemas:read".into()))
    );
}

#[test]
fn roles_and_scopes_must_both_hold() {
    let rule = rule(&["admin"], &["write"], None);
    let both = caller(json!({"roles": ["admin"], "scope": "write"}));
    assert_eq!(decide(&rule, Some(&both), &no_input()), Decision::Allow);
    let role_only = caller(json!({"roles": ["admin"]}));
    assert!(!decide(&rule, Some(&role_only), &no_input()).is_allowed());
    let scope_only = caller(json!({"scope": "write"}));
    assert!(!decide(&rule, Some(&scope_only), &no_input()).is_allowed());
}

#[test]
fn owner_compares_the_subject_with_the_mapped_field() {
    let rule = rule(&[], &[], Some("user_id"));
    let ana = caller(json!({"sub": "ana"}));
    // Text from a path variable.
    let mut from_path = Mapped::object();
    from_path.add("user_id".into(), Mapped::Text("ana".into()));
    assert_eq!(decide(&rule, Some(&ana), &from_path), Decision::Allow);
    let mut other = Mapped::object();
    other.add("user_id".into(), Mapped::Text("bob".into()));
    assert_eq!(
        decide(&rule, Some(&ana), &other),
        Decision::NotAllowed(Requirement::Owner)
    );
    // JSON from a body, as a string or a number; a numeric subject.
    let body = serde_json::value::RawValue::from_string("{\"user_id\": 42}".into()).unwrap();
    let numeric = Mapped::Raw(&body);
    let subject_42 = caller(json!({"sub": "42"}));
    assert_eq!(decide(&rule, Some(&subject_42), &numeric), Decision::Allow);
    let number_42 = caller(json!({"sub": 42}));
    assert_eq!(decide(&rule, Some(&number_42), &numeric), Decision::Allow);
    assert_eq!(
        decide(&rule, Some(&ana), &numeric),
        Decision::NotAllowed(Requirement::Owner)
    );
    let owned = Mapped::Owned(json!({"user_id": "ana"}));
    assert_eq!(decide(&rule, Some(&ana), &owned), Decision::Allow);
}

#[test]
fn owner_is_refused_when_either_side_is_missing_or_not_an_id() {
    let rule = rule(&[], &[], Some("user_id"));
    let ana = caller(json!({"sub": "ana"}));
    let no_subject = caller(json!({"roles": ["admin"]}));
    let mut input = Mapped::object();
    input.add("user_id".into(), Mapped::Text("ana".into()));
    assert!(!decide(&rule, Some(&no_subject), &input).is_allowed());
    assert!(!decide(&rule, Some(&ana), &no_input()).is_allowed());
    let object = Mapped::Owned(json!({"user_id": {"id": "ana"}}));
    assert!(!decide(&rule, Some(&ana), &object).is_allowed());
    let subject_list = caller(json!({"sub": ["ana"]}));
    assert!(!decide(&rule, Some(&subject_list), &input).is_allowed());
}

#[test]
fn owner_follows_dotted_paths() {
    let rule = rule(&[], &[], Some("owner.id"));
    let ana = caller(json!({"sub": "ana"}));
    let mut nested = Mapped::object();
    let target = vec!["owner".to_owned(), "id".to_owned()];
    nested.insert(&target, Mapped::Text("ana".into()));
    assert_eq!(decide(&rule, Some(&ana), &nested), Decision::Allow);
    let owned = Mapped::Owned(json!({"owner": {"id": "ana"}}));
    assert_eq!(decide(&rule, Some(&ana), &owned), Decision::Allow);
    let other = Mapped::Owned(json!({"owner": {"id": "bob"}}));
    assert!(!decide(&rule, Some(&ana), &other).is_allowed());
}

#[test]
fn refusals_are_401_or_403_and_name_the_requirement() {
    assert!(Decision::Allow.refusal().is_none());
    let unauthenticated = Decision::Unauthenticated.refusal().unwrap();
    assert_eq!(
        unauthenticated.kind(),
        bisslog_core::ErrorKind::Unauthenticated
    );
    assert_eq!(unauthenticated.code(), UNAUTHENTICATED);
    let roles = Decision::NotAllowed(Requirement::Roles(vec!["admin".into()]))
        .refusal()
        .unwrap();
    assert_eq!(roles.kind(), bisslog_core::ErrorKind::NotAllowed);
    assert_eq!(roles.code(), FORBIDDEN);
    assert!(roles.message().contains("`admin`"), "{}", roles.message());
    let scope = Decision::NotAllowed(Requirement::Scope("w".into()))
        .refusal()
        .unwrap();
    assert!(scope.message().contains("`w`"));
}
