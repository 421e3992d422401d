//! A small SVG writer: boxes with centred labels, curved and straight
//! arrows, polygons. Everything is drawn with presentation attributes, so
//! the picture needs no stylesheet, font file or script.

use std::fmt::Write;

use super::text::{FONT_SIZE, num, text_width, xml_escape};

/// The font stack: whatever sans-serif font the viewer has.
const FONT_FAMILY: &str = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/// Fill and stroke colours of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Palette {
    pub(crate) fill: &'static str,
    pub(crate) stroke: &'static str,
}

pub(crate) const HTTP: Palette = Palette {
    fill: "#e8f1fb",
    stroke: "#2b6cb0",
};
pub(crate) const WEBSOCKET: Palette = Palette {
    fill: "#e6f7f5",
    stroke: "#2c7a7b",
};
pub(crate) const QUEUE: Palette = Palette {
    fill: "#fff4e5",
    stroke: "#c05621",
};
pub(crate) const SCHEDULE: Palette = Palette {
    fill: "#f3ebfb",
    stroke: "#6b46c1",
};
pub(crate) const USE_CASE: Palette = Palette {
    fill: "#ffffff",
    stroke: "#2d3748",
};
pub(crate) const SERVICE: Palette = Palette {
    fill: "#f7fafc",
    stroke: "#4a5568",
};
pub(crate) const DATABASE: Palette = Palette {
    fill: "#e9f7ef",
    stroke: "#2f855a",
};
pub(crate) const NOTIFIER: Palette = Palette {
    fill: "#fefcbf",
    stroke: "#b7791f",
};
pub(crate) const OTHER: Palette = Palette {
    fill: "#edf2f7",
    stroke: "#718096",
};
pub(crate) const WARNING: Palette = Palette {
    fill: "#fde8e8",
    stroke: "#c53030",
};

/// The text colour of labels.
pub(crate) const INK: &str = "#1a202c";
/// The colour of secondary text and edges.
pub(crate) const MUTED: &str = "#4a5568";

/// One line of a label.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) text: &'a str,
    pub(crate) bold: bool,
    pub(crate) small: bool,
}

impl<'a> Line<'a> {
    pub(crate) fn bold(text: &'a str) -> Self {
        Line {
            text,
            bold: true,
            small: false,
        }
    }

    pub(crate) fn plain(text: &'a str) -> Self {
        Line {
            text,
            bold: false,
            small: false,
        }
    }

    pub(crate) fn small(text: &'a str) -> Self {
        Line {
            text,
            bold: false,
            small: true,
        }
    }

    fn size(&self) -> f64 {
        if self.small {
            FONT_SIZE - 2.0
        } else {
            FONT_SIZE
        }
    }

    /// The estimated width of the line (bold counts a little wider).
    pub(crate) fn width(&self) -> f64 {
        let width = text_width(self.text, self.size());
        if self.bold { width * 1.15 } else { width }
    }
}

/// The height of a line of label text.
pub(crate) const LINE_HEIGHT: f64 = 17.0;

