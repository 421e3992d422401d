//! `hello` as its users run it: the binary, on a real socket, stopped by
//! its own pid; and its standard commands.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const HELLO: &str = env!("CARGO_BIN_EXE_hello");

/// `hello` serving on a free port; killed if the test fails.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    base: String,
}

impl Running {
    fn start(env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(HELLO);
        command
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .env_remove("BISSLOG_LOG_FORMAT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut running = Running {
            child,
            lines,
            seen: Vec::new(),
            base: String::new(),
        };
        let listening = running.line_with("hello listening on http://");
        let address = listening
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap();
        running.base = format!("http://{address}");
        running
    }

    /// The next line containing `wanted`, within 30 s.
    fn line_with(&mut self, wanted: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no `{wanted}` line; printed:\n{}", self.seen.join("\n"))
            });
            self.seen.push(line.clone());
            if line.contains(wanted) {
                return line;
            }
        }
    }

    /// Sends SIGTERM; the exit status, and every line printed.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        let mut seen = std::mem::take(&mut self.seen);
        seen.extend(self.lines.try_iter());
        (status, seen)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command of `hello`: exit code, standard output, standard error.
fn hello(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(HELLO);
    command.args(args).env_remove("PORT").env_remove("RUST_LOG");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn serves_greets_documents_and_stops_in_order() {
    let server = Running::start(&[]);
    let client = reqwest::Client::new();
    let greeting: serde_json::Value = client
        .get(format!("{}/hello/Ana", server.base))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(greeting, serde_json::json!({"message": "Hello, Ana!"}));

    let document: serde_json::Value = client
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ok = &document["paths"]["/hello/{name}"]["get"]["responses"]["200"];
    assert!(
        ok["content"]["application/json"]["schema"]
            .to_string()
            .contains("Greeting"),
        "{ok}"
    );
    let ready = client
        .get(format!("{}/health/ready", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let (status, lines) = server.terminate();
    assert!(status.success(), "{status}");
    let position = |checkpoint: &str| {
        lines
            .iter()
            .position(|l| l.contains(&format!("[{checkpoint}]")))
            .unwrap_or_else(|| panic!("no {checkpoint} line in:\n{}", lines.join("\n")))
    };
    assert!(position("shutdown") < position("http-stopped"));
    assert!(position("http-stopped") < position("consumers-stopped"));
    assert!(position("schedules-stopped") < position("stopped"));
    // The runner serves consumers and schedules: nothing is reported unserved.
    assert!(!lines.iter().any(|l| l.contains("trigger-not-served")));
}

#[tokio::test]
async fn readiness_is_false_while_draining() {
    let server = Running::start(&[("SHUTDOWN_DELAY", "20s")]);
    let client = reqwest::Client::new();
    let ready = format!("{}/health/ready", server.base);
    assert_eq!(client.get(&ready).send().await.unwrap().status(), 200);
    let sent = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    // Still serving, but no longer ready, until the delay ends.
    let mut answer = None;
    for _ in 0..200 {
        let response = client.get(&ready).send().await.unwrap();
        if response.status() == 503 {
            answer = Some(response.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let answer = answer.expect("readiness stayed 200 after SIGTERM");
    assert_eq!(answer["status"], "unready");
    assert!(answer["failing"]["service"].is_string(), "{answer}");
    let greeting = client
        .get(format!("{}/hello/Ana", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(greeting.status(), 200, "requests are still served");
}

#[test]
fn has_the_standard_commands() {
    let (code, out, _) = hello(&["--version"], &[]);
    assert_eq!((code, out.trim()), (0, "hello 0.1.0"));

    let (code, out, _) = hello(&["--help"], &[]);
    assert_eq!(code, 0);
    for command in [
        "serve", "call", "config", "check", "openapi", "asyncapi", "metadata", "outbox",
    ] {
        assert!(out.contains(command), "{command} missing from:\n{out}");
    }

    let (code, out, _) = hello(&["call", "greet", "--input", r#"{"name": "Ana"}"#], &[]);
    assert_eq!((code, out.trim()), (0, r#"{"message":"Hello, Ana!"}"#));

    let (code, out, _) = hello(&["check"], &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: hello"), "{out}");

    let (code, out, _) = hello(&["metadata"], &[]);
    assert_eq!((code, out.as_str()), (0, include_str!("../metadata.yml")));

    let (code, out, _) = hello(&["openapi"], &[]);
    assert_eq!(code, 0);
    let document: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(document["paths"]["/hello/{name}"]["get"].is_object());

    let (code, out, _) = hello(&["asyncapi"], &[]);
    assert_eq!(code, 0);
    let document: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(document["asyncapi"], "3.0.0");
}

#[test]
fn configuration_precedence_is_file_env_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.toml");
    std::fs::write(&file, "port = 9000\nhost = \"127.0.0.1\"\n").unwrap();
    let file = file.to_str().unwrap();

    let (code, out, _) = hello(&["--config", file, "config"], &[]);
    assert_eq!(code, 0);
    let port = out.lines().find(|l| l.starts_with("port")).unwrap();
    assert!(
        port.contains("9000") && port.contains("hello.toml:1"),
        "{port}"
    );

    let (_, out, _) = hello(&["--config", file, "config"], &[("PORT", "9100")]);
    let port = out.lines().find(|l| l.starts_with("port")).unwrap();
    assert!(port.contains("9100") && port.contains("env PORT"), "{port}");

    let (_, out, _) = hello(
        &["--config", file, "--port", "9200", "config"],
        &[("PORT", "9100")],
    );
    let port = out.lines().find(|l| l.starts_with("port")).unwrap();
    assert!(
        port.contains("9200") && port.contains("flag --port"),
        "{port}"
    );
}

#[test]
fn bad_configuration_exits_2_naming_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.toml");
    std::fs::write(&file, "port = 9000\nprot = 1\n").unwrap();
    let (code, _, err) = hello(&["--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("hello.toml:2") && err.contains("`prot`"),
        "{err}"
    );

    let (code, _, err) = hello(&["config"], &[("PORT", "eighty")]);
    assert_eq!(code, 2);
    assert!(err.contains("`port`") && err.contains("env PORT"), "{err}");
}

#[test]
fn secrets_never_show_and_a_failed_part_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("database_url");
    std::fs::write(&secret, "postgres://hello:s3cr3t-pw@127.0.0.1:1/hello\n").unwrap();
    let env = [("DATABASE_URL_FILE", secret.to_str().unwrap())];

    let (code, out, err) = hello(&["config"], &env);
    assert_eq!(code, 0);
    assert!(
        !out.contains("s3cr3t-pw") && !err.contains("s3cr3t-pw"),
        "{out}{err}"
    );
    let url = out.lines().find(|l| l.starts_with("database_url")).unwrap();
    assert!(url.contains("= ***  # env DATABASE_URL_FILE"), "{url}");

    // hello is built without SQL: the database cannot be opened, and the
    // message says so without the password.
    let (code, out, err) = hello(&[], &[env[0], ("PORT", "0")]);
    assert_eq!(code, 1);
    assert!(
        !out.contains("s3cr3t-pw") && !err.contains("s3cr3t-pw"),
        "{out}{err}"
    );
    assert!(err.contains("DATABASE_URL"), "{err}");
}

#[test]
fn a_port_in_use_stops_the_start_naming_the_part() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, _, err) = hello(&[], &[("PORT", &port)]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("hello cannot listen on 127.0.0.1:{port}")) && err.contains("PORT"),
        "{err}"
    );
}
