//! YAML → [`Node`] tree, from the events of `saphyr-parser`, keeping the
//! span of every node and enforcing the [`Limits`].
//!
//! Scalars are resolved with the YAML 1.2 core schema. Anchors and aliases
//! are supported (an alias is a copy of its anchor, counted against
//! [`Limits::max_nodes`]) and so are YAML 1.1 merge keys (`<<: *base`),
//! which PyYAML, and therefore the Python bisslog tools, understand.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use super::{Parsed, duplicate_keys};
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::node::{Node, Style, Value};
use crate::span::{Position, Span};

/// Parses one YAML document.
pub(crate) fn parse(text: &str, limits: &Limits) -> Parsed {
    let mut builder = Builder {
        limits,
        anchors: HashMap::new(),
        stack: Vec::new(),
        nodes: 0,
        documents: 0,
        root: None,
        diagnostics: Vec::new(),
    };
    let fatal = builder.run(text).err();
    let mut diagnostics = builder.diagnostics;
    match fatal {
        Some(fatal) => {
            diagnostics.push(fatal);
            Parsed {
                root: None,
                diagnostics,
            }
        }
        None => Parsed {
            root: builder.root,
            diagnostics,
        },
    }
}

/// A collection being read: its entries so far, where it started and the
/// anchor it will be stored under.
struct Frame {
    kind: FrameKind,
    start: Position,
    anchor: usize,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'l> {
    limits: &'l Limits,
    anchors: HashMap<usize, Node>,
    stack: Vec<Frame>,
    nodes: usize,
    documents: usize,
    root: Option<Node>,
    diagnostics: Vec<Diagnostic>,
}

