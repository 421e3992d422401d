//! The HTTP entry point over a real socket: routes from metadata, status
//! mapping, problem documents, limits, CORS, caching, authentication,
//! health here; WebSockets, graceful shutdown and start-up in `lifecycle`;
//! the service they all serve in `fixture`.

#![allow(clippy::unwrap_used, missing_docs)]

mod fixture;
mod lifecycle;
mod resilience;
mod traces;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use fixture::{problem, start};

#[tokio::test]
async fn success_statuses_and_default_mapping() {
    let s = start().await;
    let r = s
        .client
        .post(s.url("/add/3?ignored=1"))
        .json(&json!({"a": 1, "b": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        !r.headers().contains_key("cache-control"),
        "only cacheable routes send cache headers"
    );
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"result": 6}));

    let r = s
        .client
        .post(s.url("/things"))
        .json(&json!({"name": "lamp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"created": {"name": "lamp"}})
    );

    let r = s.client.delete(s.url("/things/7")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.bytes().await.unwrap().len(), 0);
}

#[tokio::test]
async fn transaction_ids_are_echoed_or_generated() {
    let s = start().await;
    let r = s
        .client
        .get(s.url("/me"))
        .header("authorization", "Bearer ana")
        .header("x-transaction-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-transaction-id"], "trace-42");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"user": "ana", "transaction": "trace-42"})
    );
    let r = s.client.get(s.url("/things/7")).send().await.unwrap();
    assert_eq!(r.headers()["x-transaction-id"].len(), 36);
    // A forged id with a line break is ignored and replaced.
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("x-transaction-id", "a b")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-transaction-id"], "a b");
}

