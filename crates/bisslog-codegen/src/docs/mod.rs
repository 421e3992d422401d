//! A static catalog of services, with diagrams: HTML that opens from disk
//! (relative links, no network, a search box over an embedded index), or
//! the same content as Markdown with Mermaid diagrams.
//!
//! | HTML file | Markdown file | what it shows |
//! |---|---|---|
//! | `index.html` | `README.md` | the services with team and type, the [system map](crate::diagram::system_map), the warnings |
//! | `services/<service>/index.html` | `services/<service>/README.md` | team, type, tags, description, use cases by criticality, the [hexagon](crate::diagram::hexagon) |
//! | `services/<service>/<use case>.html` | `services/<service>/<use case>.md` | actor, type, criticality, triggers, mappers, external interactions, the [sequence](crate::diagram::sequence) |
//! | `style.css`, `search.js` | | the one stylesheet and the search script, the same on every site |
//! | `search-index.js` | | the index the search box filters |
//!
//! File names are the keynames made safe (`company data registry` →
//! `company-data-registry`) and numbered when two would collide. Links to
//! service pages have the class `service-link`, links to use-case pages
//! `use-case-link`, and every diagram is an inline `<svg class="diagram">`
//! with its Mermaid text under it.
//!
//! ```
//! use bisslog_codegen::docs::{self, DocsFormat, DocsService};
//!
//! let service = bisslog_schema::validate_str(
//!     "metadata.yml",
//!     "name: greeter\nuse_cases:\n  greet:\n    triggers: [{type: http, options: {path: /greet}}]\n",
//! )
//! .into_service()
//! .expect("valid metadata");
//! let site = docs::generate(&[DocsService::new("metadata.yml", service)], DocsFormat::Html)?;
//! let paths: Vec<&str> = site.iter().map(|f| f.path.as_str()).collect();
//! assert_eq!(
//!     paths,
//!     ["index.html", "services/greeter/index.html", "services/greeter/greet.html", "style.css", "search-index.js", "search.js"]
//! );
//! assert!(site[0].contents.contains(r#"<a class="service-link" href="services/greeter/index.html">"#));
//! # Ok::<(), bisslog_codegen::docs::DocsError>(())
//! ```

mod content;
mod html;
mod markdown;
mod names;
mod pages;
mod search;

use bisslog_schema::{ServiceMetadata, UseCaseMetadata};

use crate::output::GeneratedFile;
use names::Names;

/// The command named in the header of every file this module generates.
pub const COMMAND: &str = "bisslog docs";

/// One service of the catalog and where its metadata lives.
#[derive(Debug, Clone, PartialEq)]
pub struct DocsService {
    /// The metadata file's path, as shown on the service page.
    pub metadata_path: String,
    /// The service.
    pub service: ServiceMetadata,
}

impl DocsService {
    /// A service read from `metadata_path`.
    pub fn new(metadata_path: impl Into<String>, service: ServiceMetadata) -> Self {
        DocsService {
            metadata_path: metadata_path.into(),
            service,
        }
    }
}

/// Which kind of site to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocsFormat {
    /// HTML pages with inline SVG diagrams, a stylesheet and a search box.
    #[default]
    Html,
    /// Markdown pages with Mermaid diagrams.
    Markdown,
}

/// Why no site was generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocsError {
    /// The list of services was empty.
    #[error("no services to document")]
    NoServices,
}

/// The site of `services`, in a stable order: the system page, then each
/// service's page followed by its use cases' pages (metadata order), then
/// the shared assets. The same input always gives the same bytes.
pub fn generate(
    services: &[DocsService],
    format: DocsFormat,
) -> Result<Vec<GeneratedFile>, DocsError> {
    if services.is_empty() {
        return Err(DocsError::NoServices);
    }
    let plan = Plan::new(services);
    Ok(match format {
        DocsFormat::Html => pages::site(&plan),
        DocsFormat::Markdown => markdown::site(&plan),
    })
}

/// Where every page goes, decided once for both formats.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    pub(crate) services: Vec<ServicePlan<'a>>,
    /// The services alone, in the order given, for the system diagrams.
    pub(crate) models: Vec<ServiceMetadata>,
}

/// One service's pages.
#[derive(Debug)]
pub(crate) struct ServicePlan<'a> {
    pub(crate) doc: &'a DocsService,
    /// The directory under `services/`.
    pub(crate) dir: String,
    /// The use cases in metadata order, each with its page's file stem.
    pub(crate) use_cases: Vec<(&'a UseCaseMetadata, String)>,
}

impl ServicePlan<'_> {
    /// Indices into `use_cases`, most critical first (metadata order
    /// among equals).
    pub(crate) fn by_criticality(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.use_cases.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(self.use_cases[*i].0.criticality));
        order
    }
}

impl<'a> Plan<'a> {
    fn new(services: &'a [DocsService]) -> Self {
        let mut dirs = Names::default();
        let services = services
            .iter()
            .map(|doc| {
                // `index` and `readme` are the service pages themselves.
                let mut stems = Names::with_reserved(&["index", "readme"]);
                ServicePlan {
                    doc,
                    dir: dirs.claim(&doc.service.name, "service"),
                    use_cases: doc
                        .service
                        .use_cases
                        .values()
                        .map(|u| (u, stems.claim(&u.keyname, "use-case")))
                        .collect(),
                }
            })
            .collect::<Vec<_>>();
        let models = services.iter().map(|s| s.doc.service.clone()).collect();
        Plan { services, models }
    }
}
