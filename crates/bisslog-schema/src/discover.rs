//! Finding a service's metadata file, the way the Python tools do.

use std::path::{Path, PathBuf};

use crate::load::LoadError;

/// The environment variable naming the metadata file.
pub const PATH_VARIABLE: &str = "SERVICE_METADATA_PATH";

/// The files looked for, in order, when no path is given.
pub const DEFAULT_NAMES: [&str; 6] = [
    "metadata.yml",
    "docs/metadata.yml",
    "metadata.json",
    "docs/metadata.json",
    "metadata.yaml",
    "docs/metadata.yaml",
];

/// The metadata file to read: `explicit` when given (a directory is
/// searched for the default names), else `SERVICE_METADATA_PATH`, else the
/// first default name that exists in the current directory.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf, LoadError> {
    let from_env = std::env::var_os(PATH_VARIABLE)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    match explicit.map(Path::to_path_buf).or(from_env) {
        Some(path) if path.is_dir() => find_in(&path),
        Some(path) => Ok(path),
        None => find_in(Path::new(".")),
    }
}

/// The first default metadata file in `dir`.
pub fn find_in(dir: &Path) -> Result<PathBuf, LoadError> {
    DEFAULT_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|candidate| candidate.is_file())
        .map(|found| {
            found
                .strip_prefix("./")
                .map(Path::to_path_buf)
                .unwrap_or(found)
        })
        .ok_or_else(|| LoadError::NotFound {
            searched: dir.to_path_buf(),
        })
}
