//! The HTML site: the system page, one page per service and one per use
//! case, the stylesheet and the search script.

use std::fmt::Write;

use bisslog_schema::UseCaseMetadata;

use super::content::{
    access_badge, trigger_details, trigger_mapper, trigger_summary, who_may_call,
};
use super::html::{criticality_badge, diagram, esc, facts, page, tags};
use super::{COMMAND, Plan, ServicePlan, search};
use crate::diagram::{self as draw, port_kind, system_warnings, trigger_label};
use crate::output::GeneratedFile;
use crate::stamp::{CommentStyle, stamp};

/// The stylesheet every page links.
const STYLE: &str = include_str!("style.css");

fn file(path: String, style: CommentStyle, body: &str) -> GeneratedFile {
    GeneratedFile {
        path,
        contents: stamp(style, COMMAND, body),
    }
}

/// Every file of the HTML site.
pub(crate) fn site(plan: &Plan<'_>) -> Vec<GeneratedFile> {
    let mut files = vec![file(
        "index.html".to_owned(),
        CommentStyle::Html,
        &system_page(plan),
    )];
    for service in &plan.services {
        let dir = format!("services/{}", service.dir);
        files.push(file(
            format!("{dir}/index.html"),
            CommentStyle::Html,
            &service_page(service),
        ));
        for (use_case, stem) in &service.use_cases {
            let body = use_case_page(service, use_case);
            files.push(file(
                format!("{dir}/{stem}.html"),
                CommentStyle::Html,
                &body,
            ));
        }
    }
    files.push(file("style.css".to_owned(), CommentStyle::Block, STYLE));
    files.push(file(
        "search-index.js".to_owned(),
        CommentStyle::Slashes,
        &search::index_script(plan),
    ));
    files.push(file(
        "search.js".to_owned(),
        CommentStyle::Slashes,
        search::SCRIPT,
    ));
    files
}

/// `text` escaped, the parts between backticks as `<code>`.
fn with_code(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", esc(part))
            } else {
                esc(part)
            }
        })
        .collect()
}

fn opt_esc(value: Option<&String>) -> Option<String> {
    value.map(|v| esc(v))
}

fn system_page(plan: &Plan<'_>) -> String {
    let use_cases: usize = plan.services.iter().map(|s| s.use_cases.len()).sum();
    let mut body = format!(
        "<h1>System catalog</h1>\n<p class=\"lead\">{} services, {} use cases.</p>\n",
        plan.services.len(),
        use_cases
    );
    body.push_str(concat!(
        "<h2>Services</h2>\n<table class=\"services\">\n<thead><tr><th>Service</th>",
        "<th>Team</th><th>Type</th><th>Use cases</th><th>Description</th></tr></thead>\n<tbody>\n"
    ));
    for service in &plan.services {
        let s = &service.doc.service;
        let kind: Vec<&str> = [s.kind.as_deref(), s.service_type.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let _ = writeln!(
            body,
            "<tr><td><a class=\"service-link\" href=\"services/{}/index.html\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            service.dir,
            esc(&s.name),
            esc(s.team.as_deref().unwrap_or("")),
            esc(&kind.join(" · ")),
            service.use_cases.len(),
            esc(s.description.as_deref().unwrap_or(""))
        );
    }
    body.push_str("</tbody>\n</table>\n<h2>System map</h2>\n");
    body.push_str(&diagram(&draw::system_map(&plan.models)));
    body.push_str("<h2 id=\"warnings\">Warnings</h2>\n");
    let warnings = system_warnings(&plan.models);
    if warnings.is_empty() {
        body.push_str("<p>No warnings: every queue has a publisher and a consumer, and no database is shared.</p>\n");
    } else {
        body.push_str("<ul class=\"warnings\">\n");
        for warning in warnings {
            let _ = writeln!(
                body,
                "<li><span class=\"badge warning\">{}</span> {}</li>",
                esc(warning.title()),
                with_code(&warning.detail())
            );
        }
        body.push_str("</ul>\n");
    }
    page("System catalog", "", &[], &body)
}

fn service_page(service: &ServicePlan<'_>) -> String {
    let s = &service.doc.service;
    let mut body = format!("<h1>{}</h1>\n", esc(&s.name));
    if let Some(description) = &s.description {
        let _ = writeln!(body, "<p class=\"lead\">{}</p>", esc(description));
    }
    body.push_str(&facts(&[
        ("Team", opt_esc(s.team.as_ref())),
        ("Type", opt_esc(s.kind.as_ref())),
        ("Service type", opt_esc(s.service_type.as_ref())),
        ("Tags", tags(&s.tags)),
        (
            "Metadata",
            Some(format!("<code>{}</code>", esc(&service.doc.metadata_path))),
        ),
    ]));
    body.push_str(concat!(
        "<h2>Use cases</h2>\n<table class=\"use-cases\">\n<thead><tr><th>Criticality</th>",
        "<th>Use case</th><th>Actor</th><th>Triggers</th><th>Description</th></tr></thead>\n<tbody>\n"
    ));
    for i in service.by_criticality() {
        let (use_case, stem) = &service.use_cases[i];
        let triggers: Vec<String> = use_case
            .triggers
            .iter()
            .map(|t| esc(&trigger_summary(t)))
            .collect();
        let access = access_badge(use_case)
            .map(|word| {
                format!(" <span class=\"badge access-{word}\" title=\"who may call\">{word}</span>")
            })
            .unwrap_or_default();
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td><a class=\"use-case-link\" href=\"{stem}.html\">{}</a>{access}<br><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            criticality_badge(use_case.criticality),
            esc(use_case.display_name()),
            esc(&use_case.keyname),
            esc(use_case.actor.as_deref().unwrap_or("")),
            triggers.join("<br>"),
            esc(use_case.description.as_deref().unwrap_or(""))
        );
    }
    body.push_str("</tbody>\n</table>\n<h2>Ports and adapters</h2>\n");
    body.push_str(&diagram(&draw::hexagon(s)));
    page(
        &s.name,
        "../../",
        &[("../../index.html".to_owned(), "System".to_owned())],
        &body,
    )
}

