//! A new service's workspace (`bisslog new`), and the files its metadata
//! adds to it later (`bisslog generate`).
//!
//! | file | what it holds | stamped |
//! |---|---|---|
//! | `Cargo.toml` | the workspace and the service package (the binary) | yes |
//! | `metadata.yml` | the metadata (copied, or the starter's) | no |
//! | `domain/` | the `NAME-domain` crate: `use_cases/USE_CASE.rs` (input, output, the use case), `ports/PORT.rs` (a trait per external interaction) | yes |
//! | `src/main.rs`, `src/lib.rs` | the binary on the runner, the library | yes |
//! | `src/compose.rs` | every use case registered with its ports' adapters, memory or SQL by `DATABASE_URL` | yes |
//! | `src/adapters/{memory,sql}/PORT.rs` | the adapters | yes |
//! | `tests/use_cases/USE_CASE.rs` | a test per use case | yes |
//! | `.gitignore`, `README.md` | | yes |
//!
//! "Stamped" files start with the checksum header of
//! [`stamp`](crate::stamp()): `bisslog generate` rewrites one only while
//! it is unchanged, and leaves an edited one alone
//! ([`write_files_keeping_edited`](crate::write_files_keeping_edited)).
//! A use case's body is written as a stub that answers `NotSupported`
//! until someone writes it. The starter service (no `--from`) has real
//! bodies and adapters instead, written without a header: they are the
//! owner's from the start.
//!
//! # Example
//!
//! ```
//! use bisslog_codegen::scaffold::{self, FrameworkSource, ScaffoldOptions};
//!
//! let options = ScaffoldOptions::new("greeter", FrameworkSource::Version("0.1".into()))?;
//! let files = scaffold::starter(&options)?;
//! let compose = files.iter().find(|f| f.path == "src/compose.rs").expect("composed");
//! assert!(compose.contents.contains(".use_case(\"greet\""));
//!
//! // What `bisslog generate` rewrites: the files the metadata decides.
//! let service = bisslog_schema::validate_str("metadata.yml", &scaffold::starter_metadata("greeter"))
//!     .into_service()
//!     .expect("valid");
//! let generated = scaffold::service_files(&service, &options);
//! assert!(generated.iter().any(|f| f.path == "domain/src/use_cases/greet.rs"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod domain;
mod plan;
mod service;
mod starter;
mod tests;
mod workspace;

use bisslog_schema::ServiceMetadata;

use crate::output::GeneratedFile;
use crate::stamp::{CommentStyle, stamp};

/// The command named in the header of every stamped file.
pub const COMMAND: &str = "bisslog generate";

/// Where the new workspace gets the framework from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameworkSource {
    /// The framework's checkout (the directory with `crates/bisslog`):
    /// absolute, or relative to the new workspace's directory.
    Path(String),
    /// A version requirement on crates.io (`0.1`).
    Version(String),
}

/// Why a workspace cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not usable as a Cargo package name.
    #[error(
        "`{name}` cannot name the service's crate: {reason} (use letters, digits, `-` and `_`, starting with a letter)"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The starter's own metadata does not validate (a bug of this crate).
    #[error("the starter metadata does not validate: {0}")]
    Starter(String),
}

/// What to generate besides the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaffoldOptions {
    /// The service package's name; the domain's is `NAME-domain`.
    pub crate_name: String,
    /// Where `bisslog` and `bisslog-core` come from.
    pub framework: FrameworkSource,
    /// The metadata file's name in the workspace (`metadata.yml`), which
    /// the binary embeds.
    pub metadata_file: String,
}

impl ScaffoldOptions {
    /// Options for a crate named `crate_name` (checked), with
    /// `metadata.yml`.
    pub fn new(crate_name: &str, framework: FrameworkSource) -> Result<Self, ScaffoldError> {
        check_name(crate_name)?;
        Ok(Self {
            crate_name: crate_name.to_owned(),
            framework,
            metadata_file: "metadata.yml".to_owned(),
        })
    }
}

/// Names Cargo or Rust reserve, or that a generated crate depends on.
const TAKEN: &[&str] = &[
    "std",
    "core",
    "alloc",
    "proc_macro",
    "proc-macro",
    "test",
    "self",
    "crate",
    "super",
    "bisslog",
    "bisslog-core",
    "tokio",
    "serde",
    "serde_json",
    "schemars",
];

/// Checks that `name` can name a package whose library is imported by
/// `name` with `-` as `_`.
pub fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let invalid = |reason| {
        Err(ScaffoldError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return invalid("it does not start with an ASCII letter");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return invalid("it has a character other than a letter, a digit, `-` or `_`");
    }
    if name.len() > 64 {
        return invalid("it is longer than 64 characters");
    }
    if TAKEN.contains(&name) || plan::KEYWORDS.contains(&name.replace('-', "_").as_str()) {
        return invalid("it is reserved, or the name of a crate the service depends on");
    }
    Ok(())
}

