//! The registry binary as the runner (`bisslog::App`) makes it: every
//! standard command, configuration precedence and secrets, the ordered
//! shutdown, readiness during the drain, and a part that cannot start.
//! Real processes, in temporary directories.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{REGISTRY, Server};

const SECRET: &str = "s3cr3t-pw";

/// The registry binary in `dir`, with no configuration from the
/// environment of the test run.
fn registry(dir: &Path) -> Command {
    let mut command = Command::new(REGISTRY);
    command.current_dir(dir);
    for var in [
        "HOST",
        "PORT",
        "DATABASE_URL",
        "DATABASE_URL_FILE",
        "BROKER_URL",
        "BROKER_NAMESPACE",
        "BISSLOG_LOG_FORMAT",
        "SHUTDOWN_DELAY",
        "AUDIT_PORT",
        "AUDIT_DATABASE_URL",
        "IMPORTER_PORT",
    ] {
        command.env_remove(var);
    }
    command.env("RUST_LOG", "info").stdin(Stdio::null());
    command
}

fn run(command: &mut Command) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    (
        status.code(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

/// The line of the report about `key`.
fn line_of<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.trim_start().starts_with(key))
        .unwrap_or_else(|| panic!("no `{key}` in\n{report}"))
}

#[test]
fn config_shows_each_value_and_its_origin_file_then_env_then_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.toml");
    std::fs::write(&file, "port = 9000\nhost = \"127.0.0.1\"\n").unwrap();
    let config = |env: Option<&str>, flag: Option<&str>| {
        let mut command = registry(dir.path());
        command.arg("--config").arg(&file);
        if let Some(port) = env {
            command.env("PORT", port);
        }
        command.arg("config");
        if let Some(port) = flag {
            command.args(["--port", port]);
        }
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, Some(0), "{stderr}");
        line_of(&stdout, "port").to_owned()
    };
    let from_file = config(None, None);
    assert!(from_file.contains("9000"), "{from_file}");
    assert!(from_file.contains("registry.toml"), "{from_file}");
    let from_env = config(Some("9001"), None);
    assert!(from_env.contains("9001"), "{from_env}");
    assert!(from_env.contains("PORT"), "{from_env}");
    let from_flag = config(Some("9001"), Some("9002"));
    assert!(from_flag.contains("9002"), "{from_flag}");
    assert!(from_flag.contains("--port"), "{from_flag}");

    // The defaults of the registry and of its own settings.
    let (code, stdout, _) = run(registry(dir.path()).arg("config"));
    assert_eq!(code, Some(0));
    assert!(line_of(&stdout, "database_url").contains("sqlite://company-data-registry.db"));
    // The registry's own settings, left to their serde defaults, show unset.
    assert!(
        line_of(&stdout, "service.audit_port").contains("default"),
        "{stdout}"
    );
    let (_, stdout, _) = run(registry(dir.path())
        .env("AUDIT_PORT", "9100")
        .arg("config")
        .args(["--importer-port", "9200"]));
    let audit_port = line_of(&stdout, "service.audit_port");
    assert!(
        audit_port.contains("9100") && audit_port.contains("AUDIT_PORT"),
        "{stdout}"
    );
    let importer_port = line_of(&stdout, "service.importer_port");
    assert!(
        importer_port.contains("9200") && importer_port.contains("--importer-port"),
        "{stdout}"
    );
}

#[test]
fn a_secret_from_a_file_never_shows() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("database-url");
    std::fs::write(
        &secret,
        format!("postgres://user:{SECRET}@127.0.0.1:1/db\n"),
    )
    .unwrap();

    let (code, stdout, stderr) = run(registry(dir.path())
        .env("DATABASE_URL_FILE", &secret)
        .arg("config"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        line_of(&stdout, "database_url").contains("DATABASE_URL_FILE"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "{stdout}{stderr}"
    );

    // Nothing listens on port 1: serving fails, naming the database.
    let (code, stdout, stderr) = run(registry(dir.path())
        .env("DATABASE_URL_FILE", &secret)
        .env("BROKER_URL", "in-process")
        .env("PORT", "0"));
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("database"), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "{stdout}{stderr}"
    );
}

#[test]
fn an_unknown_key_in_the_config_file_exits_2_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.toml");
    std::fs::write(&file, "port = 9000\n\nprot = 9001\n").unwrap();
    let (code, stdout, stderr) = run(registry(dir.path()).arg("--config").arg(&file).arg("check"));
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("prot"), "{stderr}");
    assert!(
        stderr.contains("registry.toml:3:"),
        "the line of the key: {stderr}"
    );
}

#[test]
fn an_unsupported_otel_metrics_exporter_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(registry(dir.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
        .env("OTEL_METRICS_EXPORTER", "console")
        .arg("serve"));
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("OTEL_METRICS_EXPORTER"), "{stderr}");
}

