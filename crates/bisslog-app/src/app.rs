//! [`App`]: a service binary's `main`, from its metadata and a composition
//! function.

use std::borrow::Cow;
use std::future::Future;
use std::io::Write as _;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use bisslog_config::{Config, Loader, NoServiceSettings, Settings};
use bisslog_core::BoxFuture;

use crate::error::BoxError;
use bisslog_runtime::logging::{LogFormat, LogTarget};
use bisslog_runtime::{MemoryInbox, Service};
use bisslog_schema::ServiceMetadata;
use serde::de::DeserializeOwned;

use crate::authn::Authentication;
use crate::broker::{self, Reach};
use crate::cli::{self, Command, Invocation};
use crate::commands;
use crate::composition::Composition;
use crate::error::StartError;
use crate::resources::{Resources, Shared, Store};
use crate::serve::{self, Serving};

/// Builds a service's [`Composition`] from the [`Resources`] the framework
/// made: implemented by every `Fn(Resources<S>) -> impl Future<Output =
/// Result<impl Into<Composition>, impl Into<BoxError>>>`, such as an
/// `async fn` returning `Result<Service, BuildError>`.
pub trait Compose<S>: Send + Sync + 'static {
    /// Builds the composition.
    fn compose(&self, resources: Resources<S>)
    -> BoxFuture<'static, Result<Composition, BoxError>>;
}

impl<S, F, Fut, C, E> Compose<S> for F
where
    F: Fn(Resources<S>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<C, E>> + Send + 'static,
    C: Into<Composition>,
    E: Into<BoxError>,
{
    fn compose(
        &self,
        resources: Resources<S>,
    ) -> BoxFuture<'static, Result<Composition, BoxError>> {
        let future = self(resources);
        Box::pin(async move { future.await.map(Into::into).map_err(Into::into) })
    }
}

/// A service binary: its metadata, its settings, and, given a composition
/// function, everything else. See the crate documentation.
pub struct App<S = NoServiceSettings> {
    file: String,
    source: Cow<'static, str>,
    version: String,
    defaults: Settings,
    env_prefix: String,
    default_broker: Option<DefaultBroker>,
    settings: PhantomData<fn() -> S>,
}

/// Chooses the broker when `BROKER_URL` is not set, from the other settings.
type DefaultBroker = fn(&Settings) -> Option<bisslog_config::ConnectionUrl>;

impl App<NoServiceSettings> {
    /// A service described by the metadata `source` (YAML or JSON; `file`
    /// names it in diagnostics). [`crate::app!`] embeds `metadata.yml` and
    /// the crate's version.
    pub fn new(file: impl Into<String>, source: impl Into<Cow<'static, str>>) -> Self {
        Self {
            file: file.into(),
            source: source.into(),
            version: "0.0.0".to_owned(),
            defaults: Settings::default(),
            env_prefix: String::new(),
            default_broker: None,
            settings: PhantomData,
        }
    }
}

/// The outbox relays of a Lambda execution environment: they live as long
/// as it does (AWS freezes it between invocations).
#[cfg(feature = "sql")]
static LAMBDA_RELAYS: Mutex<Vec<bisslog_sql::RunningRelay>> = Mutex::new(Vec::new());

/// The OTLP exporters of a Lambda execution environment, kept as long as
/// it lives; the runtime loop flushes their spans after each invocation.
#[cfg(feature = "otlp")]
static LAMBDA_EXPORTERS: Mutex<Vec<crate::otlp::Exporters>> = Mutex::new(Vec::new());

