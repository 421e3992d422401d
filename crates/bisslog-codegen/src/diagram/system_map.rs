//! The system map: services and queues as nodes in layers, publisher →
//! queue → consumer and HTTP edges, and the warnings drawn on it.

use std::fmt::Write;

use bisslog_schema::ServiceMetadata;

use super::Diagram;
use super::hexagon::{column_height, stack};
use super::svg::{self, Line, Palette, Svg, box_size};
use super::system::{System, SystemWarning};
use super::text::{FONT_SIZE, MAX_LABEL_CHARS, mermaid_escape as m, shorten, text_width};

const MARGIN: f64 = 20.0;
const TOP: f64 = 24.0;
const ROW_GAP: f64 = 24.0;
const COLUMN_GAP: f64 = 80.0;
/// Room above the nodes for the arcs of HTTP calls.
const ARC_BAND: f64 = 56.0;

/// A node of the map before layout.
#[derive(Debug)]
struct Node {
    kind: String,
    name: String,
    column: usize,
    palette: Palette,
    warning: Option<String>,
}

type Rect = (f64, f64, f64, f64);

/// The rectangle's side point facing `other`.
fn side(rect: Rect, other: Rect) -> (f64, f64) {
    let y = rect.1 + rect.3 / 2.0;
    if other.0 >= rect.0 + rect.2 {
        (rect.0 + rect.2, y)
    } else {
        (rect.0, y)
    }
}