#[test]
fn check_openapi_asyncapi_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(registry(dir.path()).arg("check"));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("ok: company registry data"), "{stdout}");

    let (code, stdout, stderr) = run(registry(dir.path()).arg("openapi"));
    assert_eq!(code, Some(0), "{stderr}");
    let openapi: Value = serde_json::from_str(&stdout).unwrap();
    assert!(openapi["paths"]["/schemas"].is_object(), "{openapi}");

    let (code, stdout, stderr) = run(registry(dir.path()).arg("asyncapi"));
    assert_eq!(code, Some(0), "{stderr}");
    let asyncapi: Value = serde_json::from_str(&stdout).unwrap();
    assert!(asyncapi["asyncapi"].is_string(), "{asyncapi}");
    assert!(stdout.contains("company_data.inserted"), "{stdout}");

    let (code, stdout, _) = run(registry(dir.path()).arg("metadata"));
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout.trim_end(),
        company_data_registry::METADATA.trim_end()
    );

    // None of them opened a database.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn call_on_memory_and_the_outbox_commands_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(registry(dir.path())
        .env("DATABASE_URL", "memory")
        .env("AUDIT_DATABASE_URL", "memory")
        .args(["call", "get_all_schemas", "--input", "{}"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap(),
        Value::Array(vec![])
    );

    let url = sqlite_url(dir.path(), "registry.db");
    let (code, stdout, stderr) = run(registry(dir.path())
        .env("DATABASE_URL", &url)
        .args(["outbox", "stuck"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("no stuck events (0 pending)"), "{stdout}");

    let (code, _, stderr) = run(registry(dir.path())
        .env("DATABASE_URL", &url)
        .args(["outbox", "redrive", "999"]));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("999"), "{stderr}");
}

#[test]
fn help_lists_the_commands_and_version_the_crate_s() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(registry(dir.path()).arg("--help"));
    assert_eq!(code, Some(0));
    for command in [
        "serve", "call", "config", "check", "openapi", "asyncapi", "metadata", "outbox",
    ] {
        assert!(stdout.contains(command), "{command} missing from\n{stdout}");
    }
    assert!(stdout.contains("--audit-port"), "{stdout}");
    let (code, stdout, _) = run(registry(dir.path()).arg("--version"));
    assert_eq!(code, Some(0));
    assert!(stdout.contains(env!("CARGO_PKG_VERSION")), "{stdout}");
}

/// The checkpoint ids of the shutdown, in the order they must appear.
const SHUTDOWN: [&str; 6] = [
    "[shutdown]",
    "[http-stopped]",
    "[consumers-stopped]",
    "[schedules-stopped]",
    "[relays-stopped]",
    "[stopped]",
];

#[test]
fn sigterm_stops_every_part_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path(), "registry.db");
    let server = Server::spawn_in(
        dir.path(),
        REGISTRY,
        &[("DATABASE_URL", &url), ("AUDIT_DATABASE_URL", "memory")],
        "registry data listening on http://",
    );
    server.base_of("audit listening on http://");
    server.base_of("importer listening on http://");
    server.send_signal("-TERM");
    let (status, lines) = server.wait_exit();
    assert!(status.success(), "{status:?}\n{}", lines.join("\n"));
    let positions: Vec<usize> = SHUTDOWN
        .iter()
        .map(|id| {
            lines
                .iter()
                .position(|l| l.contains(id))
                .unwrap_or_else(|| panic!("no {id} in\n{}", lines.join("\n")))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "out of order {positions:?}:\n{}",
        lines.join("\n")
    );
}

#[tokio::test]
async fn readiness_answers_503_during_the_drain() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::spawn_in(
        dir.path(),
        REGISTRY,
        &[
            ("DATABASE_URL", "memory"),
            ("AUDIT_DATABASE_URL", "memory"),
            ("SHUTDOWN_DELAY", "2s"),
        ],
        "registry data listening on http://",
    );
    let (status, _) = server
        .send(reqwest::Method::GET, "/health/ready", None)
        .await;
    assert_eq!(status, 200);
    server.send_signal("-TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut poll = tokio::time::interval(Duration::from_millis(20));
    let body = loop {
        poll.tick().await;
        let (status, body) = server
            .send(reqwest::Method::GET, "/health/ready", None)
            .await;
        if status == 503 {
            break body;
        }
        assert!(Instant::now() < deadline, "still {status} {body}");
    };
    assert_eq!(body["status"], "unready", "{body}");
    let (status, lines) = tokio::task::spawn_blocking(move || server.wait_exit())
        .await
        .unwrap();
    assert!(status.success(), "{}", lines.join("\n"));
}

#[test]
fn a_part_that_cannot_listen_stops_the_process_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stdout, stderr) = run(registry(dir.path())
        .env("DATABASE_URL", "memory")
        .env("AUDIT_DATABASE_URL", "memory")
        .env("PORT", "0")
        .env("IMPORTER_PORT", "0")
        .env("AUDIT_PORT", &port));
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("company data audit"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    drop(taken);
}

#[test]
fn the_audit_service_and_the_importer_alone_refuse_the_in_process_broker() {
    for (binary, who) in [
        (support::AUDIT, "the audit service"),
        (support::IMPORTER, "the importer"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = run(Command::new(binary)
            .current_dir(dir.path())
            .env_remove("BROKER_URL")
            .env("DATABASE_URL", "memory")
            .env("REGISTRY_DATABASE_URL", "memory")
            .env("PORT", "0")
            .stdin(Stdio::null()));
        assert_eq!(code, Some(1), "{binary}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "alone, {who} needs a broker other processes reach"
            )),
            "{stderr}"
        );
    }
}
