//! Diagrams drawn from metadata, each as a self-contained SVG (no fonts,
//! stylesheets or scripts to fetch; `width`, `height` and `viewBox` set;
//! every label escaped) and as Mermaid text that code hosts render.
//!
//! | function | draws |
//! |---|---|
//! | [`hexagon`] | one service: driving adapters, use cases inside the hexagon, driven ports |
//! | [`system_map`] | several services: publisher → queue → consumer, HTTP calls, warnings |
//! | [`sequence`] | one use case: trigger → use case → each external interaction and back |
//!
//! Layout is computed from estimated text widths, so the same metadata
//! always gives the same bytes.
//!
//! ```
//! let service = bisslog_schema::validate_str(
//!     "metadata.yml",
//!     "
//! name: greeter
//! use_cases:
//!   greet:
//!     triggers: [{type: http, options: {method: get, path: /greet}}]
//!     external_interactions: [{keyname: greetings, type_interaction: database, operation: save}]
//! ",
//! )
//! .into_service()
//! .expect("valid metadata");
//! let diagram = bisslog_codegen::diagram::hexagon(&service);
//! assert!(diagram.svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\""));
//! assert!(diagram.svg.contains(">GET /greet</text>"));
//! assert!(diagram.mermaid.starts_with("flowchart LR\n"));
//! ```

mod hexagon;
mod labels;
mod sequence;
mod svg;
mod system;
mod system_map;
mod text;

pub use hexagon::hexagon;
pub use sequence::sequence;
pub use system::{SystemWarning, system_warnings};
pub use system_map::system_map;

pub(crate) use labels::{port_kind, trigger_label};

/// One diagram in two notations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagram {
    /// A standalone SVG document (an `<svg>` element with class `diagram`),
    /// also fit to be inlined in HTML.
    pub svg: String,
    /// The same picture as Mermaid text (`flowchart LR` or
    /// `sequenceDiagram`).
    pub mermaid: String,
}
