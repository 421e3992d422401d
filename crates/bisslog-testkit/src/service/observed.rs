//! What a driven service saw its use cases call, written for
//! `bisslog drift` at the end of each test.
//!
//! Each kit writes a file of its own (`<pid>-<n>.json`, through a
//! temporary file renamed into place), so test threads and test processes
//! running at once never write the same file and no file is ever read
//! half-written; `bisslog drift --observed <dir>` merges them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bisslog_runtime::resilience::ObservedInteractions;

/// The variable naming the directory where every [`TestService`] writes,
/// when dropped, what its service observed: the use cases seen calling
/// each external interaction
/// ([`ObservedInteractions`]), for `bisslog drift --observed <dir>`.
///
/// [`TestService`]: super::TestService
pub const OBSERVED_INTERACTIONS_VAR: &str = "BISSLOG_OBSERVED_INTERACTIONS";

/// The number of the next file this process writes.
static NEXT: AtomicU64 = AtomicU64::new(0);

/// Writes `document` as a new file in `dir` (created if missing).
pub(super) fn write(dir: &Path, document: &ObservedInteractions) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let file = dir.join(format!("{name}.json"));
    // Not `*.json`: a reader listing the directory skips it.
    let partial = dir.join(format!(".{name}.json.partial"));
    let mut text = serde_json::to_vec_pretty(document)?;
    text.push(b'\n');
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, &file)?;
    Ok(file)
}

/// The directory [`OBSERVED_INTERACTIONS_VAR`] names, if set and not empty.
pub(super) fn dir_from_env() -> Option<PathBuf> {
    std::env::var_os(OBSERVED_INTERACTIONS_VAR)
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}
