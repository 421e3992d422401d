//! `GET /metrics` over a real socket: the routes' requests timed by route
//! template and status class, the use-case calls behind them, and the
//! endpoint turned off.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog_core::{Ctx, Error, ErrorKind, UseCase};
use bisslog_http::HttpServer;
use bisslog_runtime::Service;
use tokio::sync::oneshot;

const METADATA: &str = r#"
name: users
use_cases:
  get_user:
    criticality: critical
    triggers:
      - {type: http, options: {method: get, path: "/users/{id}", mapper: {path_query.id: id}}}
      - {type: http, options: {method: get, path: "/slow/{id}", mapper: {path_query.id: id}, timeout: 50}}
"#;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Id {
    id: String,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct User {
    id: String,
}

struct GetUser;

impl UseCase for GetUser {
    type Input = Id;
    type Output = User;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Id) -> Result<User, Error> {
        match input.id.as_str() {
            "404" => Err(Error::new(ErrorKind::NotFound, "no-user", "no such user")),
            "500" => Err(Error::internal("it broke")),
            "hang" => std::future::pending().await,
            _ => Ok(User { id: input.id }),
        }
    }
}

/// A server on 127.0.0.1; its base URL and what stops it.
async fn start(endpoint: bool) -> (String, oneshot::Sender<()>) {
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .unwrap();
    let service = Service::builder(metadata)
        .use_case("get_user", GetUser)
        .build()
        .unwrap();
    let server = HttpServer::builder(service)
        .metrics_endpoint(endpoint)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.serve_until(listener, async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

/// The line of the series with exactly these labels (in the encoder's
/// order), and its value.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn requests_are_timed_by_route_template_and_status_class() {
    let (base, stop) = start(true).await;
    let client = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap();
    for id in ["1", "2", "3", "404", "500"] {
        client
            .get(format!("{base}/users/{id}"))
            .send()
            .await
            .unwrap();
    }
    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        bisslog_runtime::metrics::CONTENT_TYPE
    );
    let text = response.text().await.unwrap();
    let http = |class: &str| {
        value(
            &text,
            &format!(
                r#"bisslog_http_request_duration_seconds_count{{service="users",method="GET",route="/users/{{id}}",status_class="{class}"}}"#
            ),
        )
    };
    assert_eq!(http("2xx"), Some(3.0), "{text}");
    assert_eq!(http("4xx"), Some(1.0));
    assert_eq!(http("5xx"), Some(1.0));
    let calls = |rest: &str| {
        value(
            &text,
            &format!(
                r#"bisslog_use_case_calls_total{{service="users",use_case="get_user",trigger="http",outcome={rest}}}"#
            ),
        )
    };
    assert_eq!(calls(r#""success",criticality="critical""#), Some(3.0));
    assert_eq!(
        calls(r#""failure",criticality="critical",error_kind="not_found""#),
        Some(1.0)
    );
    assert_eq!(
        calls(r#""failure",criticality="critical",error_kind="internal""#),
        Some(1.0)
    );
    let _ = stop.send(());
}

/// A call given up at the route's `timeout` (504) counts as a failure of
/// kind `timeout`, timed at the limit, and leaves nothing in flight.
#[tokio::test]
async fn a_call_past_its_timeout_counts_as_a_timeout_failure() {
    let (base, stop) = start(true).await;
    let client = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap();
    let response = client
        .get(format!("{base}/slow/hang"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = |name: &str, rest: &str| {
        value(
            &text,
            &format!(r#"{name}{{service="users",use_case="get_user",trigger="http",{rest}}}"#),
        )
    };
    assert_eq!(
        series(
            "bisslog_use_case_calls_total",
            r#"outcome="failure",criticality="critical",error_kind="timeout""#
        ),
        Some(1.0),
        "{text}"
    );
    let failure = r#"outcome="failure",criticality="critical""#;
    assert_eq!(
        series("bisslog_use_case_duration_seconds_sum", failure),
        Some(0.05)
    );
    assert!(
        text.contains(
            r#"bisslog_use_case_in_flight{service="users",use_case="get_user",trigger="http"} 0"#
        ),
        "{text}"
    );
    let _ = stop.send(());
}

#[tokio::test]
async fn the_endpoint_can_be_turned_off() {
    let (base, stop) = start(false).await;
    let response = bisslog_runtime::tls::client_builder(&Default::default(), false)
        .unwrap()
        .build()
        .unwrap()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let _ = stop.send(());
}
