//! AWS Lambda deployment artifacts: an AWS SAM template with one function
//! for the whole service and an event per trigger, the `bootstrap` binary
//! crate that runs the service on Lambda, and a README on building and
//! deploying them.
//!
//! | file | what it holds |
//! |---|---|
//! | `template.yaml` | the SAM template ([`template`](self#template)) |
//! | `bootstrap/Cargo.toml` | the `bootstrap` binary crate, depending on the service crate and `bisslog` with the `lambda` feature |
//! | `bootstrap/src/main.rs` | builds the service once per cold start and hands it to `bisslog::lambda::run` |
//! | `README.md` | building with `cargo lambda` or plain cargo, deploying with `sam` |
//!
//! # Template
//!
//! HTTP triggers become `HttpApi` (or `Api`) events; each consumed queue an
//! `AWS::SQS::Queue` with its dead-letter queue and an `SQS` event (or an
//! SNS topic, or an EventBridge rule); schedules `ScheduleV2` events whose
//! input names the use case and trigger; WebSocket route keys one
//! `AWS::ApiGatewayV2::Api` with a route per key.

mod bootstrap;
mod error;
mod events;
mod queues;
mod readme;
mod template;
mod timeouts;
mod websocket;

use bisslog_schema::ServiceMetadata;

pub use error::{LambdaError, Problem};

use crate::output::GeneratedFile;
use crate::stamp::{CommentStyle, stamp};

/// The command named in the header of every file this module generates.
pub const COMMAND: &str = "bisslog lambda generate";

/// Where the `bootstrap` crate gets `bisslog` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BisslogDependency {
    /// A path, relative to the `bootstrap` directory.
    Path(String),
    /// A version requirement on crates.io.
    Version(String),
}

/// Which API Gateway flavour serves the HTTP triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpApi {
    /// An HTTP API (API Gateway v2, `HttpApi` events): cheaper and faster.
    #[default]
    Http,
    /// A REST API (API Gateway v1, `Api` events): usage plans, API keys,
    /// request validation.
    Rest,
}

/// The processor architecture of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    /// AWS Graviton (`aarch64-unknown-linux-gnu`).
    #[default]
    Arm64,
    /// Intel/AMD (`x86_64-unknown-linux-gnu`).
    X86_64,
}

impl Architecture {
    /// The name in a SAM template.
    pub const fn sam_name(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }

    /// The Rust target triple of a `provided.al2023` binary.
    pub const fn rust_target(self) -> &'static str {
        match self {
            Architecture::Arm64 => "aarch64-unknown-linux-gnu",
            Architecture::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }
}

/// What to generate besides the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaOptions {
    /// The service crate's package name (`company-data-registry`).
    pub crate_name: String,
    /// The service crate's directory, relative to the `bootstrap` directory.
    pub crate_path: String,
    /// The path of the async setup function that builds the service
    /// (`company_data_registry::lambda_service`).
    pub setup: String,
    /// Where `bisslog` comes from.
    pub bisslog: BisslogDependency,
    /// Which API Gateway flavour serves HTTP triggers.
    pub http_api: HttpApi,
    /// The function's architecture.
    pub architecture: Architecture,
    /// Queues that are SNS topics rather than SQS queues.
    pub sns_queues: Vec<String>,
    /// Queues that are EventBridge `detail-type`s rather than SQS queues.
    pub eventbridge_queues: Vec<String>,
    /// Give the `bootstrap` crate an empty `[workspace]` table, so it builds
    /// on its own even inside another workspace's directory.
    pub standalone_workspace: bool,
}

impl LambdaOptions {
    /// Options with the defaults: `bisslog` at this crate's version, an HTTP
    /// API, arm64, every queue on SQS, no `[workspace]` table.
    pub fn new(
        crate_name: impl Into<String>,
        crate_path: impl Into<String>,
        setup: impl Into<String>,
    ) -> Self {
        Self {
            crate_name: crate_name.into(),
            crate_path: crate_path.into(),
            setup: setup.into(),
            bisslog: BisslogDependency::Version(env!("CARGO_PKG_VERSION").to_owned()),
            http_api: HttpApi::default(),
            architecture: Architecture::default(),
            sns_queues: Vec::new(),
            eventbridge_queues: Vec::new(),
            standalone_workspace: false,
        }
    }
}

/// The Lambda artifacts of `service`: `template.yaml`,
/// `bootstrap/Cargo.toml`, `bootstrap/src/main.rs` and `README.md`, in that
/// order, each starting with its generated-file header. The same input
/// always gives the same bytes.
///
/// Fails with every problem found when the service or the options cannot
/// be deployed as asked (a cron AWS cannot express, a batch size SQS does
/// not accept, a flag naming an unknown queue, ...).
pub fn generate(
    service: &ServiceMetadata,
    options: &LambdaOptions,
) -> Result<Vec<GeneratedFile>, LambdaError> {
    let mut problems = bootstrap::check_options(options);
    let template = template::render(service, options);
    let template = match template {
        Ok(text) => Some(text),
        Err(found) => {
            problems.extend(found);
            None
        }
    };
    let Some(template) = template.filter(|_| problems.is_empty()) else {
        return Err(LambdaError { problems });
    };
    let file = |path: &str, style, body: String| GeneratedFile {
        path: path.to_owned(),
        contents: stamp(style, COMMAND, &body),
    };
    Ok(vec![
        file("template.yaml", CommentStyle::Hash, template),
        file(
            "bootstrap/Cargo.toml",
            CommentStyle::Hash,
            bootstrap::cargo_toml(options),
        ),
        file(
            "bootstrap/src/main.rs",
            CommentStyle::Slashes,
            bootstrap::main_rs(options),
        ),
        file(
            "README.md",
            CommentStyle::Html,
            readme::render(service, options),
        ),
    ])
}
