//! The docs site and its diagrams as a user meets them: golden sites for
//! real metadata files, byte-identical reruns, well-formed SVG, links that
//! resolve, and the classes the browser test relies on.

#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bisslog_codegen::GeneratedFile;
use bisslog_codegen::diagram::{self, SystemWarning};
use bisslog_codegen::docs::{self, DocsError, DocsFormat, DocsService};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Loads each metadata file, named by its path relative to the repository.
fn load(paths: &[&str]) -> Vec<DocsService> {
    paths
        .iter()
        .map(|path| {
            let service = bisslog_schema::validate_file(root().join(path))
                .unwrap()
                .into_service()
                .unwrap_or_else(|report| panic!("{path} does not load: {report:?}"));
            DocsService::new(*path, service)
        })
        .collect()
}

/// Every golden case: a name and the metadata files of its system.
fn cases() -> Vec<(&'static str, Vec<DocsService>)> {
    vec![
        (
            "example-system",
            load(&[
                "crates/bisslog-codegen/tests/fixtures/example-system/metadata.yml",
                "crates/bisslog-codegen/tests/fixtures/example-system/audit.yml",
                "crates/bisslog-codegen/tests/fixtures/example-system/importer.yml",
            ]),
        ),
        (
            "conformance-company-data-registry",
            load(&["crates/bisslog-schema/tests/conformance/company-data-registry.yml"]),
        ),
        (
            "conformance-user-management",
            load(&["crates/bisslog-schema/tests/conformance/user-management.yml"]),
        ),
        (
            "orders-and-shipping",
            load(&[
                "crates/bisslog-codegen/tests/fixtures/docs-orders.yml",
                "crates/bisslog-codegen/tests/fixtures/docs-shipping.yml",
            ]),
        ),
    ]
}

/// The diagrams of a system as standalone files, for their own golden
/// files: the system map, each hexagon and each sequence, SVG and Mermaid.
fn diagram_files(services: &[DocsService]) -> Vec<GeneratedFile> {
    let models: Vec<_> = services.iter().map(|s| s.service.clone()).collect();
    let mut files = Vec::new();
    let mut push = |stem: String, d: diagram::Diagram| {
        files.push(GeneratedFile {
            path: format!("{stem}.svg"),
            contents: d.svg,
        });
        files.push(GeneratedFile {
            path: format!("{stem}.mmd"),
            contents: d.mermaid,
        });
    };
    push("system-map".to_owned(), diagram::system_map(&models));
    for (s, service) in models.iter().enumerate() {
        push(format!("s{s}-hexagon"), diagram::hexagon(service));
        for (u, keyname) in service.use_cases.keys().enumerate() {
            push(
                format!("s{s}-u{u}-sequence"),
                diagram::sequence(service, keyname).unwrap(),
            );
        }
    }
    files
}

/// Every generated output of a case, under `html/`, `markdown/` and
/// `diagrams/`.
fn outputs(services: &[DocsService]) -> Vec<GeneratedFile> {
    let mut all = Vec::new();
    for (dir, files) in [
        ("html", docs::generate(services, DocsFormat::Html).unwrap()),
        (
            "markdown",
            docs::generate(services, DocsFormat::Markdown).unwrap(),
        ),
        ("diagrams", diagram_files(services)),
    ] {
        all.extend(files.into_iter().map(|f| GeneratedFile {
            path: format!("{dir}/{}", f.path),
            contents: f.contents,
        }));
    }
    all
}

/// The source of a file every HTML site has unchanged (`style.css`,
/// `search.js`), or `None` for a generated one.
fn fixed_asset(path: &str) -> Option<&'static str> {
    match path {
        "html/style.css" => Some(include_str!("../src/docs/style.css")),
        "html/search.js" => Some(include_str!("../src/docs/search.js")),
        _ => None,
    }
}

fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap();
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