/// The map of how `services` connect, with the warnings of
/// [`system_warnings`](super::system_warnings) drawn as red badges and
/// listed under it.
pub fn system_map(services: &[ServiceMetadata]) -> Diagram {
    let system = System::read(services);
    let warnings = system.warnings(services);
    let ranks = system.ranks(services.len());
    let mut nodes: Vec<Node> = services
        .iter()
        .zip(&ranks)
        .map(|(service, rank)| Node {
            kind: service.team.clone().unwrap_or_else(|| "service".to_owned()),
            name: service.name.clone(),
            column: 2 * rank + 1,
            palette: svg::SERVICE,
            warning: None,
        })
        .collect();
    let queue_base = nodes.len();
    for (queue, links) in &system.queues {
        let column = match links.publishers.iter().map(|p| ranks[*p]).min() {
            Some(rank) => 2 * rank + 2,
            None => links
                .consumers
                .iter()
                .map(|c| 2 * ranks[*c])
                .min()
                .unwrap_or(0),
        };
        let warning = warnings.iter().find_map(|w| match w {
            SystemWarning::UnconsumedQueue { queue: q, .. }
            | SystemWarning::UnpublishedQueue { queue: q, .. }
            | SystemWarning::QueueKind { queue: q, .. }
                if q == queue =>
            {
                Some(w.to_string())
            }
            _ => None,
        });
        nodes.push(Node {
            kind: "queue".to_owned(),
            name: queue.clone(),
            column,
            palette: if warning.is_some() {
                svg::WARNING
            } else {
                svg::QUEUE
            },
            warning,
        });
    }
    // Drop empty columns so the map stays compact.
    let mut used: Vec<usize> = nodes.iter().map(|n| n.column).collect();
    used.sort_unstable();
    used.dedup();
    for node in &mut nodes {
        node.column = used.binary_search(&node.column).unwrap_or(0);
    }

    let names: Vec<String> = nodes
        .iter()
        .map(|n| shorten(&n.name, MAX_LABEL_CHARS))
        .collect();
    let kinds: Vec<String> = nodes
        .iter()
        .map(|n| shorten(&n.kind, MAX_LABEL_CHARS))
        .collect();
    let lines: Vec<[Line<'_>; 2]> = names
        .iter()
        .zip(&kinds)
        .map(|(name, kind)| [Line::bold(name), Line::small(kind)])
        .collect();
    let sizes: Vec<(f64, f64)> = lines.iter().map(|l| box_size(l, 14.0)).collect();
    let mut col_w = vec![0.0f64; used.len()];
    let mut col_members: Vec<Vec<usize>> = vec![Vec::new(); used.len()];
    for (i, node) in nodes.iter().enumerate() {
        col_w[node.column] = col_w[node.column].max(sizes[i].0.max(110.0));
        col_members[node.column].push(i);
    }
    let content_h = col_members
        .iter()
        .map(|members| {
            column_height(
                &members.iter().map(|i| sizes[*i].1).collect::<Vec<_>>(),
                ROW_GAP,
            )
        })
        .fold(0.0, f64::max);
    let top = if system.http.is_empty() {
        TOP
    } else {
        TOP + ARC_BAND
    };
    let centre = top + content_h / 2.0;
    let mut rects: Vec<Rect> = vec![(0.0, 0.0, 0.0, 0.0); nodes.len()];
    let mut x = MARGIN;
    for (c, members) in col_members.iter().enumerate() {
        let heights: Vec<f64> = members.iter().map(|i| sizes[*i].1).collect();
        for (i, top) in members.iter().zip(stack(&heights, centre, ROW_GAP)) {
            rects[*i] = (
                x + (col_w[c] - sizes[*i].0) / 2.0,
                top,
                sizes[*i].0,
                sizes[*i].1,
            );
        }
        x += col_w[c] + COLUMN_GAP;
    }
    let mut width = (x - COLUMN_GAP + MARGIN).max(2.0 * MARGIN);
    let mut bottom = top + content_h;

    // Shared databases in a band under the map.
    let mut svg = Svg::new("bl-map");
    let mut databases = Vec::new();
    if !system.shared_databases.is_empty() {
        let mut dx = MARGIN;
        let dy = bottom + 50.0;
        for (keyname, users) in &system.shared_databases {
            let name = shorten(keyname, MAX_LABEL_CHARS);
            let db_lines = [Line::bold(&name), Line::small("shared database")];
            let (w, h) = box_size(&db_lines, 14.0);
            let rect = (dx, dy, w, h);
            for user in users {
                let from = rects[*user];
                svg.arrow(
                    (from.0 + from.2 / 2.0, from.1 + from.3),
                    (dx + w / 2.0, dy),
                    svg::WARNING.stroke,
                    true,
                );
            }
            databases.push((rect, name, keyname.clone()));
            dx += w + 30.0;
            bottom = bottom.max(dy + h);
        }
        width = width.max(dx - 30.0 + MARGIN);
    }
    for (queue, links) in system.queues.keys().zip(system.queues.values()) {
        let Some(q) = nodes.iter().skip(queue_base).position(|n| &n.name == queue) else {
            continue;
        };
        let q = rects[queue_base + q];
        for p in &links.publishers {
            svg.curve(
                side(rects[*p], q),
                side(q, rects[*p]),
                svg::QUEUE.stroke,
                false,
            );
        }
        for c in &links.consumers {
            svg.curve(
                side(q, rects[*c]),
                side(rects[*c], q),
                svg::QUEUE.stroke,
                false,
            );
        }
    }
    // HTTP calls arc over the nodes, from the caller's top to the callee's.
    let arc_y = top - ARC_BAND;
    for &(from, to) in &system.http {
        let (a, b) = (rects[from], rects[to]);
        let start = (a.0 + a.2 / 2.0 + 8.0, a.1);
        let end = (b.0 + b.2 / 2.0 - 8.0, b.1);
        svg.cubic(
            start,
            (start.0, arc_y),
            (end.0, arc_y),
            end,
            svg::HTTP.stroke,
            true,
        );
        let peak = 0.125 * (start.1 + end.1) + 0.75 * arc_y;
        svg.edge_label(
            (start.0 + end.0) / 2.0,
            peak + 4.0,
            "HTTP",
            svg::HTTP.stroke,
        );
    }
    for (i, node) in nodes.iter().enumerate() {
        let tip = node
            .warning
            .clone()
            .unwrap_or_else(|| format!("{}: {}", node.kind, node.name));
        svg.node(rects[i], node.palette, &lines[i], Some(&tip));
        if let Some(warning) = &node.warning {
            svg.badge(rects[i].0 + rects[i].2, rects[i].1, warning);
        }
    }
    for (rect, name, keyname) in &databases {
        let db_lines = [Line::bold(name), Line::small("shared database")];
        let tip = format!("shared database `{keyname}`");
        svg.node(*rect, svg::WARNING, &db_lines, Some(&tip));
        svg.badge(rect.0 + rect.2, rect.1, &tip);
    }
    if services.is_empty() {
        svg.label(MARGIN + 60.0, TOP + 10.0, &[Line::small("no services")]);
        width = width.max(160.0);
        bottom = bottom.max(TOP + 20.0);
    }
    // The warnings, listed.
    if !warnings.is_empty() {
        bottom += 36.0;
        svg.text(
            MARGIN,
            bottom,
            "start",
            Line::bold("Warnings"),
            svg::WARNING.stroke,
        );
        for warning in &warnings {
            bottom += 20.0;
            let text = format!("⚠ {warning}");
            svg.text(
                MARGIN,
                bottom,
                "start",
                Line::plain(&text),
                svg::WARNING.stroke,
            );
            width = width.max(2.0 * MARGIN + text_width(&text, FONT_SIZE));
        }
    }
    let diagram_title = "System map";
    Diagram {
        svg: svg.finish(width, bottom + MARGIN, diagram_title),
        mermaid: mermaid(services, &system, &nodes[queue_base..]),
    }
}

fn mermaid(services: &[ServiceMetadata], system: &System, queues: &[Node]) -> String {
    let mut out = String::from("flowchart LR\n");
    let mut warned = Vec::new();
    for (s, service) in services.iter().enumerate() {
        let team = service.team.as_deref().unwrap_or("service");
        let _ = writeln!(out, "  s{s}[\"{}<br/>{}\"]", m(&service.name), m(team));
    }
    for (q, queue) in queues.iter().enumerate() {
        let _ = writeln!(out, "  q{q}([\"{}\"])", m(&queue.name));
        if queue.warning.is_some() {
            warned.push(format!("q{q}"));
        }
    }
    for (q, links) in system.queues.values().enumerate() {
        for p in &links.publishers {
            let _ = writeln!(out, "  s{p} -->|\"publishes\"| q{q}");
        }
        for c in &links.consumers {
            let _ = writeln!(out, "  q{q} -->|\"consumed by\"| s{c}");
        }
    }
    for (from, to) in &system.http {
        let _ = writeln!(out, "  s{from} -.->|\"HTTP\"| s{to}");
    }
    for (d, (keyname, users)) in system.shared_databases.iter().enumerate() {
        let _ = writeln!(out, "  d{d}[(\"{}<br/>shared database\")]", m(keyname));
        for user in users {
            let _ = writeln!(out, "  s{user} -.- d{d}");
        }
        warned.push(format!("d{d}"));
    }
    if !warned.is_empty() {
        out.push_str("  classDef warning fill:#fde8e8,stroke:#c53030,color:#742a2a\n");
        let _ = writeln!(out, "  class {} warning", warned.join(","));
    }
    out
}
