//! The sequence of one use case: each trigger calls it, it calls each
//! external interaction (one arrow per operation), and answers.

use std::fmt::Write;

use bisslog_schema::{ServiceMetadata, TriggerKind, UseCaseMetadata};

use super::Diagram;
use super::labels::{port_kind, port_palette, trigger_label};
use super::svg::{self, Line, MUTED, Palette, Svg, box_size};
use super::text::{FONT_SIZE, MAX_LABEL_CHARS, mermaid_escape as m, shorten, text_width};

const MARGIN: f64 = 20.0;
const ROW: f64 = 38.0;
const MIN_GAP: f64 = 40.0;

/// A lifeline.
#[derive(Debug)]
struct Participant {
    kind: String,
    name: String,
    palette: Palette,
}

/// An arrow between lifelines.
#[derive(Debug)]
struct Message {
    from: usize,
    to: usize,
    text: String,
    reply: bool,
}

/// What a trigger gets back.
fn reply_text(kind: &TriggerKind) -> &'static str {
    match kind {
        TriggerKind::Http(_) => "HTTP response",
        TriggerKind::WebSocket(_) => "reply",
        TriggerKind::Consumer(_) => "ack",
        TriggerKind::Schedule(_) => "done",
    }
}

/// `run(a, b)`: the arguments the trigger's mapper fills.
fn call_text(kind: &TriggerKind) -> String {
    let mapper = match kind {
        TriggerKind::Http(http) => http.mapper.as_ref(),
        TriggerKind::WebSocket(ws) => ws.mapper.as_ref(),
        TriggerKind::Consumer(consumer) => consumer.mapper.as_ref(),
        TriggerKind::Schedule(_) => return "run(event)".to_owned(),
    };
    match mapper {
        Some(mapper) if !mapper.entries.is_empty() => {
            let args: Vec<&str> = mapper.entries.iter().map(|e| e.target.as_str()).collect();
            shorten(&format!("run({})", args.join(", ")), MAX_LABEL_CHARS)
        }
        _ => "run".to_owned(),
    }
}

fn script(use_case: &UseCaseMetadata) -> (Vec<Participant>, Vec<Message>) {
    let mut participants = Vec::new();
    let mut messages = Vec::new();
    for trigger in &use_case.triggers {
        let label = trigger_label(trigger);
        participants.push(Participant {
            kind: label.kind.to_owned(),
            name: label.text,
            palette: label.palette,
        });
    }
    if participants.is_empty() {
        participants.push(Participant {
            kind: "caller".to_owned(),
            name: use_case
                .actor
                .clone()
                .unwrap_or_else(|| "caller".to_owned()),
            palette: svg::OTHER,
        });
    }
    let callers = participants.len();
    let me = callers;
    participants.push(Participant {
        kind: "use case".to_owned(),
        name: use_case.display_name().to_owned(),
        palette: svg::USE_CASE,
    });
    for t in 0..callers {
        let text = use_case
            .triggers
            .get(t)
            .map_or_else(|| "run".to_owned(), |tr| call_text(&tr.kind));
        messages.push(Message {
            from: t,
            to: me,
            text,
            reply: false,
        });
    }
    for interaction in &use_case.external_interactions {
        let p = match participants
            .iter()
            .skip(me + 1)
            .position(|p| p.name == interaction.keyname)
        {
            Some(p) => p + me + 1,
            None => {
                participants.push(Participant {
                    kind: port_kind(interaction).to_owned(),
                    name: interaction.keyname.clone(),
                    palette: port_palette(interaction.type_interaction.as_ref()),
                });
                participants.len() - 1
            }
        };
        let operations: Vec<&str> = if interaction.operation.is_empty() {
            vec!["call"]
        } else {
            interaction.operation.iter().map(String::as_str).collect()
        };
        for op in operations {
            messages.push(Message {
                from: me,
                to: p,
                text: shorten(op, MAX_LABEL_CHARS),
                reply: false,
            });
            messages.push(Message {
                from: p,
                to: me,
                text: "returns".to_owned(),
                reply: true,
            });
        }
    }
    for t in 0..callers {
        let text = use_case
            .triggers
            .get(t)
            .map_or("result", |tr| reply_text(&tr.kind));
        messages.push(Message {
            from: me,
            to: t,
            text: text.to_owned(),
            reply: true,
        });
    }
    (participants, messages)
}

