//! The HTTP server: the router built from the metadata, health endpoints,
//! and a hardened accept loop with graceful shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get, on};
use bisslog_core::Trigger;
use bisslog_runtime::Service;
use http::{HeaderValue, StatusCode, header};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::api_docs::ApiDocs;
use crate::auth::Authenticator;
use crate::config::HttpConfig;
use crate::error::HttpError;
use crate::handler::{self, Shared};
use crate::header_timeout::{Activity, HeadTimeout, Reporting};
use crate::headers::transaction_id;
use crate::problem::{Problem, ProblemIntoResponse as _, StatusPolicy};
use crate::rejections::ProblemRejections;
use crate::routes::{self, PathGroup, Route};
use crate::websocket::{self, WebSocketRegistry};

/// Serves a [`Service`]'s HTTP and WebSocket triggers.
///
/// ```no_run
/// # async fn run(service: bisslog_runtime::Service) -> Result<(), Box<dyn std::error::Error>> {
/// use bisslog_http::HttpServer;
///
/// let server = HttpServer::builder(service).build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// server.serve(listener).await?; // until SIGTERM or Ctrl-C, then drains
/// # Ok(()) }
/// ```
pub struct HttpServer {
    service: Service,
    router: Router,
    config: HttpConfig,
    policy: StatusPolicy,
    served_elsewhere: Vec<Trigger>,
    websockets: WebSocketRegistry,
    websocket_routes: websocket::WebSocketRoutes,
    shared: Arc<Shared>,
    /// How the routes are guarded, for the OpenAPI document.
    authentication: bisslog_openapi::Authentication,
}

/// Configures an [`HttpServer`].
pub struct HttpServerBuilder {
    service: Service,
    config: HttpConfig,
    policy: StatusPolicy,
    authenticators: HashMap<String, Arc<dyn Authenticator>>,
    default_authenticator: Option<String>,
    websocket_authenticator: Option<String>,
    websockets: WebSocketRegistry,
    served_elsewhere: Vec<Trigger>,
    api_docs: Option<ApiDocs>,
    extra: Option<Router>,
    metrics_endpoint: bool,
    observed_interactions_endpoint: bool,
}

impl HttpServer {
    /// Starts configuring a server for `service`.
    pub fn builder(service: Service) -> HttpServerBuilder {
        HttpServerBuilder {
            service,
            config: HttpConfig::default(),
            policy: StatusPolicy::default(),
            authenticators: HashMap::new(),
            default_authenticator: None,
            websocket_authenticator: None,
            websockets: WebSocketRegistry::new(),
            served_elsewhere: Vec::new(),
            api_docs: None,
            extra: None,
            metrics_endpoint: true,
            observed_interactions_endpoint: true,
        }
    }

    /// The axum router, for tests or to embed in a larger application.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The service it serves.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Which HTTP status each error kind gets.
    pub fn status_policy(&self) -> &StatusPolicy {
        &self.policy
    }

    /// The OpenAPI document of the server's service as `docs` describes
    /// it: what [`HttpServerBuilder::openapi`] serves at `/openapi.json`,
    /// with the security schemes of the authenticators this server
    /// registered and the one guarding each route.
    pub fn openapi_document(&self, docs: &ApiDocs) -> serde_json::Value {
        docs.document_guarded(&self.service, &self.policy, &self.authentication)
    }

    /// The server's settings.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Answers one text message of a WebSocket connection exactly as the
    /// WebSocket endpoint does on an open connection: routed by the
    /// message's [route selection field](HttpConfig::route_selection_field)
    /// (or `$default`), mapped, and called with the `connection_id`
    /// attribute; the reply frame is the use case's output, or the problem
    /// document of its failure or of a message refused (not JSON, no
    /// route). `None` when the use case replies nothing.
    ///
    /// For tests that drive WebSocket triggers without a connection
    /// (`bisslog_testkit::TestService::websocket`).
    pub async fn websocket_message(
        &self,
        connection_id: &str,
        headers: &http::HeaderMap,
        text: &str,
    ) -> Option<serde_json::Value> {
        self.websocket_message_as(None, connection_id, headers, text)
            .await
    }

