//! What `bisslog lambda generate` assumes when it runs inside the
//! service's crate and is not told: the crate is the package of the nearest
//! `Cargo.toml` at or above the working directory, and it builds its service
//! with `<crate>::lambda_service` (the documented convention).

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// The service crate found around the working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceCrate {
    /// The package name.
    pub(crate) name: String,
    /// Its directory (absolute).
    pub(crate) dir: PathBuf,
    /// The manifest it was read from.
    pub(crate) manifest: PathBuf,
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
}

impl ServiceCrate {
    /// The package of the nearest `Cargo.toml` with a `[package]` at or
    /// above `start`.
    pub(crate) fn find(start: &Path) -> anyhow::Result<ServiceCrate> {
        let start = absolute(start)?;
        for dir in start.ancestors() {
            let manifest = dir.join("Cargo.toml");
            if !manifest.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&manifest)
                .with_context(|| format!("cannot read {}", manifest.display()))?;
            let parsed: Manifest = toml::from_str(&text)
                .with_context(|| format!("{} is not a valid Cargo manifest", manifest.display()))?;
            if let Some(package) = parsed.package {
                return Ok(ServiceCrate {
                    name: package.name,
                    dir: dir.to_owned(),
                    manifest,
                });
            }
        }
        bail!(
            "no Cargo.toml with a [package] at or above {}: run inside the service's crate, \
             or pass --crate-name, --crate-path and --setup",
            start.display()
        )
    }

    /// `<crate>::lambda_service`: the async function the convention names.
    pub(crate) fn setup(&self) -> String {
        format!("{}::lambda_service", self.name.replace('-', "_"))
    }

    /// The crate's directory relative to `from` (the bootstrap crate's).
    pub(crate) fn path_from(&self, from: &Path) -> anyhow::Result<String> {
        Ok(relative(&absolute(from)?, &self.dir))
    }
}

/// `path` made absolute against the working directory, with `.` and `..`
/// resolved lexically (the directory may not exist yet).
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .context("cannot read the working directory")?
            .join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// The relative path from the directory `from` to `to`, with `/`.
fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_then_descend() {
        assert_eq!(
            relative(Path::new("/a/b/lambda/bootstrap"), Path::new("/a/b")),
            "../.."
        );
        assert_eq!(
            relative(Path::new("/a/x/y"), Path::new("/a/b/c")),
            "../../b/c"
        );
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), ".");
    }

    #[test]
    fn the_setup_function_is_named_after_the_crate() {
        let found = ServiceCrate {
            name: "orders-service".to_owned(),
            dir: PathBuf::from("/x"),
            manifest: PathBuf::from("/x/Cargo.toml"),
        };
        assert_eq!(found.setup(), "orders_service::lambda_service");
    }
}