#[test]
fn generated_sites_and_diagrams_match_the_golden_files() {
    for (name, services) in cases() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/docs")
            .join(name);
        let mut files = outputs(&services);
        // The site's fixed assets are their source files with a stamp:
        // checked against the source here, not copied into every case.
        files.retain(|file| {
            let Some(source) = fixed_asset(&file.path) else {
                return true;
            };
            assert!(
                file.contents.ends_with(source),
                "{name}: {} is not its source file",
                file.path
            );
            false
        });
        if std::env::var_os("BLESS").is_some() {
            let _ = std::fs::remove_dir_all(&dir);
            for file in &files {
                let path = dir.join(&file.path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &file.contents).unwrap();
            }
            continue;
        }
        for file in &files {
            let path = dir.join(&file.path);
            let expected = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("{} is missing; run with BLESS=1", path.display()));
            assert!(
                expected == file.contents,
                "{} differs (run with BLESS=1 to accept, then review the diff)",
                path.display()
            );
        }
        let generated: BTreeSet<String> = files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            files_under(&dir),
            generated,
            "{name}: stale golden files (run with BLESS=1)"
        );
    }
}

#[test]
fn generating_twice_gives_identical_bytes() {
    for (name, services) in cases() {
        assert!(outputs(&services) == outputs(&services), "{name}");
        let reloaded: Vec<DocsService> = services.clone();
        assert!(
            docs::generate(&services, DocsFormat::Html).unwrap()
                == docs::generate(&reloaded, DocsFormat::Html).unwrap(),
            "{name}"
        );
    }
}

/// A tiny XML well-formedness check: tags nest and close, attributes are
/// quoted, `&` starts a known entity, nothing but whitespace or comments
/// outside the root element.
fn check_xml(text: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text.trim();
    let mut roots = 0;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unclosed comment")?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("unclosed end tag")?;
            let name = after[..end].trim();
            let open = stack.pop().ok_or(format!("stray </{name}>"))?;
            if open != name {
                return Err(format!("</{name}> closes <{open}>"));
            }
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('<') {
            if stack.is_empty() {
                roots += 1;
            }
            let end = after.find('>').ok_or("unclosed tag")?;
            let tag = &after[..end];
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            let name = &tag[..name_end];
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
            {
                return Err(format!("bad tag name `{name}`"));
            }
            check_attributes(&tag[name_end..])?;
            if !self_closing {
                stack.push(name.to_owned());
            }
            rest = &after[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            if stack.is_empty() && !rest[..end].trim().is_empty() {
                return Err("text outside the root element".to_owned());
            }
            check_entities(&rest[..end])?;
            rest = &rest[end..];
        }
    }
    match (stack.last(), roots) {
        (Some(open), _) => Err(format!("<{open}> is never closed")),
        (None, 1) => Ok(()),
        (None, n) => Err(format!("{n} root elements")),
    }
}

fn check_attributes(mut text: &str) -> Result<(), String> {
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return Ok(());
        }
        let eq = text
            .find('=')
            .ok_or(format!("attribute without value: {text}"))?;
        let after = &text[eq + 1..];
        let quote = after.chars().next().ok_or("missing attribute value")?;
        if quote != '"' && quote != '\'' {
            return Err(format!("unquoted attribute: {text}"));
        }
        let close = after[1..].find(quote).ok_or("unclosed attribute value")?;
        let value = &after[1..=close];
        if value.contains('<') {
            return Err(format!("`<` in attribute value: {value}"));
        }
        check_entities(value)?;
        text = &after[close + 2..];
    }
}

fn check_entities(text: &str) -> Result<(), String> {
    for (at, _) in text.match_indices('&') {
        let entity = &text[at..];
        let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&apos;"]
            .iter()
            .any(|e| entity.starts_with(e));
        if !ok {
            return Err(format!(
                "bad entity at `{}`",
                &entity[..entity.len().min(10)]
            ));
        }
    }
    Ok(())
}

/// The `<svg ...>...</svg>` elements of an HTML page.
fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg ") {
        let end = rest[start..].find("</svg>").unwrap() + start + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

fn dimension(svg: &str, name: &str) -> f64 {
    let head = &svg[..svg.find('>').unwrap()];
    let key = format!(" {name}=\"");
    let at = head.find(&key).unwrap() + key.len();
    let end = head[at..].find('"').unwrap() + at;
    head[at..end].parse().unwrap()
}

