//! WebSockets, graceful shutdown and start-up, over a real socket.

use std::sync::Arc;
use std::time::Duration;

use bisslog_http::HttpServer;
use bisslog_runtime::Service;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

use crate::fixture::{Static, problem, start};

#[tokio::test]
async fn websocket_route_keys_replies_and_pushes() {
    let s = start().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", s.addr))
        .await
        .unwrap();
    use tokio_tungstenite::tungstenite::Message;
    socket
        .send(Message::text(r#"{"action": "echo", "text": "hola"}"#))
        .await
        .unwrap();
    let reply: Value =
        serde_json::from_str(socket.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(reply["echo"], "hola");
    let connection = reply["connection"].as_str().unwrap().to_owned();

    socket
        .send(Message::text(r#"{"action": "dance"}"#))
        .await
        .unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert_eq!(reply.to_text().unwrap(), r#""unknown action""#);
    // The connection's own route keys cannot be asked for by a message:
    // `$connect` (often authentication) runs once, when the client connects.
    for reserved in ["$connect", "$disconnect"] {
        socket
            .send(Message::text(format!(r#"{{"action": "{reserved}"}}"#)))
            .await
            .unwrap();
        let reply = socket.next().await.unwrap().unwrap();
        assert_eq!(
            reply.to_text().unwrap(),
            r#""unknown action""#,
            "{reserved}"
        );
    }

    socket.send(Message::text("not json")).await.unwrap();
    let reply: Value =
        serde_json::from_str(socket.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(reply["code"], "malformed-message");
    // The same problem fields as a failed use case's reply.
    assert_eq!(reply["status"], 400);
    assert_eq!(reply["title"], "Bad Request");
    assert_eq!(reply["type"], "about:blank#malformed-message");
    assert!(
        reply["transaction_id"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{reply}"
    );

    // Another request pushes to this connection through the port.
    let r = s
        .client
        .post(s.url(&format!("/notify/{connection}")))
        .json(&json!({"message": {"hello": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let pushed: Value =
        serde_json::from_str(socket.next().await.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(pushed, json!({"hello": 1}));
    let (status, _) = problem(
        s.client
            .post(s.url("/notify/gone"))
            .json(&json!({"message": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish() {
    let mut s = start().await;
    let client = s.client.clone();
    let url = s.url("/wait");
    let in_flight =
        tokio::spawn(async move { client.get(url).send().await.unwrap().text().await.unwrap() });
    s.started.notified().await;
    s.stop.take().unwrap().send(()).unwrap();
    // New connections are refused once the listener is gone.
    let mut refused = false;
    for _ in 0..10_000 {
        if tokio::net::TcpStream::connect(s.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused, "the listener still accepts after shutdown");
    s.release.notify_one();
    assert_eq!(in_flight.await.unwrap(), "\"released\"");
    tokio::time::timeout(Duration::from_secs(10), s.server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_closes_websockets_with_going_away() {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    let mut s = start().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", s.addr))
        .await
        .unwrap();
    // A reply proves the connection is open and registered.
    socket
        .send(Message::text(r#"{"action": "echo", "text": "hola"}"#))
        .await
        .unwrap();
    socket.next().await.unwrap().unwrap();

    s.stop.take().unwrap().send(()).unwrap();
    let closing = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("no Close frame at shutdown")
        .unwrap()
        .unwrap();
    let Message::Close(Some(frame)) = closing else {
        panic!("expected a Close frame, got {closing:?}");
    };
    assert_eq!(frame.code, CloseCode::Away);
    // Reading on answers the close; the closing handshake completes.
    let end = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap();
    assert!(end.is_none(), "{end:?}");
    tokio::time::timeout(Duration::from_secs(10), s.server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// Records the `address` of every event whose checkpoint id is `listening`.
#[derive(Clone, Default)]
struct Listening(Arc<std::sync::Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Listening {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        #[derive(Default)]
        struct Visit {
            checkpoint: Option<String>,
            address: Option<String>,
        }
        impl tracing::field::Visit for Visit {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                match field.name() {
                    "checkpoint_id" => self.checkpoint = Some(format!("{value:?}")),
                    "address" => self.address = Some(format!("{value:?}")),
                    _ => {}
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                self.record_debug(field, &format_args!("{value}"));
            }
        }
        let mut visit = Visit::default();
        event.record(&mut visit);
        if visit.checkpoint.as_deref() == Some("listening") {
            assert_eq!(*event.metadata().level(), tracing::Level::INFO);
            self.0
                .lock()
                .unwrap()
                .push(visit.address.unwrap_or_default());
        }
    }
}

#[tokio::test]
async fn the_bound_address_is_logged_before_accepting() {
    use tracing::instrument::WithSubscriber as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: quiet\nuse_cases:\n  hello:\n    name: hello\n    triggers: [{type: http, options: {method: get, path: /hello}}]\n",
    )
    .into_service()
    .unwrap();
    let service = Service::builder(metadata)
        .use_case("hello", Static("hi"))
        .build()
        .unwrap();
    let server = HttpServer::builder(service).build().unwrap();
    let listening = Listening::default();
    let subscriber = tracing_subscriber::registry().with(listening.clone());
    // Port 0: the log must tell the port the system chose.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bound = listener.local_addr().unwrap();
    server
        .serve_until(listener, std::future::ready(()))
        .with_subscriber(subscriber)
        .await
        .unwrap();
    assert_eq!(*listening.0.lock().unwrap(), [bound.to_string()]);
}

#[tokio::test]
async fn unknown_authenticators_and_reserved_paths_fail_at_start_up() {
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: x\nuse_cases:\n  a:\n    name: a\n    triggers: [{options: {path: /a, authenticator: admin}}]\n  b:\n    name: b\n    triggers: [{options: {path: /health/live}}]\n",
    )
    .into_service()
    .unwrap();
    let service = Service::builder(metadata)
        .use_case("a", Static("a"))
        .use_case("b", Static("b"))
        .build()
        .unwrap();
    let error = HttpServer::builder(service)
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("needs the authenticator `admin`"), "{error}");
    assert!(
        error.contains("`/health/live`, which the server reserves"),
        "{error}"
    );
}
