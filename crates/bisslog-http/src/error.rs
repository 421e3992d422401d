//! Why a server cannot be built: the one error type every module that
//! compiles routes returns, kept apart from the server so that those
//! modules do not import the server that imports them.

/// Why the HTTP entry point cannot serve a service as declared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// A route names an authenticator the service did not register.
    #[error(
        "{route} of use case `{use_case}` needs the authenticator `{name}`, which is not registered"
    )]
    UnknownAuthenticator {
        /// The authenticator's name.
        name: String,
        /// The use case.
        use_case: String,
        /// `METHOD /path`.
        route: String,
    },
    /// A route takes a path the server serves itself.
    #[error("use case `{use_case}` declares `{path}`, which the server reserves for itself")]
    ReservedPath {
        /// The path.
        path: String,
        /// The use case.
        use_case: String,
    },
    /// The router refused a path (a conflict it cannot represent).
    #[error("the route `{path}` cannot be served: {reason}")]
    RouteConflict {
        /// The path.
        path: String,
        /// The router's explanation.
        reason: String,
    },
    /// Several problems at once.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<HttpError>),
}
