//! The WebSocket endpoint: one path for all WebSocket triggers, with
//! route keys as API Gateway WebSocket APIs have them.
//!
//! - `$connect` runs when a client connects; if it fails, the connection
//!   is refused with the failure's problem document and status.
//! - Each JSON text message is routed by its `action` field (see
//!   [`HttpConfig::route_selection_field`](crate::HttpConfig)) to the
//!   trigger with that `routeKey`, else to `$default`; the use case's
//!   output is sent back as the reply, a failure as a problem document.
//! - `$disconnect` runs when the connection ends.
//!
//! With an authenticator for upgrades
//! ([`HttpServerBuilder::websocket_authenticator`](crate::HttpServerBuilder::websocket_authenticator),
//! else the [`authenticate_all_with`](crate::HttpServerBuilder::authenticate_all_with)
//! one), the upgrade request is authenticated before `$connect` runs (a
//! refusal is the HTTP answer, nothing is upgraded) and the caller's
//! attributes stay with the connection: each route key's `authorization`
//! rule is decided against them before its use case runs, in
//! [`WebSocketRoutes::call`], the same way for the AWS Lambda entry point.
//!
//! [`WebSocketRegistry`] implements the
//! [`WebSocketConnections`](bisslog_core::WebSocketConnections) port, so
//! use cases can push to any connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use bisslog_core::{
    BoxFuture, Error, TraceContext, TransactionId, Trigger, UseCaseError as _, WebSocketConnections,
};
use bisslog_runtime::authorization::{self, Rule};
use bisslog_runtime::mapper::{Body, InputMapper, Sources};
use bisslog_runtime::trace::{Span, SpanKind, SpanStart, attributes};
use bisslog_runtime::{Service, UseCaseHandle};
use bisslog_schema::TriggerKind;
use futures_util::{SinkExt as _, StreamExt as _};
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::auth::Authenticator;
use crate::error::HttpError;
use crate::handler::Shared;
use crate::headers::transaction_id;
use crate::problem::{Problem, ProblemIntoResponse as _};

/// The open WebSocket connections, by connection id. Clone it freely: all
/// clones share the same connections.
#[derive(Clone, Default)]
pub struct WebSocketRegistry {
    connections: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>>,
    /// Notified whenever a connection leaves the registry.
    left: Arc<tokio::sync::Notify>,
    /// Set (under the lock) once the server shuts down: connections that
    /// register afterwards are closed at once.
    going_away: Arc<AtomicBool>,
}

impl WebSocketRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<Message>>> {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sender(&self, connection_id: &str) -> Option<mpsc::UnboundedSender<Message>> {
        self.lock().get(connection_id).cloned()
    }

    /// The Close frame a shutting-down server sends: 1001, Going Away.
    fn going_away_frame() -> Message {
        Message::Close(Some(CloseFrame {
            code: close_code::AWAY,
            reason: "server shutting down".into(),
        }))
    }

    /// Adds a connection; closes it at once if the server is shutting down.
    fn register(&self, connection_id: &str, sender: &mpsc::UnboundedSender<Message>) {
        let mut connections = self.lock();
        connections.insert(connection_id.to_owned(), sender.clone());
        if self.going_away.load(Ordering::SeqCst) {
            let _ = sender.send(Self::going_away_frame());
        }
    }

    /// Removes a connection and wakes whoever waits for all to close.
    fn unregister(&self, connection_id: &str) {
        self.lock().remove(connection_id);
        self.left.notify_waiters();
    }

    /// Sends every open connection (and any that opens later) a Close
    /// frame with code 1001 (Going Away).
    pub(crate) fn going_away(&self) {
        let connections = self.lock();
        self.going_away.store(true, Ordering::SeqCst);
        for sender in connections.values() {
            let _ = sender.send(Self::going_away_frame());
        }
    }

    /// Completes once no connection is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            let left = self.left.notified();
            let mut left = std::pin::pin!(left);
            left.as_mut().enable();
            if self.is_empty() {
                return;
            }
            left.await;
        }
    }
}

