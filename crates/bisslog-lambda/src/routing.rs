//! What the handlers of each kind of event see of a
//! [`LambdaHandler`](crate::LambdaHandler): the service, where each trigger
//! goes, and which use cases this function serves. Nothing else of it.

use axum::Router;
use bisslog_http::{StatusPolicy, WebSocketRoutes};
use bisslog_runtime::{Service, UseCaseHandle};

use crate::error::LambdaError;
use crate::routes::Routes;

/// The routing of one function, built once per cold start.
#[derive(Clone)]
pub(crate) struct Routing {
    pub(crate) service: Service,
    /// The router of every HTTP trigger (or, with `only`, of that use
    /// case's), the one `bisslog-http` serves.
    pub(crate) router: Router,
    pub(crate) websockets: WebSocketRoutes,
    pub(crate) routes: Routes,
    pub(crate) policy: StatusPolicy,
    pub(crate) only: Option<String>,
}

impl Routing {
    /// Whether this function serves `handle`'s use case; `seen` says what
    /// the event was, for the error.
    pub(crate) fn check_served(
        &self,
        handle: &UseCaseHandle,
        seen: impl FnOnce() -> String,
    ) -> Result<(), LambdaError> {
        match &self.only {
            Some(only) if only != handle.keyname() => Err(LambdaError::NotServed {
                serves: only.clone(),
                seen: seen(),
            }),
            _ => Ok(()),
        }
    }

    /// Whether this function serves the use case `keyname`.
    pub(crate) fn serves(&self, keyname: &str) -> bool {
        self.only.as_deref().is_none_or(|only| only == keyname)
    }
}