fn use_case_page(service: &ServicePlan<'_>, use_case: &UseCaseMetadata) -> String {
    let s = &service.doc.service;
    let mut body = format!(
        "<h1>{} {}</h1>\n<p><code>{}</code></p>\n",
        esc(use_case.display_name()),
        criticality_badge(use_case.criticality),
        esc(&use_case.keyname)
    );
    if let Some(description) = &use_case.description {
        let _ = writeln!(body, "<p class=\"lead\">{}</p>", esc(description));
    }
    body.push_str(&facts(&[
        (
            "Service",
            Some(format!("<a href=\"index.html\">{}</a>", esc(&s.name))),
        ),
        ("Actor", opt_esc(use_case.actor.as_ref())),
        ("Type", opt_esc(use_case.kind.as_ref())),
        ("Criticality", Some(criticality_badge(use_case.criticality))),
        ("Tags", tags(&use_case.tags)),
    ]));
    body.push_str("<h2>Triggers</h2>\n");
    if use_case.triggers.is_empty() {
        body.push_str("<p>No triggers: the use case is called from code only.</p>\n");
    }
    for trigger in &use_case.triggers {
        let label = trigger_label(trigger);
        let _ = writeln!(
            body,
            "<section class=\"trigger\">\n<h3><span class=\"badge kind-{}\">{}</span> {}</h3>",
            label.kind.to_ascii_lowercase(),
            esc(label.kind),
            esc(&label.text)
        );
        let pairs: Vec<(&str, Option<String>)> = trigger_details(trigger)
            .into_iter()
            .map(|(name, value)| (name, Some(format!("<code>{}</code>", esc(&value)))))
            .collect();
        body.push_str(&facts(&pairs));
        if let Some(mapper) = trigger_mapper(trigger).filter(|m| !m.entries.is_empty()) {
            body.push_str("<table class=\"mapper\">\n<thead><tr><th>Source</th><th>Argument</th></tr></thead>\n<tbody>\n");
            for entry in &mapper.entries {
                let _ = writeln!(
                    body,
                    "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    esc(&entry.source.to_string()),
                    esc(&entry.target)
                );
            }
            body.push_str("</tbody>\n</table>\n");
        }
        body.push_str("</section>\n");
    }
    let access = who_may_call(use_case);
    if !access.is_empty() {
        body.push_str("<h2>Who may call</h2>\n<ul class=\"access\">\n");
        for line in &access {
            let _ = writeln!(body, "<li>{}</li>", with_code(line));
        }
        body.push_str("</ul>\n");
    }
    body.push_str("<h2>External interactions</h2>\n");
    if use_case.external_interactions.is_empty() {
        body.push_str("<p>None.</p>\n");
    } else {
        body.push_str("<table class=\"interactions\">\n<thead><tr><th>Port</th><th>Type</th><th>Operations</th><th>Description</th></tr></thead>\n<tbody>\n");
        for interaction in &use_case.external_interactions {
            let ops: Vec<String> = interaction
                .operation
                .iter()
                .map(|op| format!("<code>{}</code>", esc(op)))
                .collect();
            let _ = writeln!(
                body,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&interaction.keyname),
                esc(port_kind(interaction)),
                ops.join(", "),
                esc(interaction.description.as_deref().unwrap_or(""))
            );
        }
        body.push_str("</tbody>\n</table>\n");
    }
    if let Some(sequence) = draw::sequence(s, &use_case.keyname) {
        body.push_str("<h2>Sequence</h2>\n");
        body.push_str(&diagram(&sequence));
    }
    let crumbs = [
        ("../../index.html".to_owned(), "System".to_owned()),
        ("index.html".to_owned(), s.name.clone()),
    ];
    page(use_case.display_name(), "../../", &crumbs, &body)
}