impl WebSocketConnections for WebSocketRegistry {
    fn send(&self, connection_id: &str, message: Value) -> BoxFuture<'_, Result<(), Error>> {
        let sent = self.sender(connection_id).is_some_and(|sender| {
            sender
                .send(Message::Text(message.to_string().into()))
                .is_ok()
        });
        let connection_id = connection_id.to_owned();
        Box::pin(async move {
            if sent {
                Ok(())
            } else {
                Err(Error::not_found(
                    "connection-gone",
                    format!("WebSocket connection `{connection_id}` is closed"),
                ))
            }
        })
    }

    fn close(&self, connection_id: &str) -> BoxFuture<'_, Result<(), Error>> {
        if let Some(sender) = self.sender(connection_id) {
            let _ = sender.send(Message::Close(None));
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A route key's use case, mapper and authorization rule.
struct WsRoute {
    use_case: UseCaseHandle,
    mapper: InputMapper,
    /// Who may call the route key (the trigger's `authorization`, else
    /// the use case's); decided whenever the call has a caller.
    authorization: Option<Rule>,
}

/// The WebSocket triggers of a service by route key, with their mappers:
/// what the `/ws` endpoint routes messages to, and what other entry points
/// with API Gateway WebSocket semantics (AWS Lambda) call directly.
///
/// A call's context has [`Trigger::WebSocket`], the caller's attributes
/// and the `connection_id` attribute; the mapper's sources are
/// `connection_id`, `route_key`, `headers.*` and `body.*`. Each route
/// key's authorization rule (see [`call`](Self::call)) is decided here, so
/// that every entry point decides it the same way.
#[derive(Clone, Default)]
pub struct WebSocketRoutes {
    routes: Arc<HashMap<String, WsRoute>>,
}

impl WebSocketRoutes {
    /// Every WebSocket trigger of `service`.
    pub fn new(service: &Service) -> Self {
        let mut routes = HashMap::new();
        for (keyname, spec) in &service.metadata().use_cases {
            let Some(use_case) = service.use_case(keyname) else {
                continue;
            };
            for (index, trigger) in spec.triggers.iter().enumerate() {
                if let TriggerKind::WebSocket(ws) = &trigger.kind {
                    let route = WsRoute {
                        use_case: use_case.clone(),
                        mapper: InputMapper::new(ws.mapper.as_ref()),
                        authorization: service
                            .metadata()
                            .authorization_for(keyname, index)
                            .cloned(),
                    };
                    routes.insert(ws.route_key.clone(), route);
                }
            }
        }
        Self {
            routes: Arc::new(routes),
        }
    }

    /// Whether the service has no WebSocket trigger.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The use case a route key calls.
    pub fn use_case(&self, route_key: &str) -> Option<&UseCaseHandle> {
        self.routes.get(route_key).map(|r| &r.use_case)
    }

    /// Route keys whose authorization rule needs a caller (any rule but
    /// `public`), sorted: what is not enforced where nobody authenticates.
    pub fn guarded_route_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .routes
            .iter()
            .filter(|(_, route)| route.authorization.as_ref().is_some_and(|r| !r.public))
            .map(|(key, _)| key.as_str())
            .collect();
        keys.sort_unstable();
        keys
    }

    /// Calls the use case of `route_key` for a connection; the reply's
    /// body, if it has one. `None` when no trigger has that route key.
    ///
    /// `caller` is the connection's authenticated caller (its
    /// authenticator's attributes, or the claims of an API Gateway
    /// authorizer), `None` when nobody authenticates the connection. Its
    /// attributes become the call's context attributes, under
    /// `connection_id`, which they cannot replace. With a caller, the
    /// route key's authorization rule is decided after mapping and before
    /// the use case (and logged, see
    /// [`Decision::log`](bisslog_runtime::authorization::Decision::log)): a
    /// refused call fails with the refusal (kind `Unauthenticated`, 401, or
    /// `NotAllowed`, 403) and the use case does not run. Without a caller
    /// the rule is not enforced: there is nobody to check (the `/ws`
    /// endpoint warns at start-up).
    ///
    /// `trace_parent` is the trace the connection continues (the upgrade
    /// request's `traceparent`). With a tracer, the call runs under a
    /// server span "WS {route_key}", its child; without one, the call's
    /// context simply continues `trace_parent`.
    #[allow(clippy::too_many_arguments)] // each is one part of the call, and all are needed
    pub fn call(
        &self,
        route_key: &str,
        connection_id: &str,
        caller: Option<&Map<String, Value>>,
        headers: &HeaderMap,
        body: Option<Body<'_>>,
        transaction: TransactionId,
        trace_parent: Option<&TraceContext>,
    ) -> Option<BoxFuture<'static, Result<Option<bytes::Bytes>, bisslog_runtime::Failure>>> {
        let route = self.routes.get(route_key)?;
        let mut builder = route.use_case.ctx_builder(Trigger::WebSocket);
        if let Some(caller) = caller {
            builder = builder.attributes(caller.clone());
        }
        // After the caller's attributes: a claim named `connection_id`
        // cannot pass for the connection.
        let builder = builder.attribute("connection_id", connection_id);
        let mut span = Span::start(route.use_case.tracer(), || {
            SpanStart::new(format!("WS {route_key}"), SpanKind::Server)
                .parent(trace_parent)
                .attribute("bisslog.websocket.route_key", route_key.to_owned())
                .attribute(attributes::TRANSACTION_ID, transaction.to_string())
        });
        let ctx = builder
            .transaction_id(transaction)
            .maybe_trace_parent(span.context().or(trace_parent).cloned())
            .build();
        let sources = WsSources {
            connection_id,
            route_key,
            headers,
            body,
        };
        let input = route.mapper.map(&sources, ctx.attributes());
        if let (Some(rule), Some(_)) = (&route.authorization, caller) {
            let decision = authorization::decide(rule, Some(ctx.attributes()), &input);
            decision.log(ctx.transaction_id(), route.use_case.keyname());
            if let Some(refusal) = decision.refusal() {
                if span.is_recording() {
                    let code = refusal.code();
                    span.record_outcome(Some((refusal.kind(), &code, &refusal)));
                }
                span.end();
                let failure: bisslog_runtime::Failure = Box::new(refusal);
                return Some(Box::pin(std::future::ready(Err(failure))));
            }
        }
        let call = route.use_case.call(ctx.clone(), &input);
        Some(Box::pin(async move {
            let outcome = call.await;
            if span.is_recording() {
                match &outcome {
                    Ok(_) => span.record_outcome(None),
                    Err(failure) => {
                        let code = failure.code();
                        span.record_outcome(Some((failure.kind(), &code, failure)));
                    }
                }
            }
            span.end();
            outcome.map(|reply| reply.body)
        }))
    }
}

