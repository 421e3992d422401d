//! The ports-and-adapters picture of one service: driving adapters on the
//! left, the use cases inside the hexagon, driven ports on the right.

use std::fmt::Write;

use bisslog_schema::{InteractionType, ServiceMetadata};

use super::Diagram;
use super::labels::{TriggerLabel, port_palette, trigger_label};
use super::svg::{self, Line, Svg, box_size};
use super::text::{MAX_LABEL_CHARS, mermaid_escape as m, shorten};

const MARGIN: f64 = 20.0;
const TOP: f64 = 48.0;
const ROW_GAP: f64 = 14.0;
const COLUMN_GAP: f64 = 90.0;
/// How far the hexagon's side points stick out from its straight edges.
const INDENT: f64 = 40.0;
const HEX_PAD_TOP: f64 = 44.0;
const HEX_PAD_BOTTOM: f64 = 30.0;

/// The services' driven port, merged over every use case that uses it.
#[derive(Debug)]
struct Port {
    keyname: String,
    kind: Option<InteractionType>,
    operations: Vec<String>,
}

/// The parts of the picture, in metadata order, before layout.
#[derive(Debug, Default)]
struct Parts {
    triggers: Vec<TriggerLabel>,
    ports: Vec<Port>,
    /// (trigger index, use case index).
    trigger_edges: Vec<(usize, usize)>,
    /// (use case index, port index).
    port_edges: Vec<(usize, usize)>,
}

fn parts(service: &ServiceMetadata) -> Parts {
    let mut parts = Parts::default();
    for (u, use_case) in service.use_cases.values().enumerate() {
        for trigger in &use_case.triggers {
            let label = trigger_label(trigger);
            let t = match parts.triggers.iter().position(|t| *t == label) {
                Some(t) => t,
                None => {
                    parts.triggers.push(label);
                    parts.triggers.len() - 1
                }
            };
            if !parts.trigger_edges.contains(&(t, u)) {
                parts.trigger_edges.push((t, u));
            }
        }
        for interaction in &use_case.external_interactions {
            let p = match parts
                .ports
                .iter()
                .position(|p| p.keyname == interaction.keyname)
            {
                Some(p) => p,
                None => {
                    parts.ports.push(Port {
                        keyname: interaction.keyname.clone(),
                        kind: None,
                        operations: Vec::new(),
                    });
                    parts.ports.len() - 1
                }
            };
            let port = &mut parts.ports[p];
            if port.kind.is_none() {
                port.kind.clone_from(&interaction.type_interaction);
            }
            for op in &interaction.operation {
                if !port.operations.contains(op) {
                    port.operations.push(op.clone());
                }
            }
            if !parts.port_edges.contains(&(u, p)) {
                parts.port_edges.push((u, p));
            }
        }
    }
    group_ports(&mut parts);
    parts
}

/// Where a kind of port goes in the right-hand column: databases first,
/// then publishers, notifiers, other systems, and undeclared ports last.
fn kind_order(kind: Option<&InteractionType>) -> u8 {
    match kind {
        Some(InteractionType::Database) => 0,
        Some(InteractionType::Publisher) => 1,
        Some(InteractionType::Notifier) => 2,
        Some(InteractionType::ExternalSystem) => 3,
        Some(InteractionType::ExternalFileSystem) => 4,
        Some(_) => 5,
        None => 6,
    }
}

/// Puts ports of one kind next to each other (first use order within a
/// kind), so the column reads as groups.
fn group_ports(parts: &mut Parts) {
    let mut order: Vec<usize> = (0..parts.ports.len()).collect();
    order.sort_by_key(|p| (kind_order(parts.ports[*p].kind.as_ref()), *p));
    let mut new_index = vec![0; order.len()];
    for (new, old) in order.iter().enumerate() {
        new_index[*old] = new;
    }
    let mut ports: Vec<Option<Port>> = std::mem::take(&mut parts.ports)
        .into_iter()
        .map(Some)
        .collect();
    parts.ports = order.iter().filter_map(|old| ports[*old].take()).collect();
    for edge in &mut parts.port_edges {
        edge.1 = new_index[edge.1];
    }
}

/// Stacks boxes of the given heights around a vertical centre; returns
/// each box's top.
pub(crate) fn stack(heights: &[f64], centre: f64, gap: f64) -> Vec<f64> {
    let total = column_height(heights, gap);
    let mut y = centre - total / 2.0;
    heights
        .iter()
        .map(|h| {
            let top = y;
            y += h + gap;
            top
        })
        .collect()
}

/// The height of a column of boxes with `gap` between them.
pub(crate) fn column_height(heights: &[f64], gap: f64) -> f64 {
    if heights.is_empty() {
        0.0
    } else {
        heights.iter().sum::<f64>() + gap * (heights.len() - 1) as f64
    }
}