#[test]
fn every_svg_is_well_formed_xml_with_a_size() {
    for (name, services) in cases() {
        let mut count = 0;
        for file in outputs(&services) {
            let found: Vec<&str> = if file.path.ends_with(".svg") {
                vec![file.contents.as_str()]
            } else if file.path.ends_with(".html") {
                svgs(&file.contents)
            } else {
                Vec::new()
            };
            for svg in found {
                count += 1;
                check_xml(svg).unwrap_or_else(|e| panic!("{name} {}: {e}", file.path));
                assert!(svg.contains("class=\"diagram\""), "{}", file.path);
                assert!(svg.contains(" viewBox=\"0 0 "), "{}", file.path);
                assert!(dimension(svg, "width") > 0.0, "{}", file.path);
                assert!(dimension(svg, "height") > 0.0, "{}", file.path);
            }
        }
        assert!(count > 0, "{name}");
    }
}

#[test]
fn the_xml_check_rejects_broken_documents() {
    assert!(check_xml("<svg a=\"1\"><g/></svg>").is_ok());
    assert!(check_xml("<svg><g></svg>").is_err());
    assert!(check_xml("<svg a=1></svg>").is_err());
    assert!(check_xml("<svg>a & b</svg>").is_err());
    assert!(check_xml("<svg></svg><svg></svg>").is_err());
}

/// The relative links of a page: `href` and `src` attributes in HTML,
/// `](target)` in Markdown.
fn links(file: &GeneratedFile) -> Vec<String> {
    let mut out = Vec::new();
    let patterns: &[(&str, char)] = if file.path.ends_with(".md") {
        &[("](", ')')]
    } else {
        &[("href=\"", '"'), ("src=\"", '"')]
    };
    for (open, close) in patterns {
        for (at, _) in file.contents.match_indices(open) {
            let start = at + open.len();
            let end = file.contents[start..].find(*close).unwrap() + start;
            out.push(file.contents[start..end].to_owned());
        }
    }
    out
}

/// `link` resolved against the directory of `page`.
fn resolve(page: &str, link: &str) -> String {
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for segment in link.split('/') {
        match segment {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[test]
fn every_relative_link_resolves_to_a_generated_file() {
    for (name, services) in cases() {
        for format in [DocsFormat::Html, DocsFormat::Markdown] {
            let files = docs::generate(&services, format).unwrap();
            let paths: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
            let mut checked = 0;
            for file in files.iter().filter(|f| !f.path.ends_with(".js")) {
                for link in links(file).into_iter().filter(|l| l != "data:,") {
                    assert!(!link.contains("://"), "{name} {}: {link}", file.path);
                    let target = resolve(&file.path, &link);
                    assert!(
                        paths.contains(target.as_str()),
                        "{name} {format:?} {}: {link} → {target} is not generated",
                        file.path
                    );
                    checked += 1;
                }
            }
            assert!(checked > 0);
        }
    }
}

#[test]
fn pages_carry_the_classes_the_browser_test_relies_on() {
    let services = load(&[
        "crates/bisslog-codegen/tests/fixtures/example-system/metadata.yml",
        "crates/bisslog-codegen/tests/fixtures/example-system/audit.yml",
    ]);
    let files = docs::generate(&services, DocsFormat::Html).unwrap();
    let index = files.iter().find(|f| f.path == "index.html").unwrap();
    assert_eq!(index.contents.matches("class=\"service-link\"").count(), 2);
    assert_eq!(svgs(&index.contents).len(), 1);
    let service = files
        .iter()
        .find(|f| f.path == "services/company-data-audit/index.html")
        .unwrap();
    assert_eq!(
        service.contents.matches("class=\"use-case-link\"").count(),
        2
    );
    assert!(
        service
            .contents
            .contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\"")
    );
    for file in files.iter().filter(|f| f.path.ends_with(".html")) {
        assert!(file.contents.contains("id=\"search\""), "{}", file.path);
        assert_eq!(
            bisslog_codegen::verify(&file.contents),
            bisslog_codegen::Stamp::Intact
        );
    }
}

#[test]
fn odd_keynames_get_safe_unique_file_names() {
    let services = load(&[
        "crates/bisslog-codegen/tests/fixtures/docs-orders.yml",
        "crates/bisslog-codegen/tests/fixtures/docs-shipping.yml",
    ]);
    let files = docs::generate(&services, DocsFormat::Html).unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "index.html",
            "services/orders/index.html",
            "services/orders/place-order.html",
            "services/orders/index-2.html",
            "services/orders/get-order.html",
            "services/orders/get-order-2.html",
            "services/shipping/index.html",
            "services/shipping/ship-order.html",
            "services/shipping/weekly-report.html",
            "style.css",
            "search-index.js",
            "search.js",
        ]
    );
    let orders = files
        .iter()
        .find(|f| f.path == "services/orders/index.html")
        .unwrap();
    // Escaped, never raw.
    assert!(
        orders
            .contents
            .contains("Takes orders &amp; &lt;confirms&gt; them.")
    );
    // Most critical first.
    let critical = orders.contents.find("place-order.html").unwrap();
    let very_high = orders.contents.find("get-order.html").unwrap();
    let low = orders.contents.find("index-2.html").unwrap();
    assert!(critical < very_high && very_high < low);
}

