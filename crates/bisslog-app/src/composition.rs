//! What a composition function returns: the services of the process.

use std::sync::Arc;

use bisslog_http::HttpServerBuilder;
use bisslog_runtime::Service;

/// What a service adds to the HTTP server the runner builds for it.
pub(crate) type HttpSetup = Arc<dyn Fn(HttpServerBuilder) -> HttpServerBuilder + Send + Sync>;

/// The services one process runs: the main one, served on `HOST:PORT`,
/// and others on ports of their own (the embedded mode of a system whose
/// services talk through an in-process or SQLite broker). Each is served
/// as its metadata declares: HTTP and WebSocket routes, consumers,
/// schedules; all stop together.
///
/// A `Service` converts into a composition of one.
#[derive(Clone)]
pub struct Composition {
    pub(crate) main: Service,
    pub(crate) others: Vec<(Service, u16)>,
    /// By service name.
    pub(crate) http: Vec<(String, HttpSetup)>,
}

impl Composition {
    /// The main service alone.
    pub fn new(main: Service) -> Self {
        Self {
            main,
            others: Vec::new(),
            http: Vec::new(),
        }
    }

    /// Configures the HTTP server of the service named `service` (the
    /// metadata's `name`) beyond what the metadata says: the authenticators
    /// its routes name, the WebSocket registry its use cases push through,
    /// limits (`HttpConfig`), the status policy.
    ///
    /// ```no_run
    /// # fn f(c: bisslog_app::Composition, registry: bisslog_http::WebSocketRegistry) -> bisslog_app::Composition {
    /// c.http("chat", move |server| server.websockets(registry.clone()))
    /// # }
    /// ```
    #[must_use]
    pub fn http(
        mut self,
        service: impl Into<String>,
        setup: impl Fn(HttpServerBuilder) -> HttpServerBuilder + Send + Sync + 'static,
    ) -> Self {
        self.http.push((service.into(), Arc::new(setup)));
        self
    }

    /// The HTTP server of `service` (one of this composition's), configured
    /// as [`http`](Self::http) said: what the runner serves, and what
    /// `bisslog::testkit::TestService::from_composition` drives.
    pub fn http_server(&self, service: &Service) -> HttpServerBuilder {
        let mut builder = bisslog_http::HttpServer::builder(service.clone());
        for (name, setup) in &self.http {
            if name == service.name() {
                builder = setup(builder);
            }
        }
        builder
    }

    /// Runs `service` in this process too, its HTTP server on `port` of
    /// the same host (0 picks a free one).
    #[must_use]
    pub fn with(mut self, service: Service, port: u16) -> Self {
        self.others.push((service, port));
        self
    }

    /// The main service.
    pub fn main(&self) -> &Service {
        &self.main
    }

    /// Every service, the main one first, with the port each asked for
    /// (`None`: the configured `PORT`).
    pub(crate) fn parts(&self) -> impl Iterator<Item = (&Service, Option<u16>)> {
        std::iter::once((&self.main, None)).chain(self.others.iter().map(|(s, p)| (s, Some(*p))))
    }
}

impl From<Service> for Composition {
    fn from(main: Service) -> Self {
        Self::new(main)
    }
}

impl std::fmt::Debug for Composition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Composition")
            .field("main", &self.main.name())
            .field(
                "others",
                &self
                    .others
                    .iter()
                    .map(|(s, p)| (s.name(), p))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}