struct Endpoint {
    routes: WebSocketRoutes,
    registry: WebSocketRegistry,
    shared: Arc<Shared>,
    /// Checks the upgrade request; its attributes are the connection's
    /// caller. `None`: nobody authenticates connections.
    authenticator: Option<Arc<dyn Authenticator>>,
}

/// The endpoint's handler, when the service has WebSocket triggers.
/// `authenticator` names the authenticator of upgrade requests, if any.
pub(crate) fn endpoint(
    service: &Service,
    registry: &WebSocketRegistry,
    shared: &Arc<Shared>,
    authenticators: &HashMap<String, Arc<dyn Authenticator>>,
    authenticator: Option<&str>,
    path: &str,
) -> Result<Option<MethodRouter>, HttpError> {
    let routes = WebSocketRoutes::new(service);
    let authenticator = match authenticator {
        None => None,
        Some(name) => Some(authenticators.get(name).cloned().ok_or_else(|| {
            HttpError::UnknownAuthenticator {
                name: name.to_owned(),
                use_case: routes
                    .use_case("$connect")
                    .map_or("(every WebSocket route key)", |u| u.keyname())
                    .to_owned(),
                route: format!("GET {path} (WebSocket)"),
            }
        })?),
    };
    if routes.is_empty() {
        return Ok(None);
    }
    if authenticator.is_none() {
        warn_if_not_enforced(&routes);
    }
    let endpoint = Arc::new(Endpoint {
        routes,
        registry: registry.clone(),
        shared: Arc::clone(shared),
        authenticator,
    });
    Ok(Some(get(
        move |upgrade: WebSocketUpgrade, parts: http::request::Parts| {
            let endpoint = Arc::clone(&endpoint);
            async move { connect(endpoint, upgrade, parts).await }
        },
    )))
}