/// The hexagon diagram of `service`.
pub fn hexagon(service: &ServiceMetadata) -> Diagram {
    let parts = parts(service);
    let trigger_texts: Vec<String> = parts
        .triggers
        .iter()
        .map(|t| shorten(&t.text, MAX_LABEL_CHARS))
        .collect();
    let trigger_lines: Vec<[Line<'_>; 2]> = parts
        .triggers
        .iter()
        .zip(&trigger_texts)
        .map(|(t, text)| [Line::small(t.kind), Line::plain(text)])
        .collect();
    let uc_names: Vec<String> = service
        .use_cases
        .values()
        .map(|u| shorten(u.display_name(), MAX_LABEL_CHARS))
        .collect();
    let uc_lines: Vec<[Line<'_>; 2]> = service
        .use_cases
        .values()
        .zip(&uc_names)
        .map(|(u, name)| [Line::bold(name), Line::small(u.criticality.name())])
        .collect();
    let port_names: Vec<String> = parts
        .ports
        .iter()
        .map(|p| shorten(&p.keyname, MAX_LABEL_CHARS))
        .collect();
    let port_lines: Vec<[Line<'_>; 2]> = parts
        .ports
        .iter()
        .zip(&port_names)
        .map(|(p, name)| {
            let kind = p.kind.as_ref().map_or("port", InteractionType::name);
            [Line::bold(name), Line::small(kind)]
        })
        .collect();

    let measure = |lines: &[[Line<'_>; 2]], min: f64| {
        let sizes: Vec<(f64, f64)> = lines.iter().map(|l| box_size(l, 12.0)).collect();
        let width = sizes.iter().map(|s| s.0).fold(min, f64::max);
        (width, sizes.iter().map(|s| s.1).collect::<Vec<f64>>())
    };
    let (left_w, left_h) = measure(&trigger_lines, 120.0);
    let (uc_w, uc_h) = measure(&uc_lines, 150.0);
    let (right_w, right_h) = measure(&port_lines, 120.0);
    let service_title = shorten(&service.name, MAX_LABEL_CHARS);
    let title_w = Line::bold(&service_title).width() + 2.0 * INDENT;
    let hex_w = (uc_w + 2.0 * INDENT + 32.0).max(title_w);
    let hex_h = (column_height(&uc_h, ROW_GAP) + HEX_PAD_TOP + HEX_PAD_BOTTOM).max(120.0);
    let content_h = hex_h
        .max(column_height(&left_h, ROW_GAP))
        .max(column_height(&right_h, ROW_GAP));
    let centre = TOP + content_h / 2.0;

    let left_x = MARGIN;
    let hex_x = if parts.triggers.is_empty() {
        MARGIN
    } else {
        left_x + left_w + COLUMN_GAP
    };
    let right_x = hex_x + hex_w + COLUMN_GAP;
    let width = if parts.ports.is_empty() {
        hex_x + hex_w + MARGIN
    } else {
        right_x + right_w + MARGIN
    };
    let height = TOP + content_h + MARGIN;

    let mut svg = Svg::new("bl-hex");
    // The hexagon, with the service's name at its top.
    let hex_top = centre - hex_h / 2.0;
    let (x0, x1, y0, y1) = (hex_x, hex_x + hex_w, hex_top, hex_top + hex_h);
    svg.polygon(
        &[
            (x0 + INDENT, y0),
            (x1 - INDENT, y0),
            (x1, centre),
            (x1 - INDENT, y1),
            (x0 + INDENT, y1),
            (x0, centre),
        ],
        svg::SERVICE,
    );
    svg.label(
        hex_x + hex_w / 2.0,
        y0 + 24.0,
        &[Line::bold(&service_title)],
    );
    if !parts.triggers.is_empty() {
        svg.text(
            left_x,
            30.0,
            "start",
            Line::small("Driving adapters"),
            svg::MUTED,
        );
    }
    if !parts.ports.is_empty() {
        svg.text(
            right_x,
            30.0,
            "start",
            Line::small("Driven ports"),
            svg::MUTED,
        );
    }

    let uc_centre = y0 + HEX_PAD_TOP + column_height(&uc_h, ROW_GAP) / 2.0;
    let uc_top = stack(&uc_h, uc_centre, ROW_GAP);
    let uc_x = hex_x + (hex_w - uc_w) / 2.0;
    let left_top = stack(&left_h, centre, ROW_GAP);
    let right_top = stack(&right_h, centre, ROW_GAP);

    for &(t, u) in &parts.trigger_edges {
        let from = (left_x + left_w, left_top[t] + left_h[t] / 2.0);
        let to = (uc_x, uc_top[u] + uc_h[u] / 2.0);
        svg.curve(from, to, parts.triggers[t].palette.stroke, false);
    }
    for &(u, p) in &parts.port_edges {
        let from = (uc_x + uc_w, uc_top[u] + uc_h[u] / 2.0);
        let to = (right_x, right_top[p] + right_h[p] / 2.0);
        svg.curve(
            from,
            to,
            port_palette(parts.ports[p].kind.as_ref()).stroke,
            false,
        );
    }
    for (t, trigger) in parts.triggers.iter().enumerate() {
        let tip = format!("{}: {}", trigger.kind, trigger.text);
        let rect = (left_x, left_top[t], left_w, left_h[t]);
        svg.node(rect, trigger.palette, &trigger_lines[t], Some(&tip));
    }
    for (u, use_case) in service.use_cases.values().enumerate() {
        let tip = format!("{} ({})", use_case.keyname, use_case.criticality);
        let rect = (uc_x, uc_top[u], uc_w, uc_h[u]);
        svg.node(rect, svg::USE_CASE, &uc_lines[u], Some(&tip));
    }
    if service.use_cases.is_empty() {
        svg.label(
            hex_x + hex_w / 2.0,
            centre + 10.0,
            &[Line::small("no use cases")],
        );
    }
    for (p, port) in parts.ports.iter().enumerate() {
        let tip = if port.operations.is_empty() {
            port.keyname.clone()
        } else {
            format!("{}: {}", port.keyname, port.operations.join(", "))
        };
        let rect = (right_x, right_top[p], right_w, right_h[p]);
        svg.node(
            rect,
            port_palette(port.kind.as_ref()),
            &port_lines[p],
            Some(&tip),
        );
    }
    let title = format!("Ports and adapters of {}", service.name);
    Diagram {
        svg: svg.finish(width, height, &title),
        mermaid: mermaid(service, &parts),
    }
}

fn mermaid(service: &ServiceMetadata, parts: &Parts) -> String {
    let mut out = String::from("flowchart LR\n");
    if !parts.triggers.is_empty() {
        out.push_str("  subgraph driving[\"Driving adapters\"]\n    direction TB\n");
        for (t, trigger) in parts.triggers.iter().enumerate() {
            let label = format!("{}<br/>{}", m(trigger.kind), m(&trigger.text));
            let _ = match trigger.kind {
                "queue" => writeln!(out, "    t{t}([\"{label}\"])"),
                _ => writeln!(out, "    t{t}[\"{label}\"]"),
            };
        }
        out.push_str("  end\n");
    }
    let _ = writeln!(out, "  subgraph svc[\"{}\"]", m(&service.name));
    out.push_str("    direction TB\n");
    for (u, use_case) in service.use_cases.values().enumerate() {
        let _ = writeln!(out, "    u{u}{{{{\"{}\"}}}}", m(use_case.display_name()));
    }
    out.push_str("  end\n");
    if !parts.ports.is_empty() {
        out.push_str("  subgraph driven[\"Driven ports\"]\n    direction TB\n");
        for (p, port) in parts.ports.iter().enumerate() {
            let kind = port.kind.as_ref().map_or("port", InteractionType::name);
            let label = format!("{}<br/>{}", m(&port.keyname), m(kind));
            let _ = match port.kind {
                Some(InteractionType::Database) => writeln!(out, "    p{p}[(\"{label}\")]"),
                _ => writeln!(out, "    p{p}[\"{label}\"]"),
            };
        }
        out.push_str("  end\n");
    }
    for (t, u) in &parts.trigger_edges {
        let _ = writeln!(out, "  t{t} --> u{u}");
    }
    for (u, p) in &parts.port_edges {
        let _ = writeln!(out, "  u{u} --> p{p}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_grouped_by_kind_keeping_first_use_order() {
        let port = |name: &str, kind: Option<InteractionType>| Port {
            keyname: name.to_owned(),
            kind,
            operations: Vec::new(),
        };
        let mut parts = Parts {
            ports: vec![
                port("events", Some(InteractionType::Publisher)),
                port("other", None),
                port("users", Some(InteractionType::Database)),
                port("orders", Some(InteractionType::Database)),
            ],
            port_edges: vec![(0, 0), (0, 3), (1, 1)],
            ..Parts::default()
        };
        group_ports(&mut parts);
        let names: Vec<&str> = parts.ports.iter().map(|p| p.keyname.as_str()).collect();
        assert_eq!(names, ["users", "orders", "events", "other"]);
        assert_eq!(parts.port_edges, vec![(0, 2), (0, 1), (1, 3)]);
    }

    #[test]
    fn stacked_boxes_are_centred_and_spaced() {
        assert_eq!(stack(&[10.0, 20.0], 100.0, 10.0), vec![80.0, 100.0]);
        assert_eq!(column_height(&[10.0, 20.0], 10.0), 40.0);
        assert_eq!(column_height(&[], 10.0), 0.0);
        assert!(stack(&[], 5.0, 1.0).is_empty());
    }
}
