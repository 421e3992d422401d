//! The domain dependency check, on real manifests of this workspace.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog_testkit::{DomainCheck, DomainCheckError, assert_domain_depends_only_on_core};

const CRATES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

#[test]
fn a_crate_of_no_infrastructure_passes() {
    // `bisslog-core` is what every domain may depend on: it reaches no
    // infrastructure itself.
    assert_domain_depends_only_on_core(format!("{CRATES}/bisslog-core"));
}

#[test]
fn a_crate_that_reaches_infrastructure_is_named_with_the_path() {
    // This crate is no domain: it reaches the runtime, axum and tokio.
    let Err(DomainCheckError::Forbidden { domain, offences }) =
        DomainCheck::new(env!("CARGO_MANIFEST_DIR")).run()
    else {
        panic!("the test kit reaches infrastructure");
    };
    assert_eq!(domain, "bisslog-testkit");
    let tokio = offences.iter().find(|o| o.name == "tokio").unwrap();
    assert_eq!(tokio.path, ["bisslog-testkit", "tokio"]);
    assert!(offences.iter().any(|o| o.name == "bisslog-http"));
    assert!(
        !offences.iter().any(|o| o.name == "bisslog-core"),
        "bisslog-core is allowed"
    );
    let message = DomainCheck::new(env!("CARGO_MANIFEST_DIR"))
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("\n  - `tokio` through bisslog-testkit → tokio"),
        "{message}"
    );
}

#[test]
fn a_missing_manifest_is_an_error_not_a_pass() {
    let error = DomainCheck::new(format!("{CRATES}/no-such-crate"))
        .run()
        .unwrap_err();
    assert!(matches!(error, DomainCheckError::Cargo { .. }), "{error}");
}