    /// [`websocket_message`](Self::websocket_message) on a connection
    /// whose upgrade authenticated `caller` (an authenticator's
    /// attributes): they are the call's context attributes and the route
    /// key's authorization rule is decided against them, a refusal
    /// replied as its problem document (401 or 403). With `None`, as
    /// without an authenticator: the rule is not enforced.
    pub async fn websocket_message_as(
        &self,
        caller: Option<&serde_json::Map<String, serde_json::Value>>,
        connection_id: &str,
        headers: &http::HeaderMap,
        text: &str,
    ) -> Option<serde_json::Value> {
        websocket::handle_message(
            &self.websocket_routes,
            &self.shared,
            connection_id,
            caller,
            headers,
            text,
            crate::trace::incoming(headers).as_ref(),
        )
        .await
    }

    /// Serves on `listener` until SIGTERM or Ctrl-C, then stops accepting,
    /// lets requests in flight finish and closes every open WebSocket
    /// connection with a Close frame of code 1001 (Going Away), all within
    /// `shutdown_grace`.
    ///
    /// Before accepting, it logs at INFO, with the checkpoint id
    /// `listening` and an `address` field, the address it actually serves
    /// on (a listener bound to port 0 shows the port it got).
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        self.serve_until(listener, shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then drains as [`serve`](Self::serve) does.
    pub async fn serve_until(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        match listener.local_addr() {
            Ok(address) => tracing::info!(
                checkpoint_id = "listening",
                %address,
                "{} listening on http://{address}",
                self.service.name()
            ),
            Err(error) => tracing::warn!(
                checkpoint_id = "listening",
                %error,
                "listening on an address the listener cannot tell"
            ),
        }
        self.report_unserved();
        // Each connection task watches `stop` to begin a graceful close, and
        // holds a `running` receiver: `running_tx.closed()` completes once
        // every connection has ended.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (running_tx, running_rx) = tokio::sync::watch::channel(());
        let mut shutdown = std::pin::pin!(shutdown);
        let header_read_timeout = self.config.header_read_timeout;
        loop {
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let router = self.router.clone();
            let mut stop = stop_rx.clone();
            let running = running_rx.clone();
            tokio::spawn(async move {
                let activity = Arc::new(Activity::default());
                let service = Reporting::new(router, Arc::clone(&activity));
                let connection = http1::Builder::new()
                    .serve_connection(ProblemRejections::new(TokioIo::new(stream)), service)
                    .with_upgrades();
                let mut connection = std::pin::pin!(connection);
                // One wait for the stop signal, registered once: re-creating
                // it on every wake-up of the connection would lock the
                // channel's waiter list for every request.
                let mut stopped = std::pin::pin!(stop.changed());
                let mut stopping = false;
                // The header-read timeout, by this task rather than hyper's
                // timer (see `header_timeout`).
                let mut timeout =
                    header_read_timeout.map(|timeout| HeadTimeout::new(timeout, activity));
                let ended = std::future::poll_fn(|cx| {
                    loop {
                        if let Poll::Ready(result) = connection.as_mut().poll(cx) {
                            return Poll::Ready(result.map_err(|error| error.to_string()));
                        }
                        if !stopping && let Poll::Ready(changed) = stopped.as_mut().poll(cx) {
                            stopping = true;
                            if changed.is_ok() {
                                connection.as_mut().graceful_shutdown();
                                // Polled again at once: a connection with
                                // no request in flight ends now.
                                continue;
                            }
                        }
                        if timeout.as_mut().is_some_and(|timeout| timeout.expired(cx)) {
                            return Poll::Ready(Err(
                                "no complete request head within the header-read timeout"
                                    .to_owned(),
                            ));
                        }
                        return Poll::Pending;
                    }
                })
                .await;
                if let Err(error) = ended {
                    tracing::debug!(%remote, %error, "connection ended with an error");
                }
                drop(running);
            });
        }
        drop(listener);
        drop(running_rx);
        tracing::info!(
            checkpoint_id = "shutdown",
            "{}: draining requests in flight",
            self.service.name()
        );
        let _ = stop_tx.send(true);
        // Upgraded connections have left hyper: tell WebSocket clients the
        // server is going away, and wait for their closing handshakes.
        self.websockets.going_away();
        let drained = async {
            running_tx.closed().await;
            self.websockets.all_closed().await;
        };
        tokio::select! {
            () = drained => tracing::info!(checkpoint_id = "shutdown", "{}: all requests finished", self.service.name()),
            () = tokio::time::sleep(self.config.shutdown_grace) => {
                tracing::warn!(checkpoint_id = "shutdown", "{}: requests still in flight after {:?}; stopping", self.service.name(), self.config.shutdown_grace);
            }
        }
        Ok(())
    }

    /// Logs, at start-up, every trigger this process does not serve.
    fn report_unserved(&self) {
        let mut served = vec![Trigger::Http, Trigger::WebSocket];
        served.extend(&self.served_elsewhere);
        for unserved in self.service.unserved_triggers(&served) {
            tracing::warn!(
                checkpoint_id = "trigger-not-served",
                "the {} trigger of use case `{}` ({}) is not served by this process",
                unserved.trigger,
                unserved.use_case,
                unserved.description
            );
        }
    }

    /// The local address a listener is bound to, for start-up messages.
    pub fn describe(listener: &TcpListener) -> Option<SocketAddr> {
        listener.local_addr().ok()
    }
}

impl HttpServerBuilder {
    /// Declares the kinds of trigger that other entry points of this
    /// process serve (`[Trigger::Consumer, Trigger::Schedule]`), so the
    /// start-up report of unserved triggers leaves them out.
    #[must_use]
    pub fn served_elsewhere(mut self, triggers: impl IntoIterator<Item = Trigger>) -> Self {
        self.served_elsewhere.extend(triggers);
        self
    }

