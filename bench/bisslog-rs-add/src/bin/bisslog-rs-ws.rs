//! A bisslog-rs service with WebSocket triggers, for the memory an idle
//! connection costs against the hand-written axum server
//! (`bench/ws-idle-memory.sh`, raw-registry-write's `raw-ws`): `$connect`
//! accepts, `$default` answers every message; the connections are kept in
//! a `WebSocketRegistry`, as a service that pushes to them would.
//! Listens on 127.0.0.1:$PORT (default 8080), endpoint `/ws`; stops on
//! SIGTERM or Ctrl-C.
use bisslog_core::{Ctx, Error, NoInput, UseCase};
use bisslog_http::{HttpServer, WebSocketRegistry};
use bisslog_runtime::Service;

const METADATA: &str = "
name: websocket idle bench
type: microservice
service_type: functional
team: bench
description: accepts WebSocket connections and answers their messages
use_cases:
  connect:
    name: accepts a connection
    triggers: [{type: websocket, options: {routeKey: $connect}}]
  answer:
    name: answers a message
    triggers: [{type: websocket, options: {routeKey: $default}}]
";

struct Static(&'static str);

impl UseCase for Static {
    type Input = NoInput;
    type Output = &'static str;
    type Error = Error;

    async fn run(&self, _: &Ctx, _: NoInput) -> Result<&'static str, Error> {
        Ok(self.0)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    bisslog_runtime::logging::init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let metadata = bisslog_schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .map_err(|report| {
            bisslog_schema::render_report(&report, bisslog_schema::RenderOptions::default())
        })?;
    let service = Service::builder(metadata)
        .use_case("connect", Static("welcome"))
        .use_case("answer", Static("ok"))
        .build()?;
    let server = HttpServer::builder(service)
        .websockets(WebSocketRegistry::new())
        .build()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    server.serve(listener).await?;
    Ok(())
}