#[tokio::test]
async fn domain_errors_map_to_their_statuses_as_problem_documents() {
    let s = start().await;
    let (status, body) = problem(s.client.get(s.url("/things/8")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "thing-not-found");
    assert_eq!(body["detail"], "there is no thing `8`");
    assert_eq!(body["instance"], "/things/8");
    assert_eq!(body["title"], "Not Found");
    for (kind, status) in [("not-allowed", 403), ("conflict", 409), ("invalid", 422)] {
        let (got, body) = problem(
            s.client
                .post(s.url(&format!("/fail/{kind}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(got, status, "{kind}");
        assert_eq!(body["hint"], "x", "4xx problems carry the details");
    }
    for (kind, status) in [("unavailable", 503), ("internal", 500)] {
        let (got, body) = problem(
            s.client
                .post(s.url(&format!("/fail/{kind}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(got, status, "{kind}");
        let text = body.to_string();
        assert!(
            !text.contains("secret") && !text.contains("hint"),
            "5xx bodies leak nothing: {text}"
        );
        assert!(body["transaction_id"].as_str().unwrap().len() == 36);
    }
}

#[tokio::test]
async fn bad_requests_are_told_what_is_wrong() {
    let s = start().await;
    let (status, body) = problem(
        s.client
            .post(s.url("/add/3"))
            .json(&json!({"a": "one", "b": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "a");
    let (status, body) = problem(
        s.client
            .post(s.url("/add/x"))
            .json(&json!({"a": 1, "b": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &body["errors"][0]["field"]), (422, &json!("c")));
    let (status, body) = problem(
        s.client
            .post(s.url("/add/3"))
            .json(&json!({"a": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &body["errors"][0]["field"]), (422, &json!("b")));
    // The route's flat mapper reads the body in one pass, unchecked
    // before: what is not JSON is still a malformed body, whatever part
    // of it is wrong.
    for broken in [
        "{not json",
        r#"{"a": 1, "b": "#,
        r#"{"a": 1, "b": 2} {"#,
        r#"{"a": 1, "b": 2, "x": tru}"#,
    ] {
        let r = s
            .client
            .post(s.url("/add/3"))
            .header("content-type", "application/json")
            .body(broken)
            .send()
            .await
            .unwrap();
        let (status, body) = problem(r).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("malformed-body")),
            "{broken}: {body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains("not valid JSON"),
            "{body}"
        );
    }
    let r = s
        .client
        .post(s.url("/add/3"))
        .header("content-type", "text/plain")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.0, 415);
    let (status, body) = problem(s.client.put(s.url("/add/3")).send().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method-not-allowed"))
    );
    let (status, body) = problem(s.client.get(s.url("/nowhere")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("no-route")));
}

#[tokio::test]
async fn oversized_bodies_get_413_whether_announced_or_chunked() {
    let s = start().await;
    let big = json!({"a": 1, "b": 2, "padding": "x".repeat(2000)});
    let (status, body) = problem(
        s.client
            .post(s.url("/add/1"))
            .json(&big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("body-too-large"))
    );

    // Chunked: no Content-Length, so the limit applies while reading.
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let chunk = "x".repeat(600);
    let request = format!(
        "POST /add/1 HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{len:x}\r\n{chunk}\r\n{len:x}\r\n{chunk}\r\n0\r\n\r\n",
        len = chunk.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
}

/// Sends raw bytes and reads the answer to its end (the server closes
/// the connection after refusing a request it cannot parse).
pub(crate) async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap(),
    )
}

#[tokio::test]
async fn requests_refused_below_the_router_get_problem_documents() {
    let s = start().await;
    let too_many_headers = format!(
        "GET /things/7 HTTP/1.1\r\nhost: test\r\n{}\r\n",
        (0..120)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    let long_uri = format!(
        "GET /things/{} HTTP/1.1\r\nhost: test\r\n\r\n",
        "7".repeat(70_000)
    );
    for (request, status, code) in [
        (
            b"GET /things/a\x7fb HTTP/1.1\r\nhost: test\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (too_many_headers.into_bytes(), 431, "headers-too-large"),
        (long_uri.into_bytes(), 414, "uri-too-long"),
    ] {
        let (answered, head, body) = raw(s.addr, &request).await;
        assert_eq!(answered, status, "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code);
        assert!(body["title"].is_string());
        let transaction = body["transaction_id"].as_str().unwrap();
        assert!(head.contains(&format!(
            "x-transaction-id: {}",
            transaction.to_ascii_lowercase()
        )));
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let s = start().await;
    let mut stream =
        connected_with(s.addr, b"GET /things/7 HTTP/1.1\r\nhost: test\r\nx-slow: ").await;
    assert!(!until_closed(&mut stream).await.contains(" 200 "));
}

/// A connection to `addr` on which `bytes` were sent.
async fn connected_with(addr: SocketAddr, bytes: &[u8]) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// Reads until the server closes the connection (at most 10 s): what it
/// sent on it.
async fn until_closed(stream: &mut tokio::net::TcpStream) -> String {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "the connection is still open after the header-read timeout"
    );
    String::from_utf8_lossy(&rest).into_owned()
}

#[tokio::test]
async fn a_connection_idle_after_its_answer_is_closed_after_the_header_read_timeout() {
    let s = start().await;
    let mut stream = connected_with(s.addr, b"GET /things/7 HTTP/1.1\r\nhost: test\r\n\r\n").await;
    let answered = tokio::time::Instant::now();
    let sent = until_closed(&mut stream).await;
    // Answered once, then closed without another answer, and not before
    // the timeout (300 ms in the fixture) had passed.
    assert_eq!(sent.matches("HTTP/1.1 ").count(), 1, "{sent}");
    assert!(sent.starts_with("HTTP/1.1 200 "), "{sent}");
    assert!(answered.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_request_in_progress_and_a_websocket_outlive_the_header_read_timeout() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let s = start().await;
    // A request whose use case waits for the test, on a connection of its
    // own, and a WebSocket.
    let mut waiting = connected_with(s.addr, b"GET /wait HTTP/1.1\r\nhost: test\r\n\r\n").await;
    s.started.notified().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", s.addr))
        .await
        .unwrap();
    // A connection that sends nothing, accepted after both: once it is
    // closed, a whole timeout has passed over them.
    let mut idle = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    assert_eq!(until_closed(&mut idle).await, "");
    s.release.notify_one();
    let mut head = [0u8; 12];
    waiting.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    socket
        .send(Message::text(r#"{"action": "echo", "text": "still here"}"#))
        .await
        .unwrap();
    let reply: Value =
        serde_json::from_str(socket.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(reply["echo"], "still here");
}

#[tokio::test]
async fn a_slow_use_case_times_out_with_504() {
    let s = start().await;
    let (status, body) = problem(s.client.get(s.url("/slow")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (504, Some("timeout")));
}

#[tokio::test]
async fn a_panic_fails_its_request_and_the_server_keeps_serving() {
    let s = start().await;
    for _ in 0..3 {
        let (status, body) = problem(s.client.get(s.url("/boom")).send().await.unwrap()).await;
        assert_eq!(status, 500);
        assert!(!body.to_string().contains("exploded"));
        let r = s.client.get(s.url("/things/7")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let s = start().await;
    for _ in 0..2 {
        assert_eq!(
            s.client
                .get(s.url("/limited"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let r = s.client.get(s.url("/limited")).send().await.unwrap();
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(problem(r).await.0, 429);
}

#[tokio::test]
async fn authenticators_guard_their_routes() {
    let s = start().await;
    let (status, body) = problem(s.client.get(s.url("/me")).send().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("no-credentials"))
    );
    let r = s
        .client
        .get(s.url("/me"))
        .header("authorization", "Bearer luis")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["user"], "luis");
}

#[tokio::test]
async fn cors_routes_answer_preflights_and_name_allowed_origins() {
    let s = start().await;
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/cors"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-transaction-id")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(r.headers()["access-control-allow-methods"], "GET");
    let r = s
        .client
        .get(s.url("/cors"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let r = s
        .client
        .get(s.url("/cors"))
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("access-control-allow-origin"));
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers().contains_key("access-control-allow-origin"),
        "routes without allow_cors stay closed"
    );
}

#[tokio::test]
async fn cacheable_get_routes_send_etags_and_honour_if_none_match() {
    let s = start().await;
    let r = s.client.get(s.url("/things/7")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "public, max-age=60");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = s
        .client
        .get(s.url("/things/7"))
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn health_endpoints_ask_the_adapters() {
    let s = start().await;
    let r = s.client.get(s.url("/health/live")).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "alive"}));
    let r = s.client.get(s.url("/health/ready")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    s.database_up.store(false, Ordering::SeqCst);
    let r = s.client.get(s.url("/health/ready")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.json::<Value>().await.unwrap()["failing"]["things_db"],
        "the database does not answer"
    );
}
