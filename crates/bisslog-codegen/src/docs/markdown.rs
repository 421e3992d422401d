//! The Markdown site: the same pages as the HTML site, with Mermaid
//! diagrams in fenced blocks that code hosts render.

use std::fmt::Write;

use bisslog_schema::{Criticality, UseCaseMetadata};

use super::content::{
    access_badge, trigger_details, trigger_mapper, trigger_summary, who_may_call,
};
use super::{COMMAND, Plan, ServicePlan};
use crate::diagram::{self as draw, Diagram, port_kind, system_warnings};
use crate::output::GeneratedFile;
use crate::stamp::{CommentStyle, stamp};

/// `text` with Markdown's special characters escaped and line breaks
/// turned into spaces, fit for a paragraph or a table cell.
pub(crate) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `text` as inline code; backticks inside are replaced since a table
/// cell cannot hold a multi-backtick span reliably.
fn code(text: &str) -> String {
    format!(
        "`{}`",
        text.replace('`', "'")
            .replace('|', "\\|")
            .replace('\n', " ")
    )
}

/// `text` where the parts between backticks become inline code.
fn with_code(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { code(part) } else { md(part) })
        .collect()
}

fn mermaid(diagram: &Diagram) -> String {
    format!("```mermaid\n{}```\n", diagram.mermaid)
}

fn badge(criticality: Criticality) -> String {
    let marker = match criticality {
        Criticality::Critical | Criticality::VeryHigh => "🔴",
        Criticality::High => "🟠",
        Criticality::Medium => "🟡",
        Criticality::Low | Criticality::VeryLow => "🟢",
        Criticality::None => "⚪",
    };
    format!(
        "{marker} {} ({})",
        criticality.name().replace('_', " "),
        criticality.level()
    )
}

fn file(path: String, body: &str) -> GeneratedFile {
    GeneratedFile {
        path,
        contents: stamp(CommentStyle::Html, COMMAND, body),
    }
}

/// Every file of the Markdown site.
pub(crate) fn site(plan: &Plan<'_>) -> Vec<GeneratedFile> {
    let mut files = vec![file("README.md".to_owned(), &system_page(plan))];
    for service in &plan.services {
        let dir = format!("services/{}", service.dir);
        files.push(file(format!("{dir}/README.md"), &service_page(service)));
        for (use_case, stem) in &service.use_cases {
            files.push(file(
                format!("{dir}/{stem}.md"),
                &use_case_page(service, use_case),
            ));
        }
    }
    files
}

fn system_page(plan: &Plan<'_>) -> String {
    let use_cases: usize = plan.services.iter().map(|s| s.use_cases.len()).sum();
    let mut out = format!(
        "# System catalog\n\n{} services, {} use cases.\n\n## Services\n\n| Service | Team | Type | Use cases | Description |\n|---|---|---|---|---|\n",
        plan.services.len(),
        use_cases
    );
    for service in &plan.services {
        let s = &service.doc.service;
        let kind: Vec<&str> = [s.kind.as_deref(), s.service_type.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let _ = writeln!(
            out,
            "| [{}](services/{}/README.md) | {} | {} | {} | {} |",
            md(&s.name),
            service.dir,
            md(s.team.as_deref().unwrap_or("")),
            md(&kind.join(" · ")),
            service.use_cases.len(),
            md(s.description.as_deref().unwrap_or(""))
        );
    }
    out.push_str("\n## System map\n\n");
    out.push_str(&mermaid(&draw::system_map(&plan.models)));
    out.push_str("\n## Warnings\n\n");
    let warnings = system_warnings(&plan.models);
    if warnings.is_empty() {
        out.push_str(
            "No warnings: every queue has a publisher and a consumer, and no database is shared.\n",
        );
    }
    for warning in warnings {
        let _ = writeln!(
            out,
            "- ⚠️ **{}**: {}",
            md(warning.title()),
            with_code(&warning.detail())
        );
    }
    out
}

fn service_page(service: &ServicePlan<'_>) -> String {
    let s = &service.doc.service;
    let mut out = format!(
        "[System](../../README.md) › {}\n\n# {}\n\n",
        md(&s.name),
        md(&s.name)
    );
    if let Some(description) = &s.description {
        let _ = writeln!(out, "{}\n", md(description));
    }
    for (name, value) in [
        ("Team", s.team.as_deref().map(md)),
        ("Type", s.kind.as_deref().map(md)),
        ("Service type", s.service_type.as_deref().map(md)),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "- **{name}:** {value}");
        }
    }
    if !s.tags.is_empty() {
        let tags: Vec<String> = s
            .tags
            .iter()
            .map(|(k, v)| code(&format!("{k}: {v}")))
            .collect();
        let _ = writeln!(out, "- **Tags:** {}", tags.join(" "));
    }
    let _ = writeln!(out, "- **Metadata:** {}", code(&service.doc.metadata_path));
    out.push_str("\n## Use cases\n\n| Criticality | Use case | Actor | Triggers | Description |\n|---|---|---|---|---|\n");
    for i in service.by_criticality() {
        let (use_case, stem) = &service.use_cases[i];
        let triggers: Vec<String> = use_case
            .triggers
            .iter()
            .map(|t| md(&trigger_summary(t)))
            .collect();
        let _ = writeln!(
            out,
            "| {} | [{}]({stem}.md){} | {} | {} | {} |",
            badge(use_case.criticality),
            md(use_case.display_name()),
            access_badge(use_case)
                .map(|word| format!(" *{word}*"))
                .unwrap_or_default(),
            md(use_case.actor.as_deref().unwrap_or("")),
            triggers.join("<br>"),
            md(use_case.description.as_deref().unwrap_or(""))
        );
    }
    out.push_str("\n## Ports and adapters\n\n");
    out.push_str(&mermaid(&draw::hexagon(s)));
    out
}

