//! The bisslog service metadata format: load a metadata file (YAML or
//! JSON), validate it with precise, located diagnostics, and get a typed
//! model of the service with every default resolved.
//!
//! **Where it fits:** A service uses it through the facade, as
//! `bisslog::schema`; the `bisslog` command (`bisslog-cli`) is its validator
//! on the command line.
//!
//! A metadata file declares a service's use cases, how each is triggered
//! (HTTP, WebSocket, message consumer, schedule), the external
//! interactions (ports) each one uses and how critical it is. The format
//! is the one the Python bisslog tools read; files written for them load
//! unchanged. See `docs/metadata.md` in the repository for every field and
//! every diagnostic code.
//!
//! # Validate a file
//!
//! ```
//! use bisslog_schema::{Code, validate_str};
//!
//! let report = validate_str(
//!     "metadata.yml",
//!     r#"
//! name: user management
//! use_cases:
//!   getUser:
//!     name: get user
//!     triggers:
//!       - type: http
//!         options:
//!           method: update
//!           path: /user/{user_id}
//! "#,
//! );
//! assert_eq!(report.error_count(), 1);
//! let problem = &report.diagnostics()[0];
//! assert_eq!(problem.code, Code::InvalidHttpMethod);
//! assert_eq!((problem.span.start.line, problem.span.start.column), (9, 19));
//! assert!(problem.hint.as_deref().unwrap_or_default().contains("PATCH"));
//! ```
//!
//! # Load a service
//!
//! The model has every default resolved: trigger type `http`, method
//! `GET`, criticality `medium`, delivery at-least-once.
//!
//! ```
//! use bisslog_schema::{Criticality, Method, TriggerKind, validate_str};
//!
//! let yaml = "
//! name: users
//! use_cases:
//!   listUsers:
//!     name: list users
//!     triggers:
//!       - options: {path: /users}
//! ";
//! let report = validate_str("metadata.yml", yaml);
//! // A trigger without `type` is read as HTTP, with a warning.
//! assert_eq!((report.error_count(), report.warning_count()), (0, 1));
//! let service = report.into_service().expect("no errors");
//! let list = &service.use_cases["listUsers"];
//! assert_eq!(list.criticality, Criticality::Medium);
//! let TriggerKind::Http(http) = &list.triggers[0].kind else { unreachable!() };
//! assert_eq!((http.method, http.path.as_str()), (Method::Get, "/users"));
//! ```
//!
//! In a service, [`load`] finds the file (`SERVICE_METADATA_PATH`, then
//! `metadata.yml`, `docs/metadata.yml`, ...) and returns the [`ServiceMetadata`],
//! or a [`LoadError`] whose report lists every problem.
//!
//! # Guarantees
//!
//! - Every problem is reported in one pass, each with a stable [`Code`],
//!   a 1-based line and column, and a hint where one helps.
//! - Hostile input never panics or hangs: sizes, nesting depth and alias
//!   expansion are bounded by [`Limits`], and breaching them is itself a
//!   located diagnostic.
//! - Time zones are checked against the IANA database bundled into the
//!   binary, never the host's.
//! - [`json_schema`] describes the format for editors.

mod code;
pub mod cron;
mod data;
mod diagnostic;
pub mod diff;
mod discover;
mod duration;
mod json_schema;
mod limits;
mod load;
mod locate;
pub mod model;
mod node;
mod parse;
mod render;
mod source;
mod span;
mod suggest;
mod system;
mod timezone;
mod validate;
mod yaml_writer;

pub use code::{Code, UnknownCode};
pub use data::parse_data;
pub use diagnostic::{Diagnostic, Severity};
pub use discover::{
    DEFAULT_NAMES, PATH_VARIABLE, find as find_metadata, find_in as find_metadata_in,
};
pub use json_schema::{SCHEMA_ID, json_schema};
pub use limits::Limits;
pub use load::{LoadError, Loader, Report, load, load_str, validate_file, validate_str};
pub use locate::Locations;
pub use model::{
    Authorization, BulkheadSpec, CircuitBreakerSpec, ConsumerTrigger, Criticality,
    DeliverySemantic, ExternalInteraction, HttpPath, HttpTrigger, InteractionType, Mapper,
    MapperEntry, MapperSource, Method, MisfirePolicy, OverlapPolicy, QueueKind, RateLimit,
    RatePeriod, ResiliencePolicy, RetrySpec, ScheduleTrigger, ServiceMetadata, SourcePart,
    TriggerKind, TriggerMetadata, UseCaseMetadata, WebSocketTrigger,
};
pub use render::{RenderOptions, render_diagnostic, render_report};
pub use source::{Format, SourceFile};
pub use span::{Position, Span};
pub use suggest::closest as closest_name;
pub use system::{QueueFinding, check_across, queue_findings};
pub use timezone::database as time_zone_database;

pub use validate::Checks;
pub use yaml_writer::to_yaml;