/// Logs, once at start-up, every route key whose rule cannot be checked
/// because nobody authenticates the connections.
fn warn_if_not_enforced(routes: &WebSocketRoutes) {
    for route_key in routes.guarded_route_keys() {
        tracing::warn!(
            checkpoint_id = "authorization-not-enforced",
            use_case = routes.use_case(route_key).map(UseCaseHandle::keyname),
            route_key,
            "the WebSocket route key declares an authorization rule but no authenticator checks the connections: the rule is not enforced (unless an outer layer passes the caller, as an API Gateway authorizer does on AWS Lambda)"
        );
    }
}

/// Authenticates the upgrade request, runs `$connect`, then upgrades the
/// connection.
async fn connect(
    endpoint: Arc<Endpoint>,
    upgrade: WebSocketUpgrade,
    mut parts: http::request::Parts,
) -> Response {
    let connection_id = TransactionId::generate().to_string();
    let transaction = transaction_id(&parts.headers);
    let caller = match &endpoint.authenticator {
        None => None,
        Some(authenticator) => {
            // The authenticator logs its refusals under this id.
            parts.extensions.insert(transaction.clone());
            match authenticator.authenticate(&parts).await {
                Ok(attributes) => Some(attributes),
                Err(error) => {
                    let transaction = transaction.to_string();
                    let refused = endpoint.shared.policy.problem(
                        &error,
                        &transaction,
                        Some(parts.uri.path()),
                    );
                    let unauthorized = refused.status_code() == StatusCode::UNAUTHORIZED;
                    let mut response = refused.into_response();
                    if unauthorized && let Some(challenge) = authenticator.challenge(&error) {
                        response
                            .headers_mut()
                            .insert(http::header::WWW_AUTHENTICATE, challenge);
                    }
                    return response;
                }
            }
        }
    };
    let headers = parts.headers;
    // Every message of the connection continues the upgrade's trace.
    let trace_parent = crate::trace::incoming(&headers);
    let call = endpoint.routes.call(
        "$connect",
        &connection_id,
        caller.as_ref(),
        &headers,
        None,
        transaction.clone(),
        trace_parent.as_ref(),
    );
    if let Some(call) = call
        && let Err(failure) = call.await
    {
        let transaction = transaction.to_string();
        return endpoint
            .shared
            .policy
            .problem(failure.as_ref(), &transaction, None)
            .into_response();
    }
    upgrade.on_upgrade(move |socket| {
        let connection = Connection {
            id: connection_id,
            caller,
            headers,
            trace_parent,
        };
        serve_connection(endpoint, socket, connection)
    })
}

/// What an open connection keeps from its upgrade.
struct Connection {
    id: String,
    /// The authenticated caller, for every call of the connection.
    caller: Option<Map<String, Value>>,
    headers: HeaderMap,
    trace_parent: Option<TraceContext>,
}

/// Reads messages until the client leaves, then runs `$disconnect`.
async fn serve_connection(endpoint: Arc<Endpoint>, socket: WebSocket, connection: Connection) {
    let Connection {
        id: connection_id,
        caller,
        headers,
        trace_parent,
    } = connection;
    let (mut sink, mut stream) = socket.split();
    let (sender, mut outgoing) = mpsc::unbounded_channel::<Message>();
    endpoint.registry.register(&connection_id, &sender);
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        let reply = match message {
            Message::Text(text) => {
                handle_message(
                    &endpoint.routes,
                    &endpoint.shared,
                    &connection_id,
                    caller.as_ref(),
                    &headers,
                    text.as_str(),
                    trace_parent.as_ref(),
                )
                .await
            }
            Message::Binary(_) => Some(error_message(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "binary-message",
                "messages must be JSON text",
            )),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => None,
        };
        if let Some(reply) = reply
            && sender
                .send(Message::Text(reply.to_string().into()))
                .is_err()
        {
            break;
        }
    }
    endpoint.registry.unregister(&connection_id);
    drop(sender);
    let _ = writer.await;
    let call = endpoint.routes.call(
        "$disconnect",
        &connection_id,
        caller.as_ref(),
        &headers,
        None,
        TransactionId::generate(),
        trace_parent.as_ref(),
    );
    if let Some(call) = call
        && let Err(failure) = call.await
    {
        tracing::warn!(connection_id, error = %failure, "$disconnect failed");
    }
}

