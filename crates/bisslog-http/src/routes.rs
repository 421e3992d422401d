//! The route table: every HTTP trigger of the metadata, compiled once at
//! start-up, grouped by path shape (`/a/{x}` and `/a/{y}` are one path to
//! the router, each route reading its variables by position).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bisslog_runtime::authorization::Rule;
use bisslog_runtime::mapper::InputMapper;
use bisslog_runtime::{Service, UseCaseHandle};
use bisslog_schema::{HttpTrigger, TriggerKind};
use indexmap::IndexMap;

use crate::auth::Authenticator;
use crate::config::HttpConfig;
use crate::error::HttpError;
use crate::rate::RateLimiter;

/// One HTTP trigger, ready to serve.
pub(crate) struct Route {
    pub(crate) use_case: UseCaseHandle,
    pub(crate) method: http::Method,
    /// The path as the metadata declares it.
    pub(crate) path: String,
    /// The path again, shared: the server span's `http.route`.
    pub(crate) route_attribute: Arc<str>,
    /// The server span's name, `{METHOD} {path}`, made once.
    pub(crate) span_name: String,
    /// Whether the call is given the route's timeout as its
    /// [`Deadline`](bisslog_runtime::resilience::Deadline).
    pub(crate) deadline: bool,
    /// The declared names of the path variables, in order.
    pub(crate) variables: Vec<String>,
    pub(crate) mapper: InputMapper,
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
    /// Who may call the route (the trigger's `authorization`, else the use
    /// case's). Checked whenever the route has an authenticator; a
    /// `public` rule skips authentication too.
    pub(crate) authorization: Option<Rule>,
    pub(crate) timeout: Duration,
    pub(crate) rate: Option<RateLimiter>,
    pub(crate) cors: Option<Cors>,
    pub(crate) cacheable: bool,
    pub(crate) content_type: Option<String>,
}

/// A route's CORS settings.
#[derive(Debug, Clone)]
pub(crate) struct Cors {
    /// Allowed origins; empty allows any.
    pub(crate) origins: Vec<String>,
}

impl Cors {
    /// The `Access-Control-Allow-Origin` value for a request's origin.
    pub(crate) fn allow(&self, origin: Option<&str>) -> Option<String> {
        if self.origins.is_empty() || self.origins.iter().any(|o| o == "*") {
            return Some("*".to_owned());
        }
        let origin = origin?;
        self.origins
            .iter()
            .any(|o| o == origin)
            .then(|| origin.to_owned())
    }
}

/// The routes sharing one path shape.
pub(crate) struct PathGroup {
    /// The path as the router knows it (`{x+}` becomes `{*x}`).
    pub(crate) router_path: String,
    pub(crate) routes: Vec<Arc<Route>>,
}

/// Paths the server serves itself, which no trigger may take.
pub(crate) fn reserved_paths(config: &HttpConfig) -> [&str; 3] {
    [
        "/health/live",
        "/health/ready",
        config.websocket_path.as_str(),
    ]
}

/// Compiles every HTTP trigger of the service.
pub(crate) fn route_table(
    service: &Service,
    authenticators: &HashMap<String, Arc<dyn Authenticator>>,
    default_authenticator: Option<&str>,
    config: &HttpConfig,
) -> Result<Vec<PathGroup>, Vec<HttpError>> {
    let mut groups: IndexMap<String, PathGroup> = IndexMap::new();
    let mut errors = Vec::new();
    let reserved = reserved_paths(config);
    for (keyname, spec) in &service.metadata().use_cases {
        let Some(use_case) = service.use_case(keyname) else {
            continue;
        };
        for (index, trigger) in spec.triggers.iter().enumerate() {
            let TriggerKind::Http(http) = &trigger.kind else {
                continue;
            };
            let authorization = service.metadata().authorization_for(keyname, index);
            let path = http.path.as_str();
            if reserved.contains(&path) {
                errors.push(HttpError::ReservedPath {
                    path: path.to_owned(),
                    use_case: keyname.clone(),
                });
                continue;
            }
            // The retries of the use case's interactions stop at the
            // route's timeout: the handler tells them when it falls, only
            // where there are retries to stop (it costs a context entry).
            let retries = service.metadata().retries_in(keyname);
            let authenticator = http.authenticator.as_deref().or(default_authenticator);
            match compile(use_case, http, authenticator, authenticators, config) {
                Ok(mut route) => {
                    route.deadline = retries;
                    route.authorization = authorization.cloned();
                    warn_if_not_enforced(&route);
                    let group = groups
                        .entry(http.path.shape())
                        .or_insert_with(|| PathGroup {
                            router_path: router_path(path),
                            routes: Vec::new(),
                        });
                    group.routes.push(Arc::new(route));
                }
                Err(error) => errors.push(error),
            }
        }
    }
    if errors.is_empty() {
        Ok(groups.into_values().collect())
    } else {
        Err(errors)
    }
}