    /// Uses these settings.
    #[must_use]
    pub fn config(mut self, config: HttpConfig) -> Self {
        self.config = config;
        self
    }

    /// Overrides which HTTP status an error kind gets.
    #[must_use]
    pub fn status_policy(mut self, policy: StatusPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Registers the authenticator routes name in their `authenticator`.
    #[must_use]
    pub fn authenticator(
        mut self,
        name: impl Into<String>,
        authenticator: impl Authenticator,
    ) -> Self {
        self.authenticators
            .insert(name.into(), Arc::new(authenticator));
        self
    }

    /// Guards every metadata HTTP route that names no `authenticator` of
    /// its own with the authenticator registered under `name`: a service
    /// whose every route needs a caller says so once. Routes that name an
    /// authenticator keep theirs. The server's own endpoints (`/health/*`,
    /// `/metrics`, `/interactions/observed`, `/openapi.json`, `/docs`) and
    /// extra [`routes`](Self::routes) stay open. A `name` that is not
    /// registered is a [`HttpError::UnknownAuthenticator`] at
    /// [`build`](Self::build).
    #[must_use]
    pub fn authenticate_all_with(mut self, name: impl Into<String>) -> Self {
        self.default_authenticator = Some(name.into());
        self
    }

    /// Authenticates WebSocket upgrade requests with the authenticator
    /// registered under `name`, instead of the
    /// [`authenticate_all_with`](Self::authenticate_all_with) one (which
    /// authenticates them when this is not called). A refused upgrade is
    /// answered with the authenticator's 401 (and its `WWW-Authenticate`
    /// challenge) or 403, and `$connect` does not run; an accepted one
    /// keeps the caller's attributes for the whole connection: they are
    /// context attributes of `$connect`, of every message's call and of
    /// `$disconnect`, and each route key's `authorization` rule is
    /// decided against them. Only headers are read: a browser cannot set
    /// them on a WebSocket upgrade (see `docs/security.md`). A `name` that
    /// is not registered is a [`HttpError::UnknownAuthenticator`] at
    /// [`build`](Self::build).
    #[must_use]
    pub fn websocket_authenticator(mut self, name: impl Into<String>) -> Self {
        self.websocket_authenticator = Some(name.into());
        self
    }

    /// Uses this registry of WebSocket connections (give the same one to
    /// use cases that send to connections).
    #[must_use]
    pub fn websockets(mut self, registry: WebSocketRegistry) -> Self {
        self.websockets = registry;
        self
    }

    /// Serves the service's OpenAPI document at `/openapi.json` and its
    /// HTML rendering at `/docs`, built once here from the metadata and
    /// the types `docs` describes. Off unless called.
    #[must_use]
    pub fn openapi(mut self, docs: ApiDocs) -> Self {
        self.api_docs = Some(docs);
        self
    }

    /// Serves these routes too (the service runner's operator endpoints).
    /// A path that one of the metadata's routes also has is a
    /// [`HttpError::RouteConflict`] at [`build`](Self::build).
    #[must_use]
    pub fn routes(mut self, routes: Router) -> Self {
        self.extra = Some(match self.extra.take() {
            Some(before) => before.merge(routes),
            None => routes,
        });
        self
    }

    /// Whether to serve `GET /metrics`, the service's
    /// [metrics](bisslog_runtime::metrics) in the OpenMetrics text format
    /// Prometheus scrapes. On by default when the service keeps metrics
    /// (see `ServiceBuilder::metrics`); the routes' requests are timed
    /// either way.
    #[must_use]
    pub fn metrics_endpoint(mut self, serve: bool) -> Self {
        self.metrics_endpoint = serve;
        self
    }

    /// Whether to serve `GET /interactions/observed`: the use cases seen
    /// calling each external interaction
    /// ([`ObservedInteractions`](bisslog_runtime::resilience::ObservedInteractions)),
    /// which `bisslog drift --from` compares with the metadata. On by
    /// default, like `/metrics`; the runner turns both off with
    /// `BISSLOG_METRICS=false`.
    #[must_use]
    pub fn observed_interactions_endpoint(mut self, serve: bool) -> Self {
        self.observed_interactions_endpoint = serve;
        self
    }

    /// Compiles the routes; fails listing every route it cannot serve.
    pub fn build(self) -> Result<HttpServer, HttpError> {
        let groups = routes::route_table(
            &self.service,
            &self.authenticators,
            self.default_authenticator.as_deref(),
            &self.config,
        )
        .map_err(HttpError::Many)?;
        let shared = Arc::new(Shared {
            policy: self.policy.clone(),
            config: self.config.clone(),
        });
        let mut router = Router::new();
        for group in groups {
            let methods = method_router(&group, &shared);
            let path = group.router_path.clone();
            // The router panics on paths it cannot represent; report them.
            router = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                router.route(&path, methods)
            }))
            .map_err(|panic| HttpError::RouteConflict {
                path: group.routes[0].path.clone(),
                reason: panic_message(panic.as_ref()),
            })?;
        }
        let service = self.service.clone();
        router = router
            .route("/health/live", get(live))
            .route("/health/ready", get(move || ready(service.clone())));
        if self.metrics_endpoint
            && let Some(metrics) = self.service.metrics()
        {
            let metrics = metrics.clone();
            router = router.route(METRICS_PATH, get(move || scrape(metrics.clone())));
        }
        if self.observed_interactions_endpoint {
            let service = self.service.clone();
            let observed = get(move || observed_interactions(service.clone()));
            // A metadata route may already take the path.
            router = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                router.route(OBSERVED_INTERACTIONS_PATH, observed)
            }))
            .map_err(|panic| HttpError::RouteConflict {
                path: OBSERVED_INTERACTIONS_PATH.to_owned(),
                reason: panic_message(panic.as_ref()),
            })?;
        }
        let authentication = crate::api_docs::authentication(
            &self.authenticators,
            self.default_authenticator.as_deref(),
        );
        if let Some(docs) = self.api_docs {
            router = crate::api_docs::routes(
                router,
                &docs,
                &self.service,
                &self.policy,
                &authentication,
            )?;
        }
        if let Some(extra) = self.extra {
            router = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| router.merge(extra)))
                .map_err(|panic| HttpError::RouteConflict {
                    path: "(extra routes)".to_owned(),
                    reason: panic_message(panic.as_ref()),
                })?;
        }
        let websocket_authenticator = self
            .websocket_authenticator
            .as_deref()
            .or(self.default_authenticator.as_deref());
        if let Some(ws) = websocket::endpoint(
            &self.service,
            &self.websockets,
            &shared,
            &self.authenticators,
            websocket_authenticator,
            &self.config.websocket_path,
        )? {
            router = router.route(&self.config.websocket_path, ws);
        }
        let websocket_routes = websocket::WebSocketRoutes::new(&self.service);
        let shared_fallback = Arc::clone(&shared);
        router =
            router.fallback(move |request: Request| not_found(request, shared_fallback.clone()));
        Ok(HttpServer {
            service: self.service,
            router,
            config: self.config,
            policy: self.policy,
            served_elsewhere: self.served_elsewhere,
            websockets: self.websockets,
            websocket_routes,
            shared,
            authentication,
        })
    }
}