/// The starter's `metadata.yml` for a service named `crate_name`.
pub fn starter_metadata(crate_name: &str) -> String {
    starter::metadata(crate_name)
}

/// The whole workspace of the starter service (no `--from`): its
/// `metadata.yml`, then what [`workspace`] writes for it, with the
/// example's use case, port, adapters and test in place of stubs.
pub fn starter(options: &ScaffoldOptions) -> Result<Vec<GeneratedFile>, ScaffoldError> {
    let text = starter::metadata(&options.crate_name);
    let service = bisslog_schema::validate_str(&options.metadata_file, &text)
        .into_service()
        .map_err(|report| ScaffoldError::Starter(format!("{} errors", report.error_count())))?;
    let name = &options.crate_name;
    let samples = [
        ("domain/src/ports/greetings.rs", starter::port()),
        ("domain/src/use_cases/greet.rs", starter::use_case()),
        ("src/adapters/memory/greetings.rs", starter::memory(name)),
        ("src/adapters/sql/greetings.rs", starter::sql(name)),
        ("tests/use_cases/greet.rs", starter::test(name)),
    ];
    let mut files = vec![GeneratedFile {
        path: options.metadata_file.clone(),
        contents: text,
    }];
    for mut file in workspace_files(&service, options, true) {
        if let Some((_, sample)) = samples.iter().find(|(path, _)| *path == file.path) {
            file.contents = sample.clone();
        }
        files.push(file);
    }
    Ok(files)
}

/// The workspace of `service` (`bisslog new --from`): manifests,
/// `.gitignore`, README, then [`service_files`]. The metadata file itself
/// is not among them: the command copies it as it is.
pub fn workspace(service: &ServiceMetadata, options: &ScaffoldOptions) -> Vec<GeneratedFile> {
    workspace_files(service, options, false)
}

fn workspace_files(
    service: &ServiceMetadata,
    options: &ScaffoldOptions,
    starter: bool,
) -> Vec<GeneratedFile> {
    let name = &options.crate_name;
    let mut files = vec![
        file(
            "Cargo.toml",
            CommentStyle::Hash,
            workspace::root_manifest(name, &options.framework),
        ),
        file(
            "domain/Cargo.toml",
            CommentStyle::Hash,
            workspace::domain_manifest(name, &options.framework),
        ),
        file(".gitignore", CommentStyle::Hash, workspace::gitignore()),
        file(
            "README.md",
            CommentStyle::Html,
            workspace::readme(name, starter),
        ),
    ];
    files.extend(service_files(service, options));
    files
}

/// The files the metadata decides, which `bisslog generate` writes: the
/// domain's modules, use cases and ports, the binary, the composition, the
/// adapters and the tests, in that order.
pub fn service_files(service: &ServiceMetadata, options: &ScaffoldOptions) -> Vec<GeneratedFile> {
    let plan = plan::Plan::of(service);
    let name = &options.crate_name;
    let rust = |path: String, body: String| file(&path, CommentStyle::Slashes, body);
    let mut files = vec![
        rust("domain/src/lib.rs".into(), domain::lib_rs(name)),
        rust(
            "domain/src/use_cases/mod.rs".into(),
            domain::use_cases_mod(&plan),
        ),
    ];
    for use_case in &plan.use_cases {
        files.push(rust(
            format!("domain/src/use_cases/{}.rs", use_case.module),
            domain::use_case_rs(&plan, use_case),
        ));
    }
    files.push(rust(
        "domain/src/ports/mod.rs".into(),
        domain::ports_mod(&plan),
    ));
    for port in &plan.ports {
        files.push(rust(
            format!("domain/src/ports/{}.rs", port.module),
            domain::port_rs(port),
        ));
    }
    files.push(rust(
        "src/main.rs".into(),
        service::main_rs(name, &options.metadata_file),
    ));
    files.push(rust("src/lib.rs".into(), service::lib_rs(name)));
    files.push(rust(
        "src/compose.rs".into(),
        service::compose_rs(name, &plan),
    ));
    files.push(rust("src/adapters/mod.rs".into(), service::adapters_mod()));
    for (kind, dir) in [("in-memory", "memory"), ("SQL", "sql")] {
        files.push(rust(
            format!("src/adapters/{dir}/mod.rs"),
            service::kind_mod(&plan, kind),
        ));
        for port in &plan.ports {
            let body = if dir == "memory" {
                service::memory_rs(name, port)
            } else {
                service::sql_rs(name, port)
            };
            files.push(rust(format!("src/adapters/{dir}/{}.rs", port.module), body));
        }
    }
    files.push(rust(
        "tests/use_cases/main.rs".into(),
        tests::main_rs(&plan),
    ));
    for use_case in &plan.use_cases {
        files.push(rust(
            format!("tests/use_cases/{}.rs", use_case.module),
            tests::use_case_test(name, &plan, use_case),
        ));
    }
    files
}

fn file(path: &str, style: CommentStyle, body: String) -> GeneratedFile {
    GeneratedFile {
        path: path.to_owned(),
        contents: stamp(style, COMMAND, &body),
    }
}