impl<S> App<S>
where
    S: DeserializeOwned + Send + Sync + 'static,
{
    /// The service's own settings: a struct deriving `serde::Deserialize`,
    /// read from the `[service]` table of the file, from environment
    /// variables named after its fields upper-cased, and from flags named
    /// after them (see `docs/configuration.md`); the composition function
    /// reads it with [`Resources::config`].
    pub fn settings<T: DeserializeOwned + Send + Sync + 'static>(self) -> App<T> {
        App {
            file: self.file,
            source: self.source,
            version: self.version,
            defaults: self.defaults,
            env_prefix: self.env_prefix,
            default_broker: self.default_broker,
            settings: PhantomData,
        }
    }

    /// The version `--version` prints.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Other defaults for the framework's settings (a port, a SQLite file).
    #[must_use]
    pub fn defaults(mut self, defaults: Settings) -> Self {
        self.defaults = defaults;
        self
    }

    /// The broker when `BROKER_URL` is set nowhere, chosen from the other
    /// settings once they are loaded (so a `--database-url` flag or the file
    /// counts): `None` keeps the in-process broker. The example registry
    /// keeps its events in a SQLite file unless its data is in memory:
    ///
    /// ```
    /// # use bisslog_app::{App, ConnectionUrl};
    /// let app = App::new("metadata.yml", "name: registry\nuse_cases: {}\n").default_broker(|settings| {
    ///     (settings.database_url.expose() != "memory")
    ///         .then(|| ConnectionUrl::new("sqlite://registry-broker.db"))
    /// });
    /// ```
    #[must_use]
    pub fn default_broker(mut self, choose: DefaultBroker) -> Self {
        self.default_broker = Some(choose);
        self
    }

    /// A prefix for the environment variables of the service's own
    /// settings (`REGISTRY_` makes field `api_key` read `REGISTRY_API_KEY`).
    #[must_use]
    pub fn env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.env_prefix = prefix.into();
        self
    }

    /// The metadata, validated.
    fn metadata(&self) -> Result<ServiceMetadata, StartError> {
        bisslog_schema::validate_str(&self.file, &self.source)
            .into_service()
            .map_err(|report| StartError::Metadata {
                file: self.file.clone(),
                report: bisslog_schema::render_report(
                    &report,
                    bisslog_schema::RenderOptions::default(),
                ),
            })
    }

    fn loader(&self) -> Loader {
        Loader::new()
            .defaults(self.defaults.clone())
            .service_env_prefix(self.env_prefix.clone())
    }

    /// Runs the binary: parses the command line of the process, loads the
    /// configuration, and runs the command (`serve` by default). Returns
    /// the process's exit code: 0, 1 when the service could not start or a
    /// command failed, 2 for a bad command line or configuration.
    pub async fn run(self, compose: impl Compose<S>) -> ExitCode {
        self.run_from(std::env::args_os(), compose).await
    }

    /// [`run`](Self::run) with these command-line arguments (the program
    /// name first).
    pub async fn run_from<I, T>(self, args: I, compose: impl Compose<S>) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let metadata = match self.metadata() {
            Ok(metadata) => metadata,
            Err(error) => return fail(&error.to_string()),
        };
        let service_flags = self.loader().service_flags::<S>();
        let interface = cli::interface(
            &metadata.name,
            metadata.description.as_deref(),
            &self.version,
            &service_flags,
        );
        let matches = match interface.try_get_matches_from(args) {
            Ok(matches) => matches,
            Err(error) => {
                // --help and --version print to standard output and exit 0.
                let _ = error.print();
                return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
            }
        };
        let invocation = cli::invocation(&matches, &service_flags);
        let config = match self.load(&invocation) {
            Ok(config) => config,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        };
        // Only serving needs the authenticators (and their files), and the
        // `openapi` command, whose document says how the routes are guarded.
        let authentication = if matches!(invocation.command, Command::Serve | Command::OpenApi) {
            match Authentication::from_settings(&config.settings) {
                Ok(authentication) => authentication,
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            }
        } else {
            Authentication::default()
        };
        #[cfg(feature = "otlp")]
        if matches!(invocation.command, Command::Serve)
            && let Err(error) = crate::otlp::check(&metadata.name)
        {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
        let target = match invocation.command {
            Command::Serve => LogTarget::Stdout,
            // Their standard output is their result.
            _ => LogTarget::Stderr,
        };
        let format = match config.settings.log_format {
            bisslog_config::LogFormat::Json => LogFormat::Json,
            _ => LogFormat::Text,
        };
        if let Err(error) =
            bisslog_runtime::logging::init_configured(&config.settings.rust_log, format, target)
        {
            eprintln!("error: invalid value for `rust_log`: {error}");
            return ExitCode::from(2);
        }
        match self
            .execute(
                invocation.command,
                metadata,
                config,
                authentication,
                &compose,
            )
            .await
        {
            Ok(code) => code,
            Err(error) => {
                tracing::error!(checkpoint_id = "start-failed", "{error}");
                fail(&error.to_string())
            }
        }
    }

    fn load(&self, invocation: &Invocation) -> Result<Config<S>, bisslog_config::ConfigError> {
        let mut loader = self.loader().process_env();
        if let Some(file) = &invocation.config_file {
            loader = loader.file(file);
        }
        for (name, value) in &invocation.flags {
            loader = loader.flag(name.clone(), value.clone());
        }
        let mut config = loader.load::<S>()?;
        self.choose_broker(&mut config);
        Ok(config)
    }

    /// Applies [`default_broker`](Self::default_broker), in the settings
    /// and in the report `config` prints.
    fn choose_broker(&self, config: &mut Config<S>) {
        let (Some(choose), None) = (self.default_broker, &config.settings.broker_url) else {
            return;
        };
        let Some(url) = choose(&config.settings) else {
            return;
        };
        if let Some(entry) = config
            .report
            .entries
            .iter_mut()
            .find(|e| e.key == "broker_url")
        {
            entry.value = Some(url.masked());
        }
        config.settings.broker_url = Some(url);
    }

    async fn execute(
        &self,
        command: Command,
        metadata: ServiceMetadata,
        config: Config<S>,
        authentication: Authentication,
        compose: &dyn Compose<S>,
    ) -> Result<ExitCode, StartError> {
        let Config {
            settings,
            service,
            report,
        } = config;
        match command {
            Command::Serve => {
                // Installed first: a signal during start-up stops the service once it serves.
                let stop = bisslog_http::shutdown_signal();
                let (broker, reach, database) = open(&settings).await?;
                let address = SocketAddr::new(settings.host, settings.port);
                let listener = serve::bind(&metadata.name, address, "PORT (or --port)").await?;
                let address = listener.local_addr().unwrap_or(address);
                let resources = Resources::new(shared(
                    metadata.clone(),
                    settings,
                    service,
                    address,
                    broker,
                    reach,
                    database,
                ));
                let composition = match compose.compose(resources.clone()).await {
                    Ok(composition) => composition,
                    Err(error) => {
                        serve::close(resources.stores()).await;
                        return Err(StartError::Compose(error));
                    }
                };
                let serving = Serving {
                    resources: resources.clone(),
                    listener,
                    composition,
                    authentication,
                };
                let result = serve::serve(serving, stop).await;
                if result.is_err() {
                    serve::close(resources.stores()).await;
                }
                result.map(|()| ExitCode::SUCCESS)
            }
            Command::Call { use_case, input } => {
                let resources = self.resources(metadata.clone(), settings, service).await?;
                let composition = compose
                    .compose(resources.clone())
                    .await
                    .map_err(StartError::Compose)?;
                let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
                let code = bisslog_runtime::command::run_call(
                    composition.main(),
                    &use_case,
                    input.as_deref(),
                    &mut stdout.lock(),
                    &mut stderr.lock(),
                )
                .await;
                serve::close(resources.stores()).await;
                Ok(code)
            }
            Command::Config => {
                print(&report.to_string());
                Ok(ExitCode::SUCCESS)
            }
            Command::Metadata => {
                print(&self.source);
                Ok(ExitCode::SUCCESS)
            }
            Command::AsyncApi => {
                let document = bisslog_codegen::asyncapi::document(
                    &metadata,
                    &bisslog_codegen::ApiOptions::default(),
                );
                print(&pretty(&document));
                Ok(ExitCode::SUCCESS)
            }
            Command::Check | Command::OpenApi => {
                // Checked on private resources, so no server is needed: the
                // in-process broker, and memory, or with a SQL database
                // configured an in-memory SQLite one (the composition may
                // need SQL; the service's migrations run on it too).
                let resources = private_resources(metadata.clone(), &settings, service).await?;
                let composition = match compose.compose(resources.clone()).await {
                    Ok(composition) => composition,
                    Err(error) if command == Command::Check => {
                        print(&format!("{error}\n"));
                        serve::close(resources.stores()).await;
                        return Ok(ExitCode::FAILURE);
                    }
                    Err(error) => {
                        serve::close(resources.stores()).await;
                        return Err(StartError::Compose(error));
                    }
                };
                if command == Command::OpenApi {
                    let server = authentication
                        .apply(composition.http_server(composition.main()))
                        .build()
                        .map_err(|source| StartError::Http {
                            service: composition.main().name().to_owned(),
                            source,
                        });
                    serve::close(resources.stores()).await;
                    let server = server?;
                    let document = server.openapi_document(&bisslog_http::ApiDocs::new());
                    print(&pretty(&document));
                    return Ok(ExitCode::SUCCESS);
                }
                serve::close(resources.stores()).await;
                Ok(commands::check(&composition))
            }
            Command::OutboxStuck => commands::outbox_stuck(&settings).await,
            Command::OutboxRedrive(id) => commands::outbox_redrive(&settings, id).await,
        }
    }

    /// Resources for a command that does not serve.
    async fn resources(
        &self,
        metadata: ServiceMetadata,
        settings: Settings,
        service: S,
    ) -> Result<Resources<S>, StartError> {
        let (broker, reach, database) = open(&settings).await?;
        let address = SocketAddr::new(settings.host, settings.port);
        Ok(Resources::new(shared(
            metadata.clone(),
            settings,
            service,
            address,
            broker,
            reach,
            database,
        )))
    }

    /// The composition, for tests: composed as the `check` command composes
    /// it, from the configuration's defaults alone (no file, no environment
    /// variable) on resources private to the test: the in-process broker,
    /// and memory, or with a SQL database configured an in-memory SQLite
    /// one, with the service's migrations. Nothing is served.
    ///
    /// `test_service` (feature `testing`) drives its main service with
    /// `bisslog::testkit`:
    ///
    /// ```
    /// use bisslog_app::{App, Resources};
    /// use bisslog_core::{Ctx, Error, NoInput, UseCase};
    /// use bisslog_runtime::{BuildError, Service};
    ///
    /// struct Ping;
    /// impl UseCase for Ping {
    ///     type Input = NoInput;
    ///     type Output = &'static str;
    ///     type Error = Error;
    ///     async fn run(&self, _: &Ctx, _: NoInput) -> Result<&'static str, Error> { Ok("pong") }
    /// }
    ///
    /// async fn compose(resources: Resources) -> Result<Service, BuildError> {
    ///     Service::builder(resources.metadata()).use_case("ping", Ping).build()
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), bisslog_app::BoxError> {
    /// const METADATA: &str = "name: ping\nuse_cases:\n  ping:\n    triggers: [{type: http, options: {path: /ping}}]\n";
    /// let composition = App::new("metadata.yml", METADATA).compose_for_tests(compose).await?;
    /// assert_eq!(composition.main().name(), "ping");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// When the metadata, the defaults, a resource or the composition
    /// fails.
    pub async fn compose_for_tests(
        self,
        compose: impl Compose<S>,
    ) -> Result<Composition, BoxError> {
        let metadata = self.metadata()?;
        let mut config = self.loader().load::<S>()?;
        self.choose_broker(&mut config);
        let resources = private_resources(metadata, &config.settings, config.service).await?;
        let composition = compose
            .compose(resources)
            .await
            .map_err(StartError::Compose)?;
        Ok(composition)
    }

    /// The main service of the composition [`compose_for_tests`](Self::compose_for_tests)
    /// makes, driven in process by `bisslog::testkit` with the HTTP server
    /// the composition configures for it (authenticators, WebSocket
    /// registry, limits), as the runner would serve it:
    ///
    /// ```ignore
    /// let kit = bisslog::app!().test_service(hello::compose).await?;
    /// assert_eq!(kit.get("/hello/Ana").await?.status(), 200);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`compose_for_tests`](Self::compose_for_tests), and when the HTTP
    /// routes cannot be built (an authenticator a route names is missing).
    #[cfg(feature = "testing")]
    pub async fn test_service(
        self,
        compose: impl Compose<S>,
    ) -> Result<bisslog_testkit::TestService, BoxError> {
        let composition = self.compose_for_tests(compose).await?;
        let main = composition.main().clone();
        let http = composition.http_server(&main);
        Ok(bisslog_testkit::TestService::serving(main, http)?)
    }

    /// The service as an AWS Lambda function builds it, once per cold
    /// start: the configuration from the environment alone, the same
    /// composition as [`run`](Self::run), and a relay for each outbox,
    /// running as long as the execution environment. The main service of
    /// the composition is returned; the others are not served.
    ///
    /// With the `otlp` feature and `OTEL_EXPORTER_OTLP_ENDPOINT` set, the
    /// main service exports its spans over OTLP, as [`run`](Self::run)
    /// does; `bisslog_lambda::run` flushes them after each invocation,
    /// before Lambda freezes the environment.
    ///
    /// # Errors
    ///
    /// When the configuration, a resource or the composition fails.
    pub async fn lambda(self, compose: impl Compose<S>) -> Result<Service, BoxError> {
        let metadata = self.metadata()?;
        let mut config = self.loader().process_env().load::<S>()?;
        self.choose_broker(&mut config);
        let resources = self
            .resources(metadata, config.settings, config.service)
            .await?;
        let composition = compose
            .compose(resources.clone())
            .await
            .map_err(StartError::Compose)?;
        #[cfg(feature = "otlp")]
        {
            let exporters = crate::otlp::Exporters::start_main(&composition)?;
            LAMBDA_EXPORTERS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(exporters);
        }
        #[cfg(feature = "sql")]
        {
            let mut relays = LAMBDA_RELAYS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for store in resources.outboxes() {
                if let Store::Sql(db) = store {
                    let mut relay = bisslog_sql::Outbox::new(db)
                        .relay(resources.broker())
                        .events(crate::resources::event_queues(
                            &resources,
                            composition.parts(),
                        ));
                    // Its spans go with the service's, flushed per invocation.
                    if let Some(tracer) = composition.main().tracer() {
                        relay = relay.tracer(tracer.clone());
                    }
                    relays.push(relay.spawn());
                }
            }
        }
        Ok(composition.main)
    }
}