/// Routes one message and returns the reply to send, if any.
pub(crate) async fn handle_message(
    routes: &WebSocketRoutes,
    shared: &Shared,
    connection_id: &str,
    caller: Option<&Map<String, Value>>,
    headers: &HeaderMap,
    text: &str,
    trace_parent: Option<&TraceContext>,
) -> Option<Value> {
    let body = match Body::parse(text) {
        Ok(body) => body.with_fields(),
        Err(e) => {
            return Some(error_message(
                StatusCode::BAD_REQUEST,
                "malformed-message",
                &format!("the message is not valid JSON: {e}"),
            ));
        }
    };
    let field = shared.config.route_selection_field.as_str();
    let requested: Option<String> = body
        .get(&[field])
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    let route_key = match requested
        .as_deref()
        // `$connect` and `$disconnect` belong to the connection's life, not
        // to its messages: a client must not re-run them (`$connect` often
        // authenticates) by naming them.
        .filter(|key| !matches!(*key, "$connect" | "$disconnect") && routes.use_case(key).is_some())
    {
        Some(found) => found,
        None => match routes.use_case("$default") {
            Some(_) => "$default",
            None => {
                let detail = format!(
                    "no route key matches the message's `{field}` and there is no `$default` route"
                );
                return Some(error_message(StatusCode::NOT_FOUND, "no-route", &detail));
            }
        },
    };
    let transaction = TransactionId::generate();
    let transaction_text = transaction.to_string();
    let call = routes.call(
        route_key,
        connection_id,
        caller,
        headers,
        Some(body),
        transaction,
        trace_parent,
    )?;
    match call.await {
        Ok(Some(reply)) => serde_json::from_slice(&reply).ok(),
        Ok(None) => None,
        Err(failure) => {
            let problem = shared
                .policy
                .problem(failure.as_ref(), &transaction_text, None);
            serde_json::to_value(problem).ok()
        }
    }
}

/// A message the endpoint itself refuses, as the same problem document a
/// failed use case replies with (status, title, transaction id included).
fn error_message(status: StatusCode, code: &str, detail: &str) -> Value {
    let transaction = TransactionId::generate().to_string();
    let problem = Problem::new(status, code, detail, &transaction, None);
    serde_json::to_value(problem).unwrap_or_else(|_| serde_json::json!({"code": code}))
}

/// A WebSocket message as the mapper sees it.
struct WsSources<'a> {
    connection_id: &'a str,
    route_key: &'a str,
    headers: &'a HeaderMap,
    body: Option<Body<'a>>,
}

impl Sources for WsSources<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        crate::headers::text(self.headers, name)
    }

    fn headers(&self) -> Vec<(&str, &str)> {
        crate::headers::all_text(self.headers)
    }

    fn body(&self) -> Option<&Body<'_>> {
        self.body.as_ref()
    }

    fn connection_id(&self) -> Option<&str> {
        Some(self.connection_id)
    }

    fn route_key(&self) -> Option<&str> {
        Some(self.route_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_messages_are_problem_documents() {
        let reply = error_message(StatusCode::NOT_FOUND, "no-route", "no route key matches");
        assert_eq!(reply["status"], 404);
        assert_eq!(reply["title"], "Not Found");
        assert_eq!(reply["code"], "no-route");
        assert_eq!(reply["type"], "about:blank#no-route");
        assert_eq!(reply["detail"], "no route key matches");
        assert!(
            reply["transaction_id"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
    }
}