fn use_case_page(service: &ServicePlan<'_>, use_case: &UseCaseMetadata) -> String {
    let s = &service.doc.service;
    let mut out = format!(
        "[System](../../README.md) › [{}](README.md) › {}\n\n# {}\n\n{}\n\n",
        md(&s.name),
        md(use_case.display_name()),
        md(use_case.display_name()),
        code(&use_case.keyname)
    );
    if let Some(description) = &use_case.description {
        let _ = writeln!(out, "{}\n", md(description));
    }
    for (name, value) in [
        ("Actor", use_case.actor.as_deref().map(md)),
        ("Type", use_case.kind.as_deref().map(md)),
        ("Criticality", Some(badge(use_case.criticality))),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "- **{name}:** {value}");
        }
    }
    if !use_case.tags.is_empty() {
        let tags: Vec<String> = use_case
            .tags
            .iter()
            .map(|(k, v)| code(&format!("{k}: {v}")))
            .collect();
        let _ = writeln!(out, "- **Tags:** {}", tags.join(" "));
    }
    out.push_str("\n## Triggers\n\n");
    if use_case.triggers.is_empty() {
        out.push_str("No triggers: the use case is called from code only.\n");
    }
    for trigger in &use_case.triggers {
        let _ = writeln!(out, "### {}\n", md(&trigger_summary(trigger)));
        for (name, value) in trigger_details(trigger) {
            let _ = writeln!(out, "- {name}: {}", code(&value));
        }
        if let Some(mapper) = trigger_mapper(trigger).filter(|m| !m.entries.is_empty()) {
            out.push_str("\n| Source | Argument |\n|---|---|\n");
            for entry in &mapper.entries {
                let _ = writeln!(
                    out,
                    "| {} | {} |",
                    code(&entry.source.to_string()),
                    code(&entry.target)
                );
            }
        }
        out.push('\n');
    }
    let access = who_may_call(use_case);
    if !access.is_empty() {
        out.push_str("## Who may call\n\n");
        for line in &access {
            let _ = writeln!(out, "- {}", with_code(line));
        }
        out.push('\n');
    }
    out.push_str("## External interactions\n\n");
    if use_case.external_interactions.is_empty() {
        out.push_str("None.\n");
    } else {
        out.push_str("| Port | Type | Operations | Description |\n|---|---|---|---|\n");
        for interaction in &use_case.external_interactions {
            let ops: Vec<String> = interaction.operation.iter().map(|op| code(op)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&interaction.keyname),
                md(port_kind(interaction)),
                ops.join(", "),
                md(interaction.description.as_deref().unwrap_or(""))
            );
        }
    }
    if let Some(sequence) = draw::sequence(s, &use_case.keyname) {
        out.push_str("\n## Sequence\n\n");
        out.push_str(&mermaid(&sequence));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_specials_are_escaped() {
        assert_eq!(
            md("a|b *c* [d](e) <f> #g\nh"),
            "a\\|b \\*c\\* \\[d\\](e) \\<f\\> \\#g h"
        );
        assert_eq!(code("a`b|c"), "`a'b\\|c`");
        assert_eq!(with_code("a `b_c` d_e"), "a `b_c` d\\_e");
    }
}