#[test]
fn the_system_map_connects_publishers_queues_consumers_and_calls() {
    let services = load(&[
        "crates/bisslog-codegen/tests/fixtures/docs-orders.yml",
        "crates/bisslog-codegen/tests/fixtures/docs-shipping.yml",
    ]);
    let models: Vec<_> = services.into_iter().map(|s| s.service).collect();
    let map = diagram::system_map(&models);
    for edge in [
        "s0 -->|\"publishes\"| q1",
        "q1 -->|\"consumed by\"| s1",
        "s1 -.->|\"HTTP\"| s0",
        "s0 -.- d0",
        "s1 -.- d0",
    ] {
        assert!(map.mermaid.contains(edge), "{edge}\n{}", map.mermaid);
    }
    let warnings = diagram::system_warnings(&models);
    assert_eq!(
        warnings,
        [
            SystemWarning::SharedDatabase {
                keyname: "customers".to_owned(),
                services: vec!["orders".to_owned(), "shipping".to_owned()],
            },
            SystemWarning::UnconsumedQueue {
                queue: "orders.audit".to_owned(),
                publishers: vec!["orders".to_owned()],
            },
            SystemWarning::UnpublishedQueue {
                queue: "returns.requested".to_owned(),
                consumers: vec!["shipping".to_owned()],
            },
        ]
    );
    // Drawn as badges and listed on the picture.
    assert_eq!(map.svg.matches("<circle ").count(), 3);
    assert!(
        map.svg
            .contains("shared database: `customers` is a database of orders and shipping")
    );
}

#[test]
fn a_schedule_reads_in_words_on_its_pages() {
    let services = load(&["crates/bisslog-schema/tests/conformance/company-data-registry.yml"]);
    let files = docs::generate(&services, DocsFormat::Markdown).unwrap();
    let page = files
        .iter()
        .find(|f| f.path.ends_with("delete-all-inactive-schema-version.md"))
        .unwrap();
    assert!(
        page.contents
            .contains("### schedule every Sunday at 00:00 UTC"),
        "{}",
        page.contents
    );
    assert!(page.contents.contains("```mermaid\nsequenceDiagram\n"));
}

#[test]
fn an_empty_system_is_an_error_and_an_unknown_use_case_has_no_sequence() {
    assert_eq!(
        docs::generate(&[], DocsFormat::Html).unwrap_err(),
        DocsError::NoServices
    );
    let services = load(&["crates/bisslog-codegen/tests/fixtures/example-system/audit.yml"]);
    assert!(diagram::sequence(&services[0].service, "nope").is_none());
    let empty = bisslog_schema::validate_str("m.yml", "name: empty\n")
        .into_service()
        .unwrap();
    check_xml(&diagram::hexagon(&empty).svg).unwrap();
    check_xml(&diagram::system_map(&[]).svg).unwrap();
    check_xml(&diagram::system_map(&[empty]).svg).unwrap();
}

