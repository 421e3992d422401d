//! The check that a domain crate depends on `bisslog-core` and nothing
//! of the infrastructure.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The crates a domain must not reach, directly or through another
/// dependency: runtimes, servers, clients of databases, brokers and
/// clouds. A name ending in `*` is a prefix (`aws-*`). Every `bisslog-*`
/// crate other than `bisslog-core` is refused as well.
pub const INFRASTRUCTURE_CRATES: &[&str] = &[
    "tokio",
    "async-std",
    "smol",
    "axum",
    "actix-web",
    "hyper",
    "tower",
    "warp",
    "reqwest",
    "tonic",
    "sqlx",
    "diesel",
    "rusqlite",
    "tokio-postgres",
    "postgres",
    "mongodb",
    "redis",
    "async-nats",
    "nats",
    "lapin",
    "rdkafka",
    "aws-*",
    "lambda_runtime",
    "lambda_http",
];

/// The one framework crate a domain may depend on.
const CORE: &str = "bisslog-core";

/// Checks a domain crate's normal dependencies (not its dev- or build-
/// dependencies) with `cargo metadata`: the only `bisslog-*` crate it may
/// reach is `bisslog-core` (whose own dependencies are not walked), and it
/// may reach none of the [`INFRASTRUCTURE_CRATES`] nor the crates added
/// with [`forbid`](Self::forbid).
///
/// The features are those `cargo metadata` resolves for the whole
/// workspace, so an optional dependency another member turns on counts:
/// the check is stricter than one crate's build, never laxer.
///
/// ```no_run
/// use bisslog_testkit::DomainCheck;
///
/// #[test]
/// fn the_domain_reaches_no_infrastructure() {
///     DomainCheck::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../orders-domain"))
///         .forbid("chrono")
///         .assert();
/// }
/// ```
#[derive(Debug, Clone)]
pub struct DomainCheck {
    manifest_dir: PathBuf,
    forbidden: Vec<String>,
}

/// A crate a domain must not reach, and how it reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offence {
    /// The crate refused.
    pub name: String,
    /// The dependency path, from the domain crate to it (both included).
    pub path: Vec<String>,
}

/// Why a [`DomainCheck`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DomainCheckError {
    /// `cargo metadata` could not be run, or failed.
    #[error("`cargo metadata` for {manifest} failed: {message}")]
    Cargo {
        /// The manifest checked.
        manifest: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Its output is not the document expected.
    #[error("the output of `cargo metadata` for {manifest} could not be read: {message}")]
    Unreadable {
        /// The manifest checked.
        manifest: PathBuf,
        /// What is missing.
        message: String,
    },
    /// The domain crate reaches crates it must not.
    #[error(
        "the domain crate `{domain}` must depend on `bisslog-core` alone, but reaches:{}",
        offences.iter().map(|o| format!("\n  - `{}` through {}", o.name, o.path.join(" → "))).collect::<String>()
    )]
    Forbidden {
        /// The domain crate.
        domain: String,
        /// Each crate it must not reach, by its shortest path.
        offences: Vec<Offence>,
    },
}

impl DomainCheck {
    /// The check of the crate whose `Cargo.toml` is in `manifest_dir`.
    pub fn new(manifest_dir: impl AsRef<Path>) -> Self {
        Self {
            manifest_dir: manifest_dir.as_ref().to_path_buf(),
            forbidden: INFRASTRUCTURE_CRATES
                .iter()
                .map(|&c| c.to_owned())
                .collect(),
        }
    }

    /// Refuses one more crate (a name, or a prefix ending in `*`).
    #[must_use]
    pub fn forbid(mut self, name: impl Into<String>) -> Self {
        self.forbidden.push(name.into());
        self
    }