/// What the handler of one route's requests holds: one value behind one
/// reference count, which axum clones per request.
struct Endpoint {
    route: Arc<Route>,
    shared: Arc<Shared>,
    /// The route's series, when the service has metrics.
    timed: Option<bisslog_runtime::metrics::HttpRoute>,
}

/// The methods of one path, plus a CORS preflight and a 405 fallback.
fn method_router(group: &PathGroup, shared: &Arc<Shared>) -> MethodRouter {
    let mut methods = MethodRouter::new();
    for route in &group.routes {
        let Ok(filter) = MethodFilter::try_from(route.method.clone()) else {
            continue;
        };
        let endpoint = Arc::new(Endpoint {
            timed: route
                .use_case
                .metrics()
                .map(|m| m.http_route(route.method.as_str(), &route.path)),
            route: Arc::clone(route),
            shared: Arc::clone(shared),
        });
        // axum clones the handler for every request and calls the clone
        // once: one reference counted per request.
        methods = methods.on(filter, move |request: Request| async move {
            let Some(timed) = &endpoint.timed else {
                return handler::handle(&endpoint.route, &endpoint.shared, request).await;
            };
            let started = std::time::Instant::now();
            let response = handler::handle(&endpoint.route, &endpoint.shared, request).await;
            timed.observe(response.status().as_u16(), started.elapsed().as_secs_f64());
            response
        });
    }
    let cors_routes: Vec<Arc<Route>> = group
        .routes
        .iter()
        .filter(|r| r.cors.is_some())
        .cloned()
        .collect();
    if !cors_routes.is_empty()
        && !group
            .routes
            .iter()
            .any(|r| r.method == http::Method::OPTIONS)
    {
        methods = methods.merge(on(MethodFilter::OPTIONS, move |request: Request| {
            let routes = cors_routes.clone();
            async move { preflight(&routes, &request) }
        }));
    }
    let allowed: Vec<String> = group.routes.iter().map(|r| r.method.to_string()).collect();
    let shared = Arc::clone(shared);
    methods.fallback(move |request: Request| {
        let allowed = allowed.clone();
        let shared = shared.clone();
        async move { method_not_allowed(&request, &allowed, &shared) }
    })
}