fn position(marker: &Marker) -> Position {
    let line = u32::try_from(marker.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(marker.col().saturating_add(1)).unwrap_or(u32::MAX);
    Position::new(line, column)
}

impl Builder<'_> {
    fn run(&mut self, text: &str) -> Result<(), Diagnostic> {
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| scan_error(text, &e))?;
            let start = position(&span.start);
            let end = position(&span.end);
            match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => {}
                Event::DocumentStart(_) => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(Diagnostic::new(
                            Code::MultipleDocuments,
                            Span::new(start, end),
                            "a second YAML document starts here; a metadata file holds one",
                        )
                        .with_hint(
                            "remove the `---` line, or move the second document to its own file",
                        ));
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let node = self.scalar(&value, style, tag.as_deref(), Span::new(start, end));
                    self.count(1, start)?;
                    self.remember(anchor, &node);
                    self.push(node)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.collection_tag(tag.as_deref(), "seq", Span::new(start, end));
                    self.open(FrameKind::Seq(Vec::new()), start, anchor)?
                }
                Event::MappingStart(anchor, tag) => {
                    self.collection_tag(tag.as_deref(), "map", Span::new(start, end));
                    let kind = FrameKind::Map {
                        entries: Vec::new(),
                        key: None,
                    };
                    self.open(kind, start, anchor)?;
                }
                Event::SequenceEnd | Event::MappingEnd => self.close(end)?,
                Event::Alias(anchor) => {
                    let node = self.alias(anchor, Span::new(start, end))?;
                    self.push(node)?;
                }
            }
        }
        Ok(())
    }

    /// Counts `n` more nodes against the budget.
    fn count(&mut self, n: usize, at: Position) -> Result<(), Diagnostic> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(Diagnostic::new(
                Code::TooManyNodes,
                Span::point(at),
                format!(
                    "the document grows past {} nodes here once aliases are expanded",
                    self.limits.max_nodes
                ),
            )
            .with_hint("this looks like an alias bomb; metadata files need far fewer nodes"));
        }
        Ok(())
    }

    fn open(&mut self, kind: FrameKind, start: Position, anchor: usize) -> Result<(), Diagnostic> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Diagnostic::new(
                Code::NestingTooDeep,
                Span::point(start),
                format!(
                    "mappings and lists nest deeper than {} levels here",
                    self.limits.max_depth
                ),
            ));
        }
        self.count(1, start)?;
        self.stack.push(Frame {
            kind,
            start,
            anchor,
        });
        Ok(())
    }

    fn close(&mut self, end: Position) -> Result<(), Diagnostic> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let node = match frame.kind {
            FrameKind::Seq(items) => {
                let end = items.last().map_or(end, |last| last.span.end);
                Node::new(Value::Seq(items), Span::new(frame.start, end), Style::Other)
            }
            FrameKind::Map { entries, .. } => {
                let end = entries.last().map_or(end, |(_, v)| v.span.end);
                let entries = self.finish_map(entries);
                Node::new(
                    Value::Map(entries),
                    Span::new(frame.start, end),
                    Style::Other,
                )
            }
        };
        self.remember(frame.anchor, &node);
        self.push(node)
    }

    /// Applies merge keys and drops (after reporting) duplicate keys.
    fn finish_map(&mut self, entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
        let has_merge = entries
            .iter()
            .any(|(k, _)| k.style == Style::Plain && k.as_str() == Some("<<"));
        let entries = if has_merge {
            self.merge(entries)
        } else {
            entries
        };
        let duplicates = duplicate_keys(&entries);
        if duplicates.is_empty() {
            return entries;
        }
        for &(dup, first) in &duplicates {
            let key = &entries[dup].0;
            let first = entries[first].0.span.start;
            self.diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateKey,
                    key.span,
                    format!("key {} appears twice in this mapping", key.display_scalar()),
                )
                .with_hint(format!(
                    "first defined at line {}, column {}; remove one of them",
                    first.line, first.column
                )),
            );
        }
        let drop: std::collections::HashSet<usize> = duplicates.iter().map(|&(d, _)| d).collect();
        entries
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, e)| e)
            .collect()
    }

    /// YAML merge keys: entries of the merged mappings are added unless the
    /// mapping itself already has the key.
    fn merge(&mut self, entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
        let (merges, mut own): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|(k, _)| k.style == Style::Plain && k.as_str() == Some("<<"));
        for (key, value) in merges {
            let sources = match value.value {
                Value::Map(_) => vec![value],
                Value::Seq(items) if items.iter().all(|i| matches!(i.value, Value::Map(_))) => {
                    items
                }
                _ => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::UnsupportedYaml,
                            key.span,
                            "a merge key `<<` must be given a mapping or a list of mappings",
                        )
                        .with_hint("write `<<: *anchor` where the anchor names a mapping"),
                    );
                    continue;
                }
            };
            for source in sources {
                if let Value::Map(source_entries) = source.value {
                    for (k, v) in source_entries {
                        let present = own.iter().any(|(o, _)| same_key(o, &k));
                        if !present {
                            own.push((k, v));
                        }
                    }
                }
            }
        }
        own
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn alias(&mut self, anchor: usize, span: Span) -> Result<Node, Diagnostic> {
        let Some(node) = self.anchors.get(&anchor) else {
            return Err(Diagnostic::new(
                Code::Syntax,
                span,
                "this alias refers to an anchor that is not defined before it",
            ));
        };
        let size = node.size();
        let node = node.clone();
        self.count(size, span.start)?;
        Ok(node)
    }

    fn push(&mut self, node: Node) -> Result<(), Diagnostic> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map { entries, key } => match key.take() {
                Some(k) => entries.push((k, node)),
                None => {
                    if matches!(node.value, Value::Seq(_) | Value::Map(_)) {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::UnsupportedYaml,
                                Span::new(node.span.start, node.span.start),
                                "mapping keys must be plain values, not lists or mappings",
                            )
                            .with_hint(
                                "metadata keys are names such as `path` or a use case keyname",
                            ),
                        );
                    }
                    *key = Some(node);
                }
            },
        }
        Ok(())
    }

    /// Reports a tag on a collection other than its own core tag
    /// (`!!map`, `!!seq`), as tags on scalars are.
    fn collection_tag(&mut self, tag: Option<&Tag>, core: &str, span: Span) {
        let Some(tag) = tag else { return };
        if tag.is_yaml_core_schema() && tag.suffix == core {
            return;
        }
        self.diagnostics.push(
            Diagnostic::new(
                Code::UnsupportedYaml,
                span,
                format!("the tag `{}` is not supported here", tag_name(tag)),
            )
            .with_hint(
                "remove the tag; metadata values are plain strings, numbers, booleans, lists and mappings",
            ),
        );
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle, tag: Option<&Tag>, span: Span) -> Node {
        let node_style = match style {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
            _ => Style::Other,
        };
        let value = match tag {
            Some(tag) => self.tagged(text, tag, span),
            None if style == ScalarStyle::Plain => resolve_plain(text),
            None => Value::Str(text.to_owned()),
        };
        Node::new(value, span, node_style)
    }

    /// A scalar with an explicit tag: the core-schema tags are honoured,
    /// anything else is reported.
    fn tagged(&mut self, text: &str, tag: &Tag, span: Span) -> Value {
        let core = if tag.is_yaml_core_schema() {
            Some(tag.suffix.as_str())
        } else if tag.handle == "!" && tag.suffix.is_empty() {
            Some("str")
        } else {
            None
        };
        let value = match core {
            Some("str") => Some(Value::Str(text.to_owned())),
            Some("null" | "bool" | "int" | "float") => {
                let resolved = resolve_plain(text);
                let fits = matches!(
                    (core, &resolved),
                    (Some("null"), Value::Null)
                        | (Some("bool"), Value::Bool(_))
                        | (Some("int"), Value::Int(_))
                        | (Some("float"), Value::Float(_) | Value::Int(_))
                );
                fits.then(|| match resolved {
                    Value::Int(i) if core == Some("float") => Value::Float(i as f64),
                    other => other,
                })
            }
            _ => None,
        };
        value.unwrap_or_else(|| {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::UnsupportedYaml,
                    span,
                    format!("the tag `{}` is not supported here", tag_name(tag)),
                )
                .with_hint("remove the tag; metadata values are plain strings, numbers, booleans, lists and mappings"),
            );
            Value::Str(text.to_owned())
        })
    }
}

