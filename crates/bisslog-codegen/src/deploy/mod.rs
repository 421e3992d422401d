//! Container deployment files: a multi-stage `Dockerfile` that builds the
//! service as a static binary, and the Kubernetes manifests that run it
//! (Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget).
//!
//! | function | files |
//! |---|---|
//! | [`kubernetes`] | `deployment.yaml`, `service.yaml`, `hpa.yaml`, `pdb.yaml` |
//! | [`docker`] | `Dockerfile`, `Dockerfile.dockerignore` |
//!
//! What comes from where:
//!
//! - replicas, the disruption budget, CPU and memory from the service's
//!   criticality, the highest of its use cases' ([`criticality`]);
//! - `terminationGracePeriodSeconds` from the runner's stop sequence and
//!   the triggers the service has ([`timing`]);
//! - the mounted secrets (`DATABASE_URL_FILE`, `BROKER_URL_FILE`) from its
//!   interactions and triggers ([`secrets`]);
//! - probes on `/health/live` and `/health/ready`, which every service
//!   serves.
//!
//! # Example
//!
//! ```
//! use bisslog_codegen::deploy::{self, KubernetesOptions};
//!
//! let service = bisslog_schema::validate_str(
//!     "metadata.yml",
//!     "
//! name: greeter
//! use_cases:
//!   greet:
//!     criticality: high
//!     triggers:
//!       - type: http
//!         options: {method: get, path: '/greet/{name}'}
//! ",
//! )
//! .into_service()
//! .expect("valid metadata");
//! let files = deploy::kubernetes(&service, &KubernetesOptions::new("greeter:1.0.0"))?;
//! let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
//! assert_eq!(paths, ["deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"]);
//! // `high`: at least three replicas, two of them kept through disruptions.
//! assert!(files[2].contents.contains("minReplicas: 3\n"));
//! assert!(files[3].contents.contains("minAvailable: 2\n"));
//! // 5 s SHUTDOWN_DELAY + 30 s HTTP drain + a 5 s margin.
//! assert!(files[0].contents.contains("terminationGracePeriodSeconds: 40\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod criticality;
mod docker;
mod kubernetes;
pub mod secrets;
pub mod timing;

use bisslog_schema::ServiceMetadata;

use crate::output::GeneratedFile;
use crate::stamp::{CommentStyle, stamp};

/// The command named in the header of the Kubernetes manifests.
pub const KUBERNETES_COMMAND: &str = "bisslog deploy kubernetes";
/// The command named in the header of the Docker files.
pub const DOCKER_COMMAND: &str = "bisslog deploy docker";

/// The `SHUTDOWN_DELAY` the manifests set, in seconds: long enough for
/// kube-proxy and ingress controllers to stop sending new requests after
/// the pod is marked terminating.
pub const DEFAULT_SHUTDOWN_DELAY_SECS: u32 = 5;

/// The port the runner listens on by default (`PORT`).
pub const DEFAULT_PORT: u16 = 8080;

/// What the Kubernetes manifests need besides the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesOptions {
    /// The container image (`registry.example.com/orders:1.4.2`).
    pub image: String,
    /// The port the service listens on (`PORT`).
    pub port: u16,
    /// `SHUTDOWN_DELAY`, in seconds.
    pub shutdown_delay_secs: u32,
}

impl KubernetesOptions {
    /// Options with the defaults: port 8080, a 5 s shutdown delay.
    pub fn new(image: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            port: DEFAULT_PORT,
            shutdown_delay_secs: DEFAULT_SHUTDOWN_DELAY_SECS,
        }
    }
}

/// What the Dockerfile needs besides the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerOptions {
    /// The Cargo package that holds the service's binary.
    pub package: String,
    /// The binary's name (a package's default binary has its name).
    pub binary: String,
    /// The port the image sets `PORT` to and exposes.
    pub port: u16,
    /// The builder stage's image (a Debian-based `rust` image).
    pub rust_image: String,
}

impl DockerOptions {
    /// Options with the defaults: the binary named after the package, port
    /// 8080, the `rust` image of this crate's minimum Rust version.
    pub fn new(package: impl Into<String>) -> Self {
        let package = package.into();
        Self {
            binary: package.clone(),
            package,
            port: DEFAULT_PORT,
            rust_image: format!("rust:{}-slim-bookworm", env!("CARGO_PKG_RUST_VERSION")),
        }
    }
}