/// Answers a CORS preflight for the CORS routes of a path.
fn preflight(routes: &[Arc<Route>], request: &Request) -> Response {
    let origin = crate::headers::text(request.headers(), header::ORIGIN);
    let mut response = StatusCode::NO_CONTENT.into_response();
    let Some(allowed) = routes
        .iter()
        .find_map(|r| r.cors.as_ref().and_then(|c| c.allow(origin)))
    else {
        return response;
    };
    let methods: Vec<String> = routes.iter().map(|r| r.method.to_string()).collect();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    if let Ok(value) = HeaderValue::from_str(&methods.join(", ")) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, value);
    }
    if let Some(requested) = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    if allowed != "*" {
        headers.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

fn method_not_allowed(request: &Request, allowed: &[String], _shared: &Shared) -> Response {
    let transaction = transaction_id(request.headers()).to_string();
    let detail = format!(
        "{} is not served here; this path serves {}",
        request.method(),
        allowed.join(", ")
    );
    let mut response = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        detail,
        &transaction,
        Some(request.uri().path()),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

async fn not_found(request: Request, _shared: Arc<Shared>) -> Response {
    let transaction = transaction_id(request.headers()).to_string();
    let detail = format!(
        "no route serves {} {}",
        request.method(),
        request.uri().path()
    );
    Problem::new(
        StatusCode::NOT_FOUND,
        "no-route",
        detail,
        &transaction,
        Some(request.uri().path()),
    )
    .into_response()
}

/// Where [`HttpServerBuilder::metrics_endpoint`] serves the metrics.
pub const METRICS_PATH: &str = "/metrics";

/// The metrics, as Prometheus scrapes them.
async fn scrape(metrics: bisslog_runtime::metrics::Metrics) -> Response {
    let mut response = metrics.encode().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(bisslog_runtime::metrics::CONTENT_TYPE),
    );
    response
}

/// Where [`HttpServerBuilder::observed_interactions_endpoint`] serves the
/// use cases seen calling each external interaction.
pub const OBSERVED_INTERACTIONS_PATH: &str = "/interactions/observed";

/// What the service's interaction guards have seen so far.
async fn observed_interactions(service: Service) -> Response {
    let document = bisslog_runtime::resilience::ObservedInteractions::of(&service);
    match serde_json::to_value(&document) {
        Ok(body) => json_response(StatusCode::OK, &body),
        // Names and lists of names always serialize; never seen.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn live() -> Response {
    json_response(StatusCode::OK, &serde_json::json!({"status": "alive"}))
}

async fn ready(service: Service) -> Response {
    let failures = service.readiness().await;
    if failures.is_empty() {
        // Breakers open on what only less critical use cases need: ready,
        // and saying which parts are degraded.
        let degraded: serde_json::Map<String, serde_json::Value> = service
            .open_circuits()
            .into_iter()
            .filter(|(_, _, critical)| !critical)
            .map(|(keyname, state, _)| {
                let text = format!("the circuit breaker is {}", state.as_str());
                (keyname, text.into())
            })
            .collect();
        if !degraded.is_empty() {
            return json_response(
                StatusCode::OK,
                &serde_json::json!({"status": "degraded", "degraded": degraded}),
            );
        }
        return json_response(StatusCode::OK, &serde_json::json!({"status": "ready"}));
    }
    let failing: serde_json::Map<String, serde_json::Value> = failures
        .into_iter()
        .map(|(keyname, error)| (keyname, error.to_string().into()))
        .collect();
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &serde_json::json!({"status": "unready", "failing": failing}),
    )
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed when this
/// is called, not when the future is first polled: a signal that arrives
/// while the service starts is kept, and stops it once it serves, rather
/// than killing the process with no shutdown at all.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (terminate, interrupt) {
                (Ok(mut terminate), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {},
                        _ = interrupt.recv() => {},
                    }
                }
                // Handlers cannot be installed: fall back to Ctrl-C alone.
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the router refused it".to_owned())
}