/// A tag as it is usually written (`!!binary`, `!custom`).
fn tag_name(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// Whether two mapping keys are the same key.
pub(super) fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Float(x), Value::Float(y)) => x == y,
        _ => false,
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = resolve_int(text) {
        return int;
    }
    if is_core_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

/// Core-schema integers: decimal with an optional sign, `0o` octal, `0x`
/// hexadecimal. Decimal integers too large for i64 become floats, as a
/// number is what the author wrote.
fn resolve_int(text: &str) -> Option<Value> {
    let (digits, radix) = if let Some(oct) = text.strip_prefix("0o") {
        (oct, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(text.parse::<f64>().ok()?),
        });
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i64::from_str_radix(digits, radix).ok().map(Value::Int)
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_core_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac_part {
        Some(f) => digits(int_part) && digits(f) && !(int_part.is_empty() && f.is_empty()),
        None => !int_part.is_empty() && digits(int_part),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// A scanner error as a diagnostic; tabs get their own code and advice.
fn scan_error(text: &str, error: &ScanError) -> Diagnostic {
    let at = position(error.marker());
    let info = error.info();
    if info == "recursion limit exceeded" {
        return Diagnostic::new(
            Code::NestingTooDeep,
            Span::point(at),
            "flow mappings and lists nest too deep here",
        );
    }
    if info.contains("tab") {
        return Diagnostic::new(
            Code::TabIndentation,
            Span::new(at, Position::new(at.line, at.column + 1)),
            "a tab character is used for indentation; YAML allows only spaces",
        )
        .with_hint("replace the tabs at the start of this line with spaces");
    }
    let message = format!("invalid YAML: {info}");
    let hint = text
        .contains('\t')
        .then(|| "the file contains tab characters; YAML indentation must use spaces".to_owned());
    Diagnostic::new(Code::Syntax, Span::point(at), message).with_optional_hint(hint)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        resolve_plain(text)
    }

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        assert_eq!(value("12"), Value::Int(12));
        assert_eq!(value("-3"), Value::Int(-3));
        assert_eq!(value("0x1f"), Value::Int(31));
        assert_eq!(value("0o17"), Value::Int(15));
        assert_eq!(value("1.5"), Value::Float(1.5));
        assert_eq!(value(".5"), Value::Float(0.5));
        assert_eq!(value("1e3"), Value::Float(1000.0));
        assert_eq!(value("True"), Value::Bool(true));
        assert_eq!(value("~"), Value::Null);
        assert_eq!(value("yes"), Value::Str("yes".into()));
        assert_eq!(value("0 0 ? * 1 *"), Value::Str("0 0 ? * 1 *".into()));
        assert_eq!(value("1.2.3"), Value::Str("1.2.3".into()));
        assert_eq!(value("."), Value::Str(".".into()));
        assert_eq!(value("e3"), Value::Str("e3".into()));
        assert!(matches!(value("99999999999999999999"), Value::Float(_)));
    }

    #[test]
    fn spans_are_one_based() {
        let parsed = parse("a:\n  b: 'x'\n", &Limits::DEFAULT);
        let root = parsed.root.unwrap();
        let (_, a) = root.get("a").unwrap();
        let (key, b) = a.get("b").unwrap();
        assert_eq!(key.span.start, Position::new(2, 3));
        assert_eq!(b.span.start, Position::new(2, 6));
        assert_eq!(b.span.end, Position::new(2, 9));
    }

    #[test]
    fn merge_keys_fill_missing_entries_only() {
        let text = "base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n";
        let root = parse(text, &Limits::DEFAULT).root.unwrap();
        let (_, used) = root.get("use").unwrap();
        assert_eq!(used.get("x").unwrap().1.value, Value::Int(1));
        assert_eq!(used.get("y").unwrap().1.value, Value::Int(3));
    }
}
