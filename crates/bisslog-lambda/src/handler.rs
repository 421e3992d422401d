//! The handler: everything routing needs, built once per cold start, and
//! the dispatch of one invocation by the event's shape.

use std::sync::Arc;

use bisslog_http::{HttpServer, WebSocketRoutes};
use bisslog_runtime::Service;
use serde_json::Value;

use crate::error::LambdaError;
use crate::events;
use crate::routes::Routes;
use crate::routing::Routing;
use crate::shape::{self, Shape};

/// Routes Lambda invocations to a service's use cases, as its metadata
/// declares them. Build it once per cold start, outside the handler; it
/// is cheap to clone and shared by every invocation.
///
/// ```
/// # use bisslog_core::{Ctx, Error, UseCase};
/// # use bisslog_runtime::Service;
/// # struct Greet;
/// # impl UseCase for Greet {
/// #     type Input = serde_json::Value;
/// #     type Output = serde_json::Value;
/// #     type Error = Error;
/// #     async fn run(&self, _: &Ctx, input: serde_json::Value) -> Result<serde_json::Value, Error> {
/// #         Ok(serde_json::json!({"hello": input["name"]}))
/// #     }
/// # }
/// use bisslog_lambda::LambdaHandler;
/// use serde_json::json;
///
/// let metadata = bisslog_schema::validate_str(
///     "metadata.yml",
///     "name: greeter\nuse_cases:\n  greet:\n    triggers: [{type: consumer, options: {queue: greetings}}]\n",
/// ).into_service().unwrap();
/// let service = Service::builder(metadata).use_case("greet", Greet).build().unwrap();
/// let handler = LambdaHandler::new(service).unwrap();
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let event = json!({"Records": [{
///     "messageId": "m-1",
///     "eventSource": "aws:sqs",
///     "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:greetings",
///     "body": "{\"name\": \"Ana\"}"
/// }]});
/// let response = handler.handle(event).await.unwrap();
/// assert_eq!(response, json!({"batchItemFailures": []}));
/// # });
/// ```
#[derive(Clone)]
pub struct LambdaHandler(Arc<Routing>);

impl LambdaHandler {
    /// Builds the routes of every trigger of `service`: the HTTP router
    /// (the same `bisslog-http` serves), the WebSocket route keys, and the
    /// consumer and schedule triggers.
    pub fn new(service: Service) -> Result<LambdaHandler, LambdaError> {
        Self::from_http(HttpServer::builder(service).build()?)
    }

    /// Like [`new`](Self::new), with an HTTP entry point configured as for
    /// a server: its authenticators, [`HttpConfig`](bisslog_http::HttpConfig)
    /// and [`StatusPolicy`](bisslog_http::StatusPolicy) apply to API Gateway and ALB requests (the
    /// policy to WebSocket events too).
    ///
    /// ```no_run
    /// # fn example(service: bisslog_runtime::Service, auth: impl bisslog_http::Authenticator) -> Result<(), Box<dyn std::error::Error>> {
    /// use bisslog_http::HttpServer;
    /// use bisslog_lambda::LambdaHandler;
    ///
    /// let http = HttpServer::builder(service).authenticator("api_key", auth).build()?;
    /// let handler = LambdaHandler::from_http(http)?;
    /// # Ok(()) }
    /// ```
    pub fn from_http(http: HttpServer) -> Result<LambdaHandler, LambdaError> {
        let service = http.service().clone();
        let mut routes = Routes::new(&service);
        if let Some(arns) = crate::routes::queue_arns_from_env()? {
            routes.set_queue_arns(arns);
        }
        Ok(LambdaHandler(Arc::new(Routing {
            websockets: WebSocketRoutes::new(&service),
            routes,
            router: http.router(),
            policy: http.status_policy().clone(),
            service,
            only: None,
        })))
    }

    /// Names the SQS queue or SNS topic behind each queue of the metadata,
    /// as `(queue, ARN)` pairs: records from that ARN go to that queue's
    /// consumer triggers. [`new`](Self::new) reads them from the
    /// `BISSLOG_QUEUES` variable (a JSON object from queue to ARN), which
    /// the template of `bisslog lambda generate` sets, because
    /// CloudFormation names the queues and a queue name such as
    /// `orders.created` is no valid SQS name. Records from an ARN not named
    /// here go to the queue named like the ARN's last segment.
    #[must_use]
    pub fn queue_arns<Q: Into<String>, A: Into<String>>(
        self,
        arns: impl IntoIterator<Item = (Q, A)>,
    ) -> LambdaHandler {
        let mut inner = Routing::clone(&self.0);
        inner.routes.set_queue_arns(
            arns.into_iter()
                .map(|(q, a)| (q.into(), a.into()))
                .collect(),
        );
        LambdaHandler(Arc::new(inner))
    }

    /// Serves only the use case `use_case`: events for any other use case
    /// fail with [`LambdaError::NotServed`]. For one function per use case.
    pub fn only(self, use_case: &str) -> Result<LambdaHandler, LambdaError> {
        if self.0.service.use_case(use_case).is_none() {
            return Err(LambdaError::UnknownUseCase {
                keyname: use_case.to_owned(),
            });
        }
        let mut inner = Routing::clone(&self.0);
        inner.router = events::only::only_router(inner.router, &inner.service, use_case)?;
        inner.only = Some(use_case.to_owned());
        Ok(LambdaHandler(Arc::new(inner)))
    }

    /// The service this handler routes to.
    pub fn service(&self) -> &Service {
        &self.0.service
    }

    /// The use case this handler is limited to, if any.
    pub fn serves_only(&self) -> Option<&str> {
        self.0.only.as_deref()
    }

    /// Routes one invocation by the event's shape and the metadata; the
    /// response document for Lambda. See the [crate docs](crate) for each
    /// kind of event.
    pub async fn handle(&self, event: Value) -> Result<Value, LambdaError> {
        let routing = &*self.0;
        match shape::detect(&event) {
            Some(Shape::RestApi) => {
                events::http::handle(routing, events::http::Flavor::RestApi, &event).await
            }
            Some(Shape::HttpApi) => {
                events::http::handle(routing, events::http::Flavor::HttpApi, &event).await
            }
            Some(Shape::Alb) => {
                events::http::handle(routing, events::http::Flavor::Alb, &event).await
            }
            Some(Shape::WebSocket) => events::websocket::handle(routing, &event).await,
            Some(Shape::Sqs) => events::sqs::handle(routing, &event).await,
            Some(Shape::Sns) => events::sns::handle(routing, &event).await,
            Some(Shape::EventBridge) => events::eventbridge::handle(routing, event).await,
            Some(Shape::Schedule) => events::schedule::handle(routing, &event).await,
            None => Err(LambdaError::unmatched(shape::describe_unknown(&event))),
        }
    }
}

impl std::fmt::Debug for LambdaHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaHandler")
            .field("service", &self.0.service.name())
            .field("only", &self.0.only)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared<T: Clone + Send + Sync + 'static>() {}
    fn thread_safe<T: Send + Sync + 'static>() {}
    fn sendable<T: Send>(_: &T) {}

    /// Checked when it compiles: an invocation can be spawned.
    #[allow(dead_code)]
    fn invocations_are_send(handler: &LambdaHandler) {
        sendable(&handler.handle(Value::Null));
    }

    #[test]
    fn the_handler_and_its_errors_cross_threads() {
        shared::<LambdaHandler>();
        thread_safe::<LambdaError>();
    }
}