    /// Runs the check.
    pub fn run(&self) -> Result<(), DomainCheckError> {
        let manifest = self.manifest_dir.join("Cargo.toml");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--manifest-path"])
            .arg(&manifest)
            .output()
            .map_err(|e| DomainCheckError::Cargo {
                manifest: manifest.clone(),
                message: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(DomainCheckError::Cargo {
                manifest,
                message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).map_err(|e| DomainCheckError::Unreadable {
                manifest: manifest.clone(),
                message: e.to_string(),
            })?;
        self.check(&manifest, &metadata)
    }

    /// Runs the check and panics with its message when it fails: for a
    /// `#[test]`.
    #[track_caller]
    pub fn assert(&self) {
        if let Err(error) = self.run() {
            panic!("{error}");
        }
    }

    fn check(&self, manifest: &Path, metadata: &Value) -> Result<(), DomainCheckError> {
        let unreadable = |message: &str| DomainCheckError::Unreadable {
            manifest: manifest.to_path_buf(),
            message: message.to_owned(),
        };
        let root = metadata["resolve"]["root"]
            .as_str()
            .ok_or_else(|| unreadable("no root package (is it a virtual manifest?)"))?;
        let nodes = metadata["resolve"]["nodes"]
            .as_array()
            .ok_or_else(|| unreadable("no resolved dependency graph"))?;
        let graph: HashMap<&str, Vec<&str>> = nodes
            .iter()
            .filter_map(|node| Some((node["id"].as_str()?, normal_dependencies(node))))
            .collect();
        let names: HashMap<&str, &str> = metadata["packages"]
            .as_array()
            .ok_or_else(|| unreadable("no packages"))?
            .iter()
            .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
            .collect();
        let name = |id: &str| names.get(id).copied().unwrap_or(id).to_owned();

        // Breadth first: each offence is reported by its shortest path.
        let mut parent: HashMap<&str, &str> = HashMap::new();
        let mut queue = VecDeque::from([root]);
        let mut offences = Vec::new();
        while let Some(id) = queue.pop_front() {
            let crate_name = names.get(id).copied().unwrap_or(id);
            if id != root {
                if crate_name == CORE {
                    continue;
                }
                if self.refuses(crate_name) {
                    let mut path = vec![name(id)];
                    let mut at = id;
                    while let Some(&up) = parent.get(at) {
                        path.push(name(up));
                        at = up;
                    }
                    path.reverse();
                    offences.push(Offence {
                        name: crate_name.to_owned(),
                        path,
                    });
                    continue;
                }
            }
            for &dependency in graph.get(id).into_iter().flatten() {
                if dependency != root && !parent.contains_key(dependency) {
                    parent.insert(dependency, id);
                    queue.push_back(dependency);
                }
            }
        }
        if offences.is_empty() {
            Ok(())
        } else {
            Err(DomainCheckError::Forbidden {
                domain: name(root),
                offences,
            })
        }
    }

    fn refuses(&self, name: &str) -> bool {
        (name.starts_with("bisslog-") || name == "bisslog")
            || self.forbidden.iter().any(|f| match f.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == f,
            })
    }
}

/// The package ids of a resolved node's normal (not dev-, not build-)
/// dependencies.
fn normal_dependencies(node: &Value) -> Vec<&str> {
    node["deps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|dep| {
            dep["dep_kinds"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k["kind"].is_null()))
        })
        .filter_map(|dep| dep["pkg"].as_str())
        .collect()
}

/// Panics, naming each offending dependency and its path, when the domain
/// crate in `manifest_dir` reaches a `bisslog-*` crate other than
/// `bisslog-core` or one of the [`INFRASTRUCTURE_CRATES`]; see
/// [`DomainCheck`] to refuse more crates.
///
/// ```no_run
/// #[test]
/// fn the_domain_depends_only_on_bisslog_core() {
///     bisslog_testkit::assert_domain_depends_only_on_core(env!("CARGO_MANIFEST_DIR"));
/// }
/// ```
#[track_caller]
pub fn assert_domain_depends_only_on_core(manifest_dir: impl AsRef<Path>) {
    DomainCheck::new(manifest_dir).assert();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph: domain → helper → tokio, domain → bisslog-core → tokio.
    fn metadata() -> Value {
        serde_json::json!({
            "packages": [
                {"id": "d", "name": "orders-domain"},
                {"id": "h", "name": "helper"},
                {"id": "c", "name": "bisslog-core"},
                {"id": "t", "name": "tokio"},
                {"id": "x", "name": "proptest"}
            ],
            "resolve": {
                "root": "d",
                "nodes": [
                    {"id": "d", "deps": [
                        {"pkg": "h", "dep_kinds": [{"kind": null}]},
                        {"pkg": "c", "dep_kinds": [{"kind": null}]},
                        {"pkg": "x", "dep_kinds": [{"kind": "dev"}]}
                    ]},
                    {"id": "h", "deps": [{"pkg": "t", "dep_kinds": [{"kind": null}]}]},
                    {"id": "c", "deps": [{"pkg": "t", "dep_kinds": [{"kind": null}]}]},
                    {"id": "t", "deps": []},
                    {"id": "x", "deps": []}
                ]
            }
        })
    }

    #[test]
    fn an_offence_is_named_with_its_path_and_core_is_not_walked() {
        let check = DomainCheck::new(".");
        let Err(DomainCheckError::Forbidden { domain, offences }) =
            check.check(Path::new("Cargo.toml"), &metadata())
        else {
            panic!("tokio through helper is an offence");
        };
        assert_eq!(domain, "orders-domain");
        assert_eq!(
            offences,
            vec![Offence {
                name: "tokio".into(),
                path: vec!["orders-domain".into(), "helper".into(), "tokio".into()],
            }]
        );
    }

    #[test]
    fn dev_dependencies_do_not_count_and_the_list_extends() {
        let mut graph = metadata();
        graph["resolve"]["nodes"][1]["deps"] = serde_json::json!([]);
        let check = DomainCheck::new(".");
        assert!(check.check(Path::new("Cargo.toml"), &graph).is_ok());
        let stricter = DomainCheck::new(".").forbid("help*");
        let Err(DomainCheckError::Forbidden { offences, .. }) =
            stricter.check(Path::new("Cargo.toml"), &graph)
        else {
            panic!("helper is refused by its prefix");
        };
        assert_eq!(offences[0].name, "helper");
    }
}
