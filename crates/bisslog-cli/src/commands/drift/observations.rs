//! Reading what services observed: a document served by a running
//! service, a file, or the directory the test kit writes one file per
//! test into.

use std::path::{Path, PathBuf};

use bisslog_runtime::resilience::ObservedInteractions;

/// Where the observations come from, for messages.
pub(crate) enum Source {
    /// `--observed FILE`
    File(PathBuf),
    /// `--observed DIR`, with the number of documents read.
    Dir(PathBuf, usize),
    /// `--from URL`
    Url(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Dir(path, count) => write!(
                f,
                "{} ({})",
                path.display(),
                super::super::plural(*count, "file")
            ),
            Source::Url(url) => write!(f, "{url}"),
        }
    }
}

/// Why no observations could be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// What was read.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A file is not an observation document.
    #[error(
        "{origin} is not an observation document (`{{\"service\": ..., \"uses\": [...]}}`): {source}"
    )]
    Document {
        /// The file or URL it came from.
        origin: String,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// The service could not be asked.
    #[error(transparent)]
    Fetch(#[from] super::fetch::FetchError),
}

/// Every document at `path` (a file, or the `*.json` files of a
/// directory), merged per service.
pub(crate) fn read_path(path: &Path) -> Result<(Vec<ObservedInteractions>, Source), ReadError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReadError::Io { path, source }
    };
    if !path.is_dir() {
        let text = std::fs::read(path).map_err(io(path))?;
        let document = parse(&text, &path.display().to_string())?;
        return Ok((vec![document], Source::File(path.to_owned())));
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io(path))? {
        let file = entry.map_err(io(path))?.path();
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // Dot files are the kit's files still being written.
        if name.ends_with(".json") && !name.starts_with('.') && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    let mut documents = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read(file).map_err(io(file))?;
        documents.push(parse(&text, &file.display().to_string())?);
    }
    Ok((
        ObservedInteractions::merge(documents),
        Source::Dir(path.to_owned(), files.len()),
    ))
}

/// The document a running service serves at `<base>/interactions/observed`.
pub(crate) fn read_url(base: &str) -> Result<(Vec<ObservedInteractions>, Source), ReadError> {
    let url = format!(
        "{}{}",
        base.trim_end_matches('/'),
        super::OBSERVED_INTERACTIONS_PATH
    );
    let body = super::fetch::get(&url)?;
    let document = parse(&body, &url)?;
    Ok((vec![document], Source::Url(url)))
}

fn parse(text: &[u8], origin: &str) -> Result<ObservedInteractions, ReadError> {
    serde_json::from_slice(text).map_err(|source| ReadError::Document {
        origin: origin.to_owned(),
        source,
    })
}
