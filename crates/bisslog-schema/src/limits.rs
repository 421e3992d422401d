//! Explicit limits that keep hostile metadata files from exhausting memory
//! or time. Every limit breach is reported as a located diagnostic.

/// Resource limits applied while reading a metadata file.
///
/// The defaults are far above what any real service needs (the largest
/// benchmark file, 1,000 use cases in 40,000 lines, is about 1.4 MiB and
/// 200,000 nodes) and low enough that a file at the limits loads in well
/// under a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes. Default: 16 MiB.
    pub max_file_bytes: usize,
    /// Deepest nesting of mappings and sequences. Default: 64.
    pub max_depth: usize,
    /// Most nodes (scalars, mappings, sequences) a document may produce,
    /// counting every copy made by a YAML alias. Stops "billion laughs"
    /// alias bombs. Default: 1,000,000.
    pub max_nodes: usize,
}

impl Limits {
    /// The default limits, usable in constant contexts.
    pub const DEFAULT: Limits = Limits {
        max_file_bytes: 16 * 1024 * 1024,
        max_depth: 64,
        max_nodes: 1_000_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
