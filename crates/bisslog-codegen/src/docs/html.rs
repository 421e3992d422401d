//! The HTML frame every page shares, and small HTML helpers.

use std::fmt::Write;

use bisslog_schema::Criticality;

use crate::diagram::Diagram;
pub(crate) use crate::markup::escape as esc;

/// A whole page: `root` is the relative path back to the site's root
/// (`""` or `"../../"`), `crumbs` the links above the title.
pub(crate) fn page(title: &str, root: &str, crumbs: &[(String, String)], body: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        concat!(
            "<!DOCTYPE html>\n",
            "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<title>{title}</title>\n",
            "<link rel=\"stylesheet\" href=\"{root}style.css\">\n",
            // No favicon request: served over HTTP, a missing one is a 404
            // in the browser console.
            "<link rel=\"icon\" href=\"data:,\">\n",
            "</head>\n<body data-root=\"{root}\">\n",
            "<header class=\"top\">\n",
            "<a class=\"home\" href=\"{root}index.html\">System catalog</a>\n",
            "<div class=\"search\">\n",
            "<input type=\"search\" id=\"search\" placeholder=\"Search services and use cases\" ",
            "aria-label=\"Search services and use cases\" autocomplete=\"off\">\n",
            "<ul id=\"search-results\" hidden></ul>\n",
            "</div>\n</header>\n<main>\n"
        ),
        title = esc(title),
        root = root
    );
    if !crumbs.is_empty() {
        out.push_str("<nav class=\"crumbs\">");
        for (href, label) in crumbs {
            let _ = write!(out, "<a href=\"{}\">{}</a> › ", esc(href), esc(label));
        }
        let _ = writeln!(out, "<span>{}</span></nav>", esc(title));
    }
    out.push_str(body);
    let _ = write!(
        out,
        "</main>\n<script src=\"{root}search-index.js\"></script>\n<script src=\"{root}search.js\"></script>\n</body>\n</html>\n"
    );
    out
}

/// A diagram with its Mermaid text folded under it.
pub(crate) fn diagram(diagram: &Diagram) -> String {
    format!(
        concat!(
            "<figure class=\"diagram-figure\">\n{svg}",
            "<details><summary>Mermaid source</summary>",
            "<pre><code class=\"language-mermaid\">{mermaid}</code></pre></details>\n",
            "</figure>\n"
        ),
        svg = diagram.svg,
        mermaid = esc(&diagram.mermaid)
    )
}

/// A coloured badge showing a criticality and its number.
pub(crate) fn criticality_badge(criticality: Criticality) -> String {
    format!(
        "<span class=\"badge crit-{}\" title=\"criticality {}\">{} · {}</span>",
        criticality.name().replace('_', "-"),
        criticality.level(),
        criticality.name().replace('_', " "),
        criticality.level()
    )
}

/// A `<dl>` of the pairs whose value is present.
pub(crate) fn facts(pairs: &[(&str, Option<String>)]) -> String {
    let mut out = String::from("<dl class=\"facts\">\n");
    for (name, value) in pairs {
        if let Some(value) = value {
            let _ = writeln!(out, "<dt>{}</dt><dd>{value}</dd>", esc(name));
        }
    }
    out.push_str("</dl>\n");
    out
}

/// Tags as small labels, or `None` when there are none.
pub(crate) fn tags<'a>(tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Option<String> {
    let spans: Vec<String> = tags
        .into_iter()
        .map(|(k, v)| format!("<span class=\"tag\">{}: {}</span>", esc(k), esc(v)))
        .collect();
    (!spans.is_empty()).then(|| spans.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_name_the_level() {
        assert_eq!(
            criticality_badge(Criticality::VeryHigh),
            "<span class=\"badge crit-very-high\" title=\"criticality 90\">very high · 90</span>"
        );
    }
}
