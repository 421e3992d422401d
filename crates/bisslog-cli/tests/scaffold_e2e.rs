//! `bisslog new` and `bisslog generate` end to end: the generated
//! workspaces are built and tested with cargo, and the starter's binary is
//! started and answers `/health/live`.
//!
//! Slow (it compiles services), so it runs only when
//! `BISSLOG_SCAFFOLD_E2E=1` (CI sets it); otherwise each test says it was
//! skipped and passes.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const ENABLE: &str = "BISSLOG_SCAFFOLD_E2E";

fn enabled(test: &str) -> bool {
    let on = std::env::var_os(ENABLE).is_some_and(|v| v == "1");
    if !on {
        eprintln!("{test}: skipped (set {ENABLE}=1 to build and run generated workspaces)");
    }
    on
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Where the generated workspaces build: `CARGO_TARGET_DIR` when set (CI
/// passes the main build's), else the main workspace's `target`. Sharing
/// it with the main build, together with the Cargo.lock `new` copies from
/// the checkout (`--bisslog-path`), gives the generated workspace the same
/// dependency versions and features, so cargo reuses their builds instead
/// of compiling the framework's dependencies again.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

fn bisslog(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_bisslog"))
        .args(args)
        .current_dir(dir)
        .env_remove("SERVICE_METADATA_PATH")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "bisslog {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "cargo {args:?} failed in {}",
        dir.display()
    );
}

/// `bisslog new NAME --bisslog-path <this checkout>` in `parent`.
fn new(parent: &Path, name: &str, from: Option<&Path>) -> PathBuf {
    let root = repo_root();
    let mut args = vec!["new", name, "--bisslog-path", root.to_str().unwrap()];
    if let Some(from) = from {
        args.extend(["--from", from.to_str().unwrap()]);
    }
    bisslog(parent, &args);
    parent.join(name)
}

/// The binary, started with PORT=0; killed (by its pid) when dropped.
struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in the runner's "listening on http://ADDR" line, read
/// within 60 s.
fn listening_address(running: &mut Running) -> String {
    let stdout = running.child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no 'listening on' line; seen: {seen:#?}"));
        if let Some(rest) = line.split("listening on http://").nth(1) {
            return rest.split_whitespace().next().unwrap().to_owned();
        }
        seen.push(line);
    }
}

/// A plain HTTP/1.1 GET; the whole response.
fn get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Builds the workspace's binary, starts it with PORT=0 and checks that
/// `/health/live` answers 200; the running binary and its address.
fn serve(dir: &Path, name: &str) -> (Running, String) {
    cargo(dir, &["build", "--quiet"]);
    let child = Command::new(target_dir().join("debug").join(name))
        .current_dir(dir)
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .env_remove("DATABASE_URL")
        .env_remove("BROKER_URL")
        .env_remove("BISSLOG_LOG_FORMAT")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running { child };
    let address = listening_address(&mut running);
    let live = get(&address, "/health/live");
    assert!(live.starts_with("HTTP/1.1 200"), "{name}: {live}");
    (running, address)
}

#[test]
fn the_starter_builds_passes_its_tests_and_serves() {
    if !enabled("the_starter_builds_passes_its_tests_and_serves") {
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let dir = new(parent.path(), "scaffold-e2e-starter", None);
    cargo(&dir, &["test", "--quiet"]);
    let (_running, address) = serve(&dir, "scaffold-e2e-starter");
    let hello = get(&address, "/hello/Ana");
    assert!(
        hello.contains(r#"{"message":"Hello, Ana!","count":1}"#),
        "{hello}"
    );
}

#[test]
fn workspaces_from_the_conformance_metadata_build_and_pass_their_tests_and_generate_keeps_edits() {
    if !enabled("workspaces_from_the_conformance_metadata_build_and_pass_their_tests") {
        return;
    }
    let conformance = repo_root().join("crates/bisslog-schema/tests/conformance");
    let parent = tempfile::tempdir().unwrap();
    for name in ["company-data-registry", "user-management"] {
        let from = conformance.join(format!("{name}.yml"));
        let crate_name = format!("scaffold-e2e-{name}");
        let dir = new(parent.path(), &crate_name, Some(&from));
        cargo(&dir, &["test", "--quiet"]);
        // Stubs serve too: their routes answer `not-written` until written.
        serve(&dir, &crate_name);
    }

    // A use case added to the metadata, with a use case's file edited.
    let dir = parent.path().join("scaffold-e2e-user-management");
    let edited = dir.join("domain/src/use_cases/get_user.rs");
    let text = format!(
        "{}\n/// Written by hand: `bisslog generate` leaves this file alone.\npub const EDITED: bool = true;\n",
        std::fs::read_to_string(&edited).unwrap()
    );
    std::fs::write(&edited, &text).unwrap();
    let mut metadata = std::fs::read_to_string(dir.join("metadata.yml")).unwrap();
    metadata.push_str(
        "
  resetPassword:
    description: Sends a password reset link.
    triggers:
      - type: http
        options: {method: post, path: '/user/{user_id}/password-reset'}
    external_interactions:
      - {keyname: mailer, type_interaction: notifier, operation: send_reset_link}
",
    );
    std::fs::write(dir.join("metadata.yml"), metadata).unwrap();
    let listed = bisslog(&dir, &["generate"]);
    assert!(
        listed.contains("kept domain/src/use_cases/get_user.rs"),
        "{listed}"
    );
    assert!(
        listed.contains("created domain/src/use_cases/reset_password.rs"),
        "{listed}"
    );
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), text);
    cargo(&dir, &["test", "--quiet"]);
    cargo(&dir, &["build", "--quiet"]);
}
