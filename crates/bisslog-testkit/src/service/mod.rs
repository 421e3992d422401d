//! A service driven through its triggers in process, with no sockets.

mod answer;
mod error;
mod observed;
mod settlement;
mod tick;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use bisslog_http::{HttpServer, HttpServerBuilder};
use bisslog_messaging::Message;
use bisslog_runtime::Service;
use bisslog_runtime::messaging::{ConsumerConfig, Consumers};
use bisslog_runtime::resilience::ObservedInteractions;
use bisslog_runtime::schedule::Schedules;
use http::{HeaderMap, Method, Request, header};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use tower::ServiceExt as _;

pub use answer::Answer;
pub use error::KitError;
pub use observed::OBSERVED_INTERACTIONS_VAR;
pub use settlement::Settlement;
pub use tick::Tick;

use settlement::{DeadLetterBox, RecordingDelivery};

/// The connection id of the messages [`TestService::websocket`] sends.
pub const TEST_CONNECTION_ID: &str = "test-connection";

/// A built [`Service`] driven through the triggers of its metadata, in
/// process: nothing listens, nothing is fetched from a broker, no clock
/// is waited for. Each call goes through the same code as in production
/// (routes, mappers, error mapping and problem documents, settlement
/// decisions), so a test through the kit sees what a client, a broker or
/// a scheduler would.
///
/// - HTTP: [`request`](Self::request) (or [`get`](Self::get),
///   [`post_json`](Self::post_json), ...) → an [`Answer`]: status,
///   headers, the output or the problem document.
/// - Consumer: [`deliver`](Self::deliver) a payload on a queue → the
///   [`Settlement`]: acknowledged, retried after a delay, dead-lettered
///   with a reason.
/// - Schedule: [`tick`](Self::tick) at an instant → the [`Tick`]: ran, or
///   failed after so many attempts.
/// - WebSocket: [`websocket`](Self::websocket) a message for a route key
///   → the reply frame.
///
/// Cheap to make: build one per test.
///
/// When dropped, with [`OBSERVED_INTERACTIONS_VAR`]
/// (`BISSLOG_OBSERVED_INTERACTIONS`) naming a directory, it writes there
/// the use cases its service saw calling each external interaction
/// ([`write_observed_interactions`](Self::write_observed_interactions)),
/// for `bisslog drift --observed <dir>`.
pub struct TestService {
    http: HttpServer,
    consumers: Consumers,
    dead_letters: DeadLetterBox,
    schedules: Schedules,
}

impl std::fmt::Debug for TestService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestService")
            .field("service", self.http.service())
            .finish_non_exhaustive()
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        let Some(dir) = observed::dir_from_env() else {
            return;
        };
        if let Err(error) = self.write_observed_interactions(&dir) {
            // Nowhere to return it, and a panic here would abort a test
            // that is already failing: say it where the test's output goes.
            eprintln!("bisslog-testkit: {error} ({OBSERVED_INTERACTIONS_VAR})");
        }
    }
}

impl TestService {
    /// Drives `service` with the HTTP server's defaults.
    pub fn new(service: Service) -> Result<Self, KitError> {
        Self::with_http(service, |builder| builder)
    }

    /// Drives `service` with its HTTP server configured by `setup`, as the
    /// composition configures it (`Composition::http`): authenticators,
    /// status policy, [`HttpConfig`](bisslog_http::HttpConfig).
    pub fn with_http(
        service: Service,
        setup: impl FnOnce(HttpServerBuilder) -> HttpServerBuilder,
    ) -> Result<Self, KitError> {
        Self::serving(service.clone(), setup(HttpServer::builder(service)))
    }

    /// Drives `service` with the HTTP server `http` builds for it (the
    /// runner's composition gives it: `Composition::http_server`; or use
    /// `bisslog::app!().test_service(compose)`, which does this).
    pub fn serving(service: Service, http: HttpServerBuilder) -> Result<Self, KitError> {
        let http = http.build()?;
        let dead_letters = DeadLetterBox::default();
        let consumers = Consumers::new(service.clone(), dead_letters.clone());
        // A retried tick would otherwise wait for its delay: the kit says
        // how many attempts there were instead.
        let schedules = Schedules::new(service).retry_delays(Duration::ZERO, Duration::ZERO);
        Ok(Self {
            http,
            consumers,
            dead_letters,
            schedules,
        })
    }

    /// Replaces the consumers' configuration (the retries and delays of
    /// triggers whose metadata gives none).
    #[must_use]
    pub fn consumer_config(mut self, config: ConsumerConfig) -> Self {
        self.consumers =
            Consumers::new(self.service().clone(), self.dead_letters.clone()).config(config);
        self
    }

    /// The service driven.
    pub fn service(&self) -> &Service {
        self.http.service()
    }

    /// Writes, as a new file in `dir` (created if missing), the use cases
    /// the service has seen calling each external interaction so far
    /// ([`ObservedInteractions`]); returns the file's path. Dropping the
    /// kit does this by itself when [`OBSERVED_INTERACTIONS_VAR`] is set;
    /// call it for a kit that is never dropped (kept in a `static`).
    pub fn write_observed_interactions(&self, dir: impl AsRef<Path>) -> Result<PathBuf, KitError> {
        let dir = dir.as_ref();
        observed::write(dir, &ObservedInteractions::of(self.service())).map_err(|source| {
            KitError::Observed {
                dir: dir.to_owned(),
                source,
            }
        })
    }