/// Resources private to the process, so that no server is needed: the
/// in-process broker, and memory, or with a SQL database configured an
/// in-memory SQLite one.
async fn private_resources<S>(
    metadata: ServiceMetadata,
    settings: &Settings,
    service: S,
) -> Result<Resources<S>, StartError> {
    let database = Store::private(&settings.database_url).await?;
    let mut private = shared(
        metadata,
        Settings {
            broker_url: None,
            ..settings.clone()
        },
        service,
        SocketAddr::new(settings.host, settings.port),
        Arc::new(bisslog_runtime::messaging::InProcessBroker::new()),
        Reach::Process,
        database,
    );
    private.private = true;
    Ok(Resources::new(private))
}

/// The broker and the database the settings name.
async fn open(
    settings: &Settings,
) -> Result<(Arc<dyn bisslog_messaging::Broker>, Reach, Store), StartError> {
    let (broker, reach) = broker::connect(
        settings.broker_url.as_ref(),
        settings.broker_namespace.as_deref(),
    )
    .await?;
    let database = Store::open(&settings.database_url).await?;
    Ok((broker, reach, database))
}

fn shared<S>(
    metadata: ServiceMetadata,
    settings: Settings,
    config: S,
    address: SocketAddr,
    broker: Arc<dyn bisslog_messaging::Broker>,
    reach: Reach,
    database: Store,
) -> Shared<S> {
    Shared {
        metadata,
        settings,
        config,
        address,
        broker,
        reach,
        database,
        inbox: MemoryInbox::new(),
        outboxes: Mutex::new(Vec::new()),
        stores: Mutex::new(Vec::new()),
        private: false,
    }
}

/// Writes `text` to standard output (a closed pipe is not an error).
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
}

fn pretty(document: &serde_json::Value) -> String {
    serde_json::to_string_pretty(document).unwrap_or_default()
}

/// Reports a failure to start on standard error; exit 1.
fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