/// Logs, once at start-up, a route whose rule cannot be checked because
/// no authenticator runs on it: the rule is not enforced there.
fn warn_if_not_enforced(route: &Route) {
    if route.authenticator.is_none()
        && let Some(rule) = &route.authorization
        && !rule.public
    {
        tracing::warn!(
            checkpoint_id = "authorization-not-enforced",
            use_case = route.use_case.keyname(),
            route = %route.span_name,
            "the route declares an authorization rule but no authenticator runs on it: the rule is not enforced (unless an outer layer passes the caller, as an API Gateway authorizer does on AWS Lambda)"
        );
    }
}

fn compile(
    use_case: &UseCaseHandle,
    http: &HttpTrigger,
    authenticator: Option<&str>,
    authenticators: &HashMap<String, Arc<dyn Authenticator>>,
    config: &HttpConfig,
) -> Result<Route, HttpError> {
    // The route's own authenticator, or the server's default one.
    let authenticator = match authenticator {
        None => None,
        Some(name) => Some(authenticators.get(name).cloned().ok_or_else(|| {
            HttpError::UnknownAuthenticator {
                name: name.to_owned(),
                use_case: use_case.keyname().to_owned(),
                route: format!("{} {}", http.method, http.path),
            }
        })?),
    };
    let method =
        http::Method::from_bytes(http.method.as_str().as_bytes()).unwrap_or(http::Method::GET);
    Ok(Route {
        use_case: use_case.clone(),
        span_name: format!("{} {}", method.as_str(), http.path.as_str()),
        deadline: false,
        route_attribute: Arc::from(http.path.as_str()),
        method,
        path: http.path.as_str().to_owned(),
        variables: http.path.variables().map(str::to_owned).collect(),
        mapper: InputMapper::new(http.mapper.as_ref()),
        authenticator,
        authorization: None,
        timeout: http
            .timeout_ms
            .map_or(config.request_timeout, Duration::from_millis),
        rate: http.rate_limit.map(RateLimiter::new),
        cors: http.allow_cors.then(|| Cors {
            origins: http.allowed_origins.clone(),
        }),
        cacheable: http.cacheable,
        content_type: http.content_type.clone(),
    })
}

/// A metadata path as axum's router writes it: `/files/{rest+}` (API
/// Gateway's greedy variable) → `/files/{*rest}` (the router's catch-all);
/// other segments unchanged. For entry points that build routes of their
/// own over the same paths.
///
/// ```
/// assert_eq!(bisslog_http::router_path("/files/{rest+}"), "/files/{*rest}");
/// assert_eq!(bisslog_http::router_path("/a/{x}/b"), "/a/{x}/b");
/// ```
pub fn router_path(path: &str) -> String {
    path.split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
                Some(name) => format!("{{*{name}}}"),
                None => segment.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_variables_become_catch_alls() {
        assert_eq!(router_path("/files/{rest+}"), "/files/{*rest}");
        assert_eq!(router_path("/a/{x}/b"), "/a/{x}/b");
    }

    #[test]
    fn cors_origins() {
        let any = Cors { origins: vec![] };
        assert_eq!(any.allow(None).as_deref(), Some("*"));
        let listed = Cors {
            origins: vec!["https://app.example.com".into()],
        };
        assert_eq!(
            listed.allow(Some("https://app.example.com")).as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(listed.allow(Some("https://evil.example.com")), None);
    }
}
