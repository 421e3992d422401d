//! The scaffold generator as `bisslog new` and `bisslog generate` use it:
//! golden workspaces (the starter, and one from a real metadata file),
//! byte-identical reruns, stamps, names, and the rule that keeps edited
//! files while adding what the metadata declares.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{assert_golden_files, load, manifest_dir};

use std::path::PathBuf;

use bisslog_codegen::scaffold::{self, FrameworkSource, ScaffoldError, ScaffoldOptions};
use bisslog_codegen::{
    GeneratedFile, Stamp, WriteStatus, verify, write_files, write_files_keeping_edited,
};

fn user_management_path() -> PathBuf {
    manifest_dir().join("../bisslog-schema/tests/conformance/user-management.yml")
}

fn starter_files() -> Vec<GeneratedFile> {
    let options = ScaffoldOptions::new("greeter", FrameworkSource::Version("0.1".into())).unwrap();
    scaffold::starter(&options).unwrap()
}

fn user_management_files() -> Vec<GeneratedFile> {
    let options =
        ScaffoldOptions::new("user-management", FrameworkSource::Path("../..".into())).unwrap();
    scaffold::workspace(&load(&user_management_path()), &options)
}

/// Compares `files` with the golden directory `name` (BLESS=1 rewrites it).
fn assert_golden(name: &str, files: &[GeneratedFile]) {
    let dir = manifest_dir().join("tests/golden").join(name);
    if std::env::var_os("BLESS").is_some() {
        // Files no longer generated go too.
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert_golden_files(&dir, files);
}

#[test]
fn the_starter_workspace_matches_its_golden_files() {
    assert_golden("scaffold-starter", &starter_files());
}

#[test]
fn a_workspace_from_real_metadata_matches_its_golden_files() {
    assert_golden("scaffold-user-management", &user_management_files());
}

#[test]
fn generating_twice_gives_identical_bytes() {
    assert_eq!(starter_files(), starter_files());
    assert_eq!(user_management_files(), user_management_files());
}

#[test]
fn stubs_are_stamped_and_the_starter_examples_are_the_owners() {
    for file in user_management_files() {
        assert_eq!(verify(&file.contents), Stamp::Intact, "{}", file.path);
    }
    let examples = [
        "metadata.yml",
        "domain/src/ports/greetings.rs",
        "domain/src/use_cases/greet.rs",
        "src/adapters/memory/greetings.rs",
        "src/adapters/sql/greetings.rs",
        "tests/use_cases/greet.rs",
        "tests/service.rs",
    ];
    for file in starter_files() {
        let expected = if examples.contains(&file.path.as_str()) {
            Stamp::Missing
        } else {
            Stamp::Intact
        };
        assert_eq!(verify(&file.contents), expected, "{}", file.path);
    }
}

#[test]
fn every_use_case_gets_a_stub_a_test_and_a_registration() {
    let files = user_management_files();
    let find = |path: &str| {
        files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} missing"))
    };
    let compose = &find("src/compose.rs").contents;
    for keyname in [
        "registerUser",
        "getUser",
        "updateUser",
        "deleteUser",
        "listUsers",
    ] {
        assert!(
            compose.contains(&format!("            \"{keyname}\": domain::use_cases::")),
            "{keyname}"
        );
    }
    // Registered through `service!`, checked against the metadata file
    // when the crate compiles.
    assert!(compose.contains("bisslog::service!(\"metadata.yml\", metadata, {"));
    assert!(compose.contains("            \"users_division\": adapters.users_division,"));
    // The routes name authenticators `user` and `admin`: the server needs
    // both, and each refuses every request until written.
    assert!(compose.contains(".authenticator(\"user\", authenticators::User)"));
    assert!(compose.contains(".authenticator(\"admin\", authenticators::Admin)"));
    let authenticators = &find("src/authenticators.rs").contents;
    assert!(authenticators.contains("impl Authenticator for Admin"));
    assert!(authenticators.contains("Error::unauthenticated("));
    let register = &find("domain/src/use_cases/register_user.rs").contents;
    assert!(register.contains("pub user_data: Option<serde_json::Value>,"));
    assert!(register.contains("ErrorKind::NotSupported"));
    assert!(!register.contains("todo!"));
    // `user_id` comes from the path in one trigger, the context in the other.
    let get_user = &find("domain/src/use_cases/get_user.rs").contents;
    assert!(get_user.contains("pub user_id: String,"), "{get_user}");
    let port = &find("domain/src/ports/users_division.rs").contents;
    for operation in ["register_user_on_db", "get_user_by_id", "get_all_users"] {
        assert!(
            port.contains(&format!("fn {operation}(&self)")),
            "{operation}"
        );
    }
    assert!(
        find("tests/use_cases/list_users.rs")
            .contents
            .contains("ErrorKind::NotSupported")
    );
    let domain = &find("domain/Cargo.toml").contents;
    assert!(
        domain.contains("bisslog-core = { path = \"../../../crates/bisslog-core\" }"),
        "{domain}"
    );
    assert!(!domain.contains("bisslog ="));
}

#[test]
fn names_that_cannot_name_a_crate_are_refused() {
    for name in ["", "9lives", "my service", "type", "bisslog", "ñu"] {
        let refused = ScaffoldOptions::new(name, FrameworkSource::Version("0.1".into()));
        assert!(
            matches!(refused, Err(ScaffoldError::InvalidName { .. })),
            "{name:?}: {refused:?}"
        );
    }
    assert!(
        ScaffoldOptions::new("orders-service_2", FrameworkSource::Version("0.1".into())).is_ok()
    );
}

#[test]
fn generate_adds_a_use_case_and_keeps_an_edited_file() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        ScaffoldOptions::new("user-management", FrameworkSource::Version("0.1".into())).unwrap();
    let before = load(&user_management_path());
    write_files(dir.path(), &scaffold::workspace(&before, &options), false).unwrap();
    let edited = dir.path().join("domain/src/use_cases/get_user.rs");
    let text = format!("{}// mine\n", std::fs::read_to_string(&edited).unwrap());
    std::fs::write(&edited, &text).unwrap();

    let yaml = std::fs::read_to_string(user_management_path()).unwrap()
        + "
  resetPassword:
    triggers: [{type: http, options: {method: post, path: '/reset/{user_id}'}}]
    external_interactions: [{keyname: mailer, operation: send_link}]
";
    let after = bisslog_schema::validate_str("metadata.yml", &yaml)
        .into_service()
        .unwrap();
    let written =
        write_files_keeping_edited(dir.path(), &scaffold::service_files(&after, &options)).unwrap();
    let status = |path: &str| {
        written
            .iter()
            .find(|(p, _)| p == &dir.path().join(path))
            .map(|(_, s)| *s)
            .unwrap_or_else(|| panic!("{path} not generated"))
    };
    assert_eq!(
        status("domain/src/use_cases/get_user.rs"),
        WriteStatus::Kept
    );
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), text);
    assert_eq!(
        status("domain/src/use_cases/reset_password.rs"),
        WriteStatus::Created
    );
    assert_eq!(status("domain/src/ports/mailer.rs"), WriteStatus::Created);
    assert_eq!(status("src/compose.rs"), WriteStatus::Updated);
    assert_eq!(
        status("domain/src/use_cases/register_user.rs"),
        WriteStatus::Unchanged
    );
    let compose = std::fs::read_to_string(dir.path().join("src/compose.rs")).unwrap();
    assert!(compose.contains("\"resetPassword\""), "{compose}");
}
