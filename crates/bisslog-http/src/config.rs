//! Server settings with safe defaults.

use std::time::Duration;

/// How the HTTP server protects itself and where it serves WebSockets.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The largest request body accepted; larger ones get 413, whether the
    /// size is announced or the body is chunked. Default: 1 MiB.
    pub body_limit: usize,
    /// How long a connection with no request in progress (just accepted,
    /// or its last response sent) may take to send a complete request
    /// head before it is closed without an answer: a slow-headers attack,
    /// or an idle keep-alive connection. Closed after between 1 and 1.25
    /// times this (the connection's task looks every quarter of it, on one
    /// timer per connection, rather than a timer per request). Default:
    /// 10 s. `None` behind a proxy that enforces its own limit.
    pub header_read_timeout: Option<Duration>,
    /// How long a use case may run when its trigger declares no `timeout`;
    /// past it the request gets 504. Default: 30 s.
    pub request_timeout: Duration,
    /// How long a shutdown waits for requests in flight. Default: 30 s.
    pub shutdown_grace: Duration,
    /// How long cacheable GET responses may be cached (`Cache-Control:
    /// max-age`). Default: 60 s.
    pub cache_max_age: Duration,
    /// The path of the WebSocket endpoint, when the service has WebSocket
    /// triggers. Default: `/ws`.
    pub websocket_path: String,
    /// The field of an incoming WebSocket JSON message that selects the
    /// route key, as API Gateway's `$request.body.action`. Default: `action`.
    pub route_selection_field: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            header_read_timeout: Some(Duration::from_secs(10)),
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            cache_max_age: Duration::from_secs(60),
            websocket_path: "/ws".to_owned(),
            route_selection_field: "action".to_owned(),
        }
    }
}
