//! Routes claimed so far, to report two triggers serving the same
//! requests: HTTP (method, path shape) pairs and WebSocket route keys.

use std::collections::HashMap;

use super::Checker;
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{HttpPath, Method};
use crate::span::Span;

/// Who first claimed a route, and where.
struct Claim {
    use_case: String,
    span: Span,
}

#[derive(Default)]
pub(super) struct Routes {
    http: HashMap<(Method, String), Claim>,
    websocket: HashMap<String, Claim>,
}

impl Checker {
    /// Claims an HTTP route for a use case; reports it when another
    /// trigger already serves the same method and path shape.
    pub(super) fn claim_http_route(
        &mut self,
        method: Method,
        path: &HttpPath,
        span: Span,
        use_case: &str,
    ) {
        self.check(Severity::Error);
        let key = (method, path.shape());
        if let Some(first) = self.routes.http.get(&key) {
            let whose = if first.use_case == use_case {
                "another trigger of this use case".to_owned()
            } else {
                format!("use case `{}`", first.use_case)
            };
            let hint = format!(
                "first declared at line {}, column {}; routes that differ only in variable names match the same requests",
                first.span.start.line, first.span.start.column
            );
            self.report(
                Diagnostic::new(
                    Code::DuplicateRoute,
                    span,
                    format!("`{method} {path}` is already served by {whose}"),
                )
                .with_hint(hint),
            );
            return;
        }
        let claim = Claim {
            use_case: use_case.to_owned(),
            span,
        };
        self.routes.http.insert(key, claim);
    }

    /// Claims a WebSocket route key for a use case.
    pub(super) fn claim_websocket_route(&mut self, route_key: &str, span: Span, use_case: &str) {
        self.check(Severity::Error);
        if let Some(first) = self.routes.websocket.get(route_key) {
            let message = format!(
                "WebSocket route key `{route_key}` is already handled by use case `{}`",
                first.use_case
            );
            let hint = format!(
                "first declared at line {}, column {}; each route key selects one use case",
                first.span.start.line, first.span.start.column
            );
            self.report(
                Diagnostic::new(Code::DuplicateWebSocketRoute, span, message).with_hint(hint),
            );
            return;
        }
        let claim = Claim {
            use_case: use_case.to_owned(),
            span,
        };
        self.routes.websocket.insert(route_key.to_owned(), claim);
    }
}