/// The centre x of each lifeline: wide enough apart for their header
/// boxes and for every message label between them.
pub(crate) fn columns(widths: &[f64], spans: &[(usize, usize, f64)]) -> Vec<f64> {
    let mut gaps: Vec<f64> = widths
        .windows(2)
        .map(|pair| pair[0] / 2.0 + pair[1] / 2.0 + MIN_GAP)
        .collect();
    for &(a, b, need) in spans {
        let (lo, hi) = (a.min(b), a.max(b));
        if lo == hi || hi > gaps.len() {
            continue;
        }
        let have: f64 = gaps[lo..hi].iter().sum();
        if have < need {
            gaps[hi - 1] += need - have;
        }
    }
    let mut x = MARGIN + widths.first().copied().unwrap_or(0.0) / 2.0;
    let mut out = vec![x];
    for gap in gaps {
        x += gap;
        out.push(x);
    }
    out.truncate(widths.len());
    out
}

/// The sequence diagram of the use case `use_case` of `service`; `None`
/// when the service has no use case with that keyname.
pub fn sequence(service: &ServiceMetadata, use_case: &str) -> Option<Diagram> {
    let use_case = service.use_cases.get(use_case)?;
    let (participants, messages) = script(use_case);
    let names: Vec<String> = participants
        .iter()
        .map(|p| shorten(&p.name, MAX_LABEL_CHARS))
        .collect();
    let lines: Vec<[Line<'_>; 2]> = participants
        .iter()
        .zip(&names)
        .map(|(p, name)| [Line::small(&p.kind), Line::bold(name)])
        .collect();
    let sizes: Vec<(f64, f64)> = lines.iter().map(|l| box_size(l, 12.0)).collect();
    let widths: Vec<f64> = sizes.iter().map(|s| s.0.max(90.0)).collect();
    let header_h = sizes.iter().map(|s| s.1).fold(0.0, f64::max);
    let spans: Vec<(usize, usize, f64)> = messages
        .iter()
        .map(|msg| {
            (
                msg.from,
                msg.to,
                text_width(&msg.text, FONT_SIZE - 1.0) + 24.0,
            )
        })
        .collect();
    let xs = columns(&widths, &spans);
    let top = MARGIN + header_h;
    let bottom = top + 16.0 + messages.len() as f64 * ROW;
    let width =
        xs.last().copied().unwrap_or(0.0) + widths.last().copied().unwrap_or(0.0) / 2.0 + MARGIN;
    let height = bottom + MARGIN;

    let mut svg = Svg::new("bl-seq");
    for (i, x) in xs.iter().enumerate() {
        svg.line((*x, top), (*x, bottom), "#a0aec0", true);
        let rect = (x - widths[i] / 2.0, MARGIN, widths[i], header_h);
        let tip = format!("{}: {}", participants[i].kind, participants[i].name);
        svg.node(rect, participants[i].palette, &lines[i], Some(&tip));
    }
    let me = participants
        .iter()
        .position(|p| p.kind == "use case")
        .unwrap_or(0);
    // The use case's activation bar.
    if let Some(mx) = xs.get(me) {
        let bar = (
            mx - 5.0,
            top + 16.0,
            10.0,
            messages.len() as f64 * ROW - 12.0,
        );
        svg.rect(bar, 2.0, svg::SERVICE, false);
    }
    for (i, msg) in messages.iter().enumerate() {
        let y = top + 16.0 + (i as f64 + 0.6) * ROW;
        let (Some(&x1), Some(&x2)) = (xs.get(msg.from), xs.get(msg.to)) else {
            continue;
        };
        let dir = if x2 >= x1 { 1.0 } else { -1.0 };
        let (from, to) = ((x1 + 5.0 * dir, y), (x2 - 5.0 * dir, y));
        svg.arrow(from, to, MUTED, msg.reply);
        let label = Line {
            text: &msg.text,
            bold: false,
            small: msg.reply,
        };
        svg.text((x1 + x2) / 2.0, y - 7.0, "middle", label, svg::INK);
    }
    let title = format!("Sequence of {} in {}", use_case.keyname, service.name);
    Some(Diagram {
        svg: svg.finish(width, height, &title),
        mermaid: mermaid(&participants, &messages),
    })
}

fn mermaid(participants: &[Participant], messages: &[Message]) -> String {
    let mut out = String::from("sequenceDiagram\n");
    for (i, p) in participants.iter().enumerate() {
        let _ = writeln!(out, "  participant p{i} as {} ({})", m(&p.name), m(&p.kind));
    }
    for msg in messages {
        let arrow = if msg.reply { "-->>" } else { "->>" };
        let _ = writeln!(out, "  p{}{arrow}p{}: {}", msg.from, msg.to, m(&msg.text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_make_room_for_boxes_and_labels() {
        let xs = columns(&[100.0, 100.0], &[]);
        assert_eq!(xs, vec![70.0, 210.0]);
        let xs = columns(&[100.0, 100.0, 100.0], &[(0, 2, 500.0)]);
        assert_eq!(xs[2] - xs[0], 500.0);
        assert_eq!(xs[1] - xs[0], 140.0);
        assert!(columns(&[], &[(0, 1, 5.0)]).is_empty());
    }
}