/// Why deployment files cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The service's name has no letter or digit to make a Kubernetes name.
    #[error(
        "service name `{name}` gives no Kubernetes name (lower-case letters, digits and `-`, \
         starting with a letter)"
    )]
    InvalidName {
        /// The service's name.
        name: String,
    },
    /// An option has a value the files cannot hold.
    #[error("--{option}: {message}")]
    InvalidOption {
        /// The option, as the command-line flag names it (`image`).
        option: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The Kubernetes manifests of `service`: `deployment.yaml`,
/// `service.yaml`, `hpa.yaml` and `pdb.yaml`, in that order, each starting
/// with its generated-file header. The same input gives the same bytes.
pub fn kubernetes(
    service: &ServiceMetadata,
    options: &KubernetesOptions,
) -> Result<Vec<GeneratedFile>, DeployError> {
    let name = resource_name(&service.name)?;
    check_port(options.port)?;
    if options.image.trim().is_empty() || options.image.chars().any(char::is_whitespace) {
        return Err(DeployError::InvalidOption {
            option: "image",
            message: "an image reference has no spaces and is not empty".to_owned(),
        });
    }
    Ok(kubernetes::render(service, &name, options)
        .into_iter()
        .map(|(path, body)| GeneratedFile {
            path: path.to_owned(),
            contents: stamp(CommentStyle::Hash, KUBERNETES_COMMAND, &body),
        })
        .collect())
}

/// The Docker files of `service`: `Dockerfile` and
/// `Dockerfile.dockerignore` (the ignore file BuildKit reads for a
/// Dockerfile of that name), each starting with its generated-file header.
pub fn docker(
    service: &ServiceMetadata,
    options: &DockerOptions,
) -> Result<Vec<GeneratedFile>, DeployError> {
    check_port(options.port)?;
    let cargo_name = |option, value: &str| {
        let valid = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if valid {
            Ok(())
        } else {
            Err(DeployError::InvalidOption {
                option,
                message: format!("`{value}` is not a Cargo package or binary name"),
            })
        }
    };
    cargo_name("package", &options.package)?;
    cargo_name("binary", &options.binary)?;
    if options.rust_image.trim().is_empty() || options.rust_image.chars().any(char::is_whitespace) {
        return Err(DeployError::InvalidOption {
            option: "rust-image",
            message: "an image reference has no spaces and is not empty".to_owned(),
        });
    }
    Ok(vec![
        GeneratedFile {
            path: "Dockerfile".to_owned(),
            contents: stamp(
                CommentStyle::Hash,
                DOCKER_COMMAND,
                &docker::dockerfile(service, options),
            ),
        },
        GeneratedFile {
            path: "Dockerfile.dockerignore".to_owned(),
            contents: stamp(CommentStyle::Hash, DOCKER_COMMAND, docker::DOCKERIGNORE),
        },
    ])
}

fn check_port(port: u16) -> Result<(), DeployError> {
    if port == 0 {
        return Err(DeployError::InvalidOption {
            option: "port",
            message: "a container port is from 1 to 65535".to_owned(),
        });
    }
    Ok(())
}

/// The longest name the manifests use for the service (a DNS-1035 label,
/// which a Service's name must be).
const MAX_NAME: usize = 63;

/// The service's name as a Kubernetes resource name: lower case, runs of
/// other characters as one `-`, starting with a letter, at most 63
/// characters.
pub fn resource_name(service_name: &str) -> Result<String, DeployError> {
    let mut name = String::new();
    for c in service_name.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let mut name = name.to_owned();
    name.truncate(MAX_NAME);
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() {
        return Err(DeployError::InvalidName {
            name: service_name.to_owned(),
        });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(
            resource_name("company-data-registry").ok().as_deref(),
            Some("company-data-registry")
        );
        assert_eq!(
            resource_name("User Management!").ok().as_deref(),
            Some("user-management")
        );
        assert_eq!(
            resource_name("2fa_service").ok().as_deref(),
            Some("fa-service")
        );
        assert_eq!(resource_name(&"a".repeat(80)).map(|n| n.len()), Ok(63));
        assert!(matches!(
            resource_name("--- 42"),
            Err(DeployError::InvalidName { .. })
        ));
    }
}
