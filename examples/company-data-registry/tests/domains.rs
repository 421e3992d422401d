//! Each service's domain depends on `bisslog-core` alone: no other
//! framework crate, and no runtime, server, database or broker client,
//! directly or through another dependency.

#![allow(missing_docs)]

use bisslog_testkit::assert_domain_depends_only_on_core;

#[test]
fn the_registry_domain_depends_only_on_bisslog_core() {
    assert_domain_depends_only_on_core(concat!(env!("CARGO_MANIFEST_DIR"), "/registry-domain"));
}

#[test]
fn the_audit_domain_depends_only_on_bisslog_core() {
    assert_domain_depends_only_on_core(concat!(env!("CARGO_MANIFEST_DIR"), "/audit-domain"));
}

#[test]
fn the_importer_domain_depends_only_on_bisslog_core() {
    assert_domain_depends_only_on_core(concat!(env!("CARGO_MANIFEST_DIR"), "/importer-domain"));
}
