//! A real SIGTERM: the test binary runs itself as a server in a child
//! process, starts a request, signals the child by its pid while the
//! request is in flight, and checks that the request finishes and the
//! process exits cleanly.

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use bisslog_core::{Ctx, Error, NoInput, UseCase};
use bisslog_http::HttpServer;
use bisslog_runtime::Service;

const CHILD: &str = "BISSLOG_SIGTERM_CHILD";

/// Takes a while to answer: the work a shutdown must wait for.
struct Work;

impl UseCase for Work {
    type Input = NoInput;
    type Output = &'static str;
    type Error = Error;

    async fn run(&self, _: &Ctx, _: NoInput) -> Result<&'static str, Error> {
        println!("work started");
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok("finished")
    }
}

/// The child: serves until SIGTERM, printing its address. Ignored in a
/// plain run (it would serve forever); the test below runs it, in a
/// process of its own, with `--ignored`.
#[tokio::test]
#[ignore = "the child process of sigterm_lets_requests_in_flight_finish, which runs it"]
async fn serve_until_sigterm() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "run by sigterm_lets_requests_in_flight_finish, not by hand"
    );
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: s\nuse_cases:\n  work:\n    name: work\n    triggers: [{type: http, options: {path: /work}}]\n",
    )
    .into_service()
    .unwrap();
    let service = Service::builder(metadata)
        .use_case("work", Work)
        .build()
        .unwrap();
    let server = HttpServer::builder(service).build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening {}", listener.local_addr().unwrap());
    server.serve(listener).await.unwrap();
    println!("stopped cleanly");
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "serve_until_sigterm",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // If anything below hangs, the watchdog kills the child (by its pid),
    // which ends the output the test is reading.
    let (done, watchdog) = std::sync::mpsc::channel::<()>();
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        if watchdog.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    let address = lines
        .by_ref()
        // libtest prints `test ... ` before the child's first line.
        .find_map(|line| line.split("listening ").nth(1).map(str::to_owned))
        .unwrap();

    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /work HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    assert!(lines.by_ref().any(|line| line.contains("work started")));

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());

    let mut response = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("\"finished\""), "{response}");

    assert!(lines.any(|line| line.contains("stopped cleanly")));
    let status = child.wait().unwrap();
    let _ = done.send(());
    assert!(status.success(), "{status}");
}