/// `line` without Mermaid entity codes (`#quot;`, `#35;`).
fn without_entities(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match after.find(';') {
            Some(end) if after[..end].chars().all(|c| c.is_ascii_alphanumeric()) => {
                rest = &after[end + 1..];
            }
            _ => {
                out.push('#');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn hostile_names_are_escaped_everywhere() {
    let yaml = r#"
name: "evil </svg><script>alert(1)</script> \"quoted\" --> ]]> & #1; `tick`"
team: "a|b"
use_cases:
  "x\"]; click x call alert(1) %% <b>":
    name: "line\nbreak \"q\" <i>"
    description: "*stars* [link](http://x) | pipe"
    triggers:
      - type: consumer
        options: {queue: "q\"<>&#;"}
      - type: websocket
        options: {routeKey: "$default"}
    external_interactions:
      - keyname: "db\"<>&"
        type_interaction: database
        operation: ["op\"; end", "ünïcödé 日本"]
      - keyname: "pub"
        type_interaction: publisher
        operation: ["q\"<>&#;"]
  bare: {}
"#;
    let service = bisslog_schema::validate_str("m.yml", yaml)
        .into_service()
        .unwrap();
    let services = [DocsService::new("dir/<m>.yml", service)];
    for file in outputs(&services) {
        if file.path.ends_with(".svg") {
            check_xml(&file.contents).unwrap_or_else(|e| panic!("{}: {e}", file.path));
        }
        if file.path.ends_with(".html") {
            for svg in svgs(&file.contents) {
                check_xml(svg).unwrap_or_else(|e| panic!("{}: {e}", file.path));
            }
            assert!(!file.contents.contains("<script>alert"), "{}", file.path);
            assert!(!file.contents.contains("<i>"), "{}", file.path);
        }
        if file.path.ends_with(".mmd") {
            for line in file.contents.lines() {
                // Only the quotes the generator writes around labels.
                let inner = line.split('"').count() - 1;
                assert!(inner % 2 == 0, "{}: {line}", file.path);
                assert!(
                    !without_entities(line).contains(';'),
                    "{}: {line}",
                    file.path
                );
            }
        }
    }
    let html = docs::generate(&services, DocsFormat::Html).unwrap();
    let paths: Vec<&str> = html.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths[1..4],
        [
            "services/evil-svg-script-alert-1-script-quoted-1-tick/index.html",
            "services/evil-svg-script-alert-1-script-quoted-1-tick/x-click-x-call-alert-1-b.html",
            "services/evil-svg-script-alert-1-script-quoted-1-tick/bare.html",
        ]
    );
}

/// The example system: the importer queues insertions the registry
/// consumes, the registry announces them to the audit service, the
/// importer asks the registry over HTTP, and shares its database on
/// purpose; the map shows each flow and flags the shared database and
/// nothing else.
#[test]
fn the_example_system_map_shows_its_flows_and_flags_the_shared_database() {
    let services = load(&[
        "crates/bisslog-codegen/tests/fixtures/example-system/metadata.yml",
        "crates/bisslog-codegen/tests/fixtures/example-system/audit.yml",
        "crates/bisslog-codegen/tests/fixtures/example-system/importer.yml",
    ]);
    let models: Vec<_> = services.into_iter().map(|s| s.service).collect();
    let map = diagram::system_map(&models);
    for flow in [
        "company_data_insertion.queue",
        "company_data.inserted",
        "publishes",
        "consumed by",
        "HTTP",
    ] {
        assert!(map.mermaid.contains(flow), "{flow}\n{}", map.mermaid);
    }
    let warnings = diagram::system_warnings(&models);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        matches!(&warnings[0], SystemWarning::SharedDatabase { keyname, services }
            if keyname == "data_division" && services.len() == 2),
        "{warnings:?}"
    );
}