    // --- HTTP ---------------------------------------------------------

    /// Sends a request to the service's HTTP routes (health endpoints and
    /// 404/405 problem documents included) and reads the whole answer.
    ///
    /// ```no_run
    /// # async fn f(kit: bisslog_testkit::TestService) -> Result<(), bisslog_testkit::KitError> {
    /// let request = http::Request::get("/hello/Ana").header("x-transaction-id", "t-1").body(())?;
    /// let answer = kit.request(request).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request<B: Into<Body>>(&self, request: Request<B>) -> Result<Answer, KitError> {
        let response = match self.http.router().oneshot(request.map(Into::into)).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| KitError::Body(e.to_string()))?;
        Ok(Answer::new(parts.status, parts.headers, body))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Answer, KitError> {
        self.send(Method::GET, path, None).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<Answer, KitError> {
        self.send(Method::DELETE, path, None).await
    }

    /// `POST path` with `body` as JSON.
    pub async fn post_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Answer, KitError> {
        self.send(Method::POST, path, Some(json_text(body)?)).await
    }

    /// `PUT path` with `body` as JSON.
    pub async fn put_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Answer, KitError> {
        self.send(Method::PUT, path, Some(json_text(body)?)).await
    }

    /// `PATCH path` with `body` as JSON.
    pub async fn patch_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Answer, KitError> {
        self.send(Method::PATCH, path, Some(json_text(body)?)).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        json: Option<String>,
    ) -> Result<Answer, KitError> {
        let request = Request::builder().method(method).uri(path);
        let request = match json {
            Some(json) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json))?,
            None => request.body(Body::empty())?,
        };
        self.request(request).await
    }

    // --- Consumers ----------------------------------------------------

    /// Delivers `payload`, as JSON, on `queue` for the first time: the
    /// consumer trigger of that queue maps it, calls its use case and
    /// settles the delivery as it would on any broker.
    pub async fn deliver<T: Serialize + ?Sized>(
        &self,
        queue: &str,
        payload: &T,
    ) -> Result<Settlement, KitError> {
        let message = Message::new(json_text(payload)?.into_bytes());
        self.deliver_message(queue, message, 1).await
    }

    /// Delivers a message of your making (headers, id, the publisher's
    /// transaction id; a payload that need not be JSON) on `queue`, as
    /// delivery number `attempt` (1 the first time; a higher one exercises
    /// the retry policy: the last allowed attempt dead-letters).
    pub async fn deliver_message(
        &self,
        queue: &str,
        message: Message,
        attempt: u32,
    ) -> Result<Settlement, KitError> {
        let attempt = attempt.max(1);
        let id = message.id.clone();
        // A copy left by an earlier delivery of the same message is not
        // this delivery's.
        let _ = self.dead_letters.take(&id);
        let (delivery, settled) = RecordingDelivery::start(message, attempt);
        if !self.consumers.process_one(queue, delivery).await {
            return Err(KitError::UnknownQueue {
                queue: queue.to_owned(),
                consumed: self.consumed_queues(),
            });
        }
        settled
            .settlement(attempt, self.dead_letters.take(&id))
            .ok_or_else(|| KitError::Unsettled {
                queue: queue.to_owned(),
            })
    }

    fn consumed_queues(&self) -> Vec<String> {
        self.consumers
            .triggers()
            .into_iter()
            .map(|(_, q)| q)
            .collect()
    }

    // --- Schedules ----------------------------------------------------

    /// Runs the tick at `at` of a schedule trigger, as the scheduler does
    /// when it comes: the trigger's static `event` as input, transient
    /// failures retried (without waiting) up to `max_attempts`.
    ///
    /// `trigger` is the use case's keyname, or the trigger's key
    /// (`use_case/trigger-keyname`). `at` must be one of the cron
    /// expression's ticks in the trigger's time zone: a test of a tick
    /// that never comes is refused ([`KitError::Tick`]).
    pub async fn tick(&self, trigger: &str, at: Timestamp) -> Result<Tick, KitError> {
        Ok(self.schedules.run_tick(trigger, at).await?.into())
    }

    // --- WebSockets ---------------------------------------------------

    /// Sends `body` to the WebSocket trigger of `route_key` on a connection
    /// ([`TEST_CONNECTION_ID`]): the route selection field (`action`) is
    /// set to the route key when `body` is a JSON object, and the message
    /// goes through the WebSocket endpoint's routing, mapper and error
    /// mapping. The reply frame: the use case's output, or a problem
    /// document; `None` when the use case replies nothing.
    pub async fn websocket<T: Serialize + ?Sized>(
        &self,
        route_key: &str,
        body: &T,
    ) -> Result<Option<Value>, KitError> {
        let mut message = serde_json::to_value(body).map_err(KitError::Encode)?;
        if let Value::Object(members) = &mut message {
            members.insert(
                self.http.config().route_selection_field.clone(),
                Value::String(route_key.to_owned()),
            );
        }
        Ok(self.websocket_text(&message.to_string()).await)
    }

    /// Sends one text frame as it stands (routed by its own selection
    /// field, or `$default`): the reply frame, if any.
    pub async fn websocket_text(&self, text: &str) -> Option<Value> {
        self.http
            .websocket_message(TEST_CONNECTION_ID, &HeaderMap::new(), text)
            .await
    }
}

fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String, KitError> {
    serde_json::to_string(value).map_err(KitError::Encode)
}