/// The size of a box that holds `lines` with `pad` pixels around them.
pub(crate) fn box_size(lines: &[Line<'_>], pad: f64) -> (f64, f64) {
    let width = lines.iter().map(Line::width).fold(0.0, f64::max);
    (
        (width + 2.0 * pad).ceil(),
        lines.len() as f64 * LINE_HEIGHT + 12.0,
    )
}

/// An SVG document being drawn.
#[derive(Debug)]
pub(crate) struct Svg {
    body: String,
    id: &'static str,
}

impl Svg {
    /// A new drawing; `id` prefixes the ids of its definitions so several
    /// diagrams can sit in one HTML page.
    pub(crate) fn new(id: &'static str) -> Self {
        Svg {
            body: String::new(),
            id,
        }
    }

    /// A rounded box with centred label lines.
    pub(crate) fn node(
        &mut self,
        (x, y, w, h): (f64, f64, f64, f64),
        palette: Palette,
        lines: &[Line<'_>],
        tooltip: Option<&str>,
    ) {
        self.body.push_str("<g>");
        if let Some(tip) = tooltip {
            let _ = write!(self.body, "<title>{}</title>", xml_escape(tip));
        }
        self.rect((x, y, w, h), 6.0, palette, false);
        self.label(x + w / 2.0, y + h / 2.0, lines);
        self.body.push_str("</g>\n");
    }

    /// A rectangle; `dashed` for outlines that group other shapes.
    pub(crate) fn rect(
        &mut self,
        (x, y, w, h): (f64, f64, f64, f64),
        radius: f64,
        palette: Palette,
        dashed: bool,
    ) {
        let _ = write!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{}" stroke="{}" stroke-width="1.5"{}/>"#,
            num(x),
            num(y),
            num(w),
            num(h),
            num(radius),
            palette.fill,
            palette.stroke,
            if dashed {
                r#" stroke-dasharray="5 4""#
            } else {
                ""
            }
        );
    }

    /// Label lines centred on (`cx`, `cy`).
    pub(crate) fn label(&mut self, cx: f64, cy: f64, lines: &[Line<'_>]) {
        let top = cy - lines.len() as f64 * LINE_HEIGHT / 2.0;
        for (i, line) in lines.iter().enumerate() {
            let baseline = top + (i as f64 + 0.5) * LINE_HEIGHT + line.size() * 0.35;
            self.text(cx, baseline, "middle", *line, INK);
        }
    }

    /// One line of text at (`x`, `y`) (the baseline).
    pub(crate) fn text(&mut self, x: f64, y: f64, anchor: &str, line: Line<'_>, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" text-anchor="{anchor}" font-size="{}"{} fill="{}">{}</text>"#,
            num(x),
            num(y),
            num(line.size()),
            if line.bold {
                r#" font-weight="600""#
            } else {
                ""
            },
            if line.small { MUTED } else { fill },
            xml_escape(line.text)
        );
    }

    /// A label on an edge: small text with a white halo, so it stays
    /// readable where it crosses a line.
    pub(crate) fn edge_label(&mut self, x: f64, y: f64, text: &str, fill: &str) {
        let _ = writeln!(
            self.body,
            r##"<text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="{fill}" stroke="#ffffff" stroke-width="3" paint-order="stroke">{}</text>"##,
            num(x),
            num(y),
            num(FONT_SIZE - 2.0),
            xml_escape(text)
        );
    }

    /// A closed polygon.
    pub(crate) fn polygon(&mut self, points: &[(f64, f64)], palette: Palette) {
        let points: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
            .collect();
        let _ = writeln!(
            self.body,
            r#"<polygon points="{}" fill="{}" stroke="{}" stroke-width="2"/>"#,
            points.join(" "),
            palette.fill,
            palette.stroke
        );
    }

    /// A horizontal-tangent curve from `from` to `to` with an arrowhead.
    pub(crate) fn curve(&mut self, from: (f64, f64), to: (f64, f64), color: &str, dashed: bool) {
        let bend = ((to.0 - from.0).abs() / 2.0).max(30.0);
        let (c1, c2) = if to.0 >= from.0 {
            (from.0 + bend, to.0 - bend)
        } else {
            (from.0 - bend, to.0 + bend)
        };
        let d = format!(
            "M{},{} C{},{} {},{} {},{}",
            num(from.0),
            num(from.1),
            num(c1),
            num(from.1),
            num(c2),
            num(to.1),
            num(to.0),
            num(to.1)
        );
        self.path(&d, color, dashed);
    }

    /// A cubic Bézier arrow with explicit control points.
    pub(crate) fn cubic(
        &mut self,
        from: (f64, f64),
        c1: (f64, f64),
        c2: (f64, f64),
        to: (f64, f64),
        color: &str,
        dashed: bool,
    ) {
        let d = format!(
            "M{},{} C{},{} {},{} {},{}",
            num(from.0),
            num(from.1),
            num(c1.0),
            num(c1.1),
            num(c2.0),
            num(c2.1),
            num(to.0),
            num(to.1)
        );
        self.path(&d, color, dashed);
    }

    /// A straight arrow.
    pub(crate) fn arrow(&mut self, from: (f64, f64), to: (f64, f64), color: &str, dashed: bool) {
        let d = format!(
            "M{},{} L{},{}",
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1)
        );
        self.path(&d, color, dashed);
    }

    /// A plain line without an arrowhead.
    pub(crate) fn line(&mut self, from: (f64, f64), to: (f64, f64), color: &str, dashed: bool) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{color}" stroke-width="1.2"{}/>"#,
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            if dashed {
                r#" stroke-dasharray="4 4""#
            } else {
                ""
            }
        );
    }

    fn path(&mut self, d: &str, color: &str, dashed: bool) {
        let _ = writeln!(
            self.body,
            r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="1.5"{} marker-end="url(#{}-arrow)"/>"#,
            if dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            },
            self.id
        );
    }

    /// A round warning badge (`!`) centred on (`cx`, `cy`).
    pub(crate) fn badge(&mut self, cx: f64, cy: f64, tooltip: &str) {
        let _ = writeln!(
            self.body,
            r##"<g><title>{}</title><circle cx="{}" cy="{}" r="9" fill="#c53030" stroke="#ffffff" stroke-width="1.5"/><text x="{}" y="{}" text-anchor="middle" font-size="13" font-weight="700" fill="#ffffff">!</text></g>"##,
            xml_escape(tooltip),
            num(cx),
            num(cy),
            num(cx),
            num(cy + 4.5)
        );
    }

    /// The finished document, `width` × `height` pixels, titled `title`.
    pub(crate) fn finish(self, width: f64, height: f64, title: &str) -> String {
        let (w, h) = (num(width.max(1.0).ceil()), num(height.max(1.0).ceil()));
        format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{title}" font-family="{font}">"#,
                "\n<title>{title}</title>\n",
                r#"<defs><marker id="{id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{muted}"/></marker></defs>"#,
                "\n",
                r##"<rect width="100%" height="100%" fill="#ffffff"/>"##,
                "\n{body}</svg>\n"
            ),
            w = w,
            h = h,
            title = xml_escape(title),
            font = FONT_FAMILY,
            id = self.id,
            muted = MUTED,
            body = self.body
        )
    }
}
