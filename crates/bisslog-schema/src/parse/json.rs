//! JSON → [`Node`] tree with the span of every node.
//!
//! A small recursive-descent parser for RFC 8259 JSON: it exists because
//! `serde_json` does not report where values are, and diagnostics must.
//! Depth is bounded by [`Limits::max_depth`], so recursion cannot overflow
//! the stack.

use super::{Parsed, duplicate_keys};
use crate::code::Code;
use crate::diagnostic::Diagnostic;
use crate::limits::Limits;
use crate::node::{Node, Style, Value};
use crate::span::{Position, Span};

/// Parses one JSON document.
pub(crate) fn parse(text: &str, limits: &Limits) -> Parsed {
    let mut parser = JsonParser {
        bytes: text.as_bytes(),
        text,
        at: 0,
        line: 1,
        column: 1,
        depth: 0,
        nodes: 0,
        limits,
        diagnostics: Vec::new(),
    };
    let result = parser.document();
    let mut diagnostics = parser.diagnostics;
    match result {
        Ok(root) => Parsed {
            root: Some(root),
            diagnostics,
        },
        Err(fatal) => {
            diagnostics.push(fatal);
            Parsed {
                root: None,
                diagnostics,
            }
        }
    }
}

struct JsonParser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    at: usize,
    line: u32,
    column: u32,
    depth: usize,
    nodes: usize,
    limits: &'a Limits,
    diagnostics: Vec<Diagnostic>,
}

type Result<T> = std::result::Result<T, Diagnostic>;

impl JsonParser<'_> {
    fn document(&mut self) -> Result<Node> {
        self.skip_whitespace()?;
        let root = self.value()?;
        self.skip_whitespace()?;
        if self.at < self.bytes.len() {
            return Err(self.error_here("unexpected content after the end of the JSON document"));
        }
        Ok(root)
    }

    fn position(&self) -> Position {
        Position::new(self.line, self.column)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Advances one byte, keeping line and character column.
    fn bump(&mut self) {
        if let Some(&b) = self.bytes.get(self.at) {
            self.at += 1;
            if b == b'\n' {
                self.line = self.line.saturating_add(1);
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                // Only the first byte of a UTF-8 sequence starts a column.
                self.column = self.column.saturating_add(1);
            } else {
                // continuation byte: same character
            }
        }
    }

    fn error_here(&self, message: impl Into<String>) -> Diagnostic {
        let at = self.position();
        let width = u32::from(self.at < self.bytes.len());
        Diagnostic::new(
            Code::Syntax,
            Span::new(at, Position::new(at.line, at.column + width)),
            message,
        )
    }

    fn found(&self) -> String {
        match self
            .text
            .get(self.at..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => format!("`{}`", c.escape_debug()),
            None => "the end of the file".to_owned(),
        }
    }

    fn skip_whitespace(&mut self) -> Result<()> {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.bump(),
                b'/' if matches!(self.bytes.get(self.at + 1), Some(b'/' | b'*')) => {
                    return Err(self
                        .error_here("JSON does not allow comments")
                        .with_hint("remove the comment, or write the metadata file in YAML, which allows `#` comments"));
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn count_node(&mut self) -> Result<()> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(Diagnostic::new(
                Code::TooManyNodes,
                Span::point(self.position()),
                format!("the document has more than {} nodes", self.limits.max_nodes),
            ));
        }
        Ok(())
    }

    fn value(&mut self) -> Result<Node> {
        self.count_node()?;
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let start = self.position();
                let s = self.string()?;
                Ok(Node::new(
                    Value::Str(s),
                    Span::new(start, self.position()),
                    Style::Quoted,
                ))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            _ => Err(self.error_here(format!("expected a JSON value, found {}", self.found()))),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Node> {
        let start = self.position();
        if !self.bytes[self.at..].starts_with(word.as_bytes()) {
            return Err(self.error_here(format!("expected a JSON value, found {}", self.found())));
        }
        for _ in 0..word.len() {
            self.bump();
        }
        Ok(Node::new(
            value,
            Span::new(start, self.position()),
            Style::Plain,
        ))
    }

    fn enter(&mut self) -> Result<()> {
        if self.depth >= self.limits.max_depth {
            return Err(Diagnostic::new(
                Code::NestingTooDeep,
                Span::point(self.position()),
                format!(
                    "objects and arrays nest deeper than {} levels here",
                    self.limits.max_depth
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn object(&mut self) -> Result<Node> {
        let start = self.position();
        self.enter()?;
        self.bump();
        let mut entries = Vec::new();
        self.skip_whitespace()?;
        let mut comma = None;
        if self.peek() == Some(b'}') {
            self.bump();
        } else {
            loop {
                self.skip_whitespace()?;
                if self.peek() != Some(b'"') {
                    return Err(match (self.peek(), comma) {
                        (Some(b'}'), Some(at)) => trailing_comma(at, '}'),
                        _ => self.error_here(format!(
                            "expected a member name in double quotes, found {}",
                            self.found()
                        )),
                    });
                }
                self.count_node()?;
                let key_start = self.position();
                let key = self.string()?;
                let key = Node::new(
                    Value::Str(key),
                    Span::new(key_start, self.position()),
                    Style::Quoted,
                );
                self.skip_whitespace()?;
                if self.peek() != Some(b':') {
                    return Err(self.error_here(format!(
                        "expected `:` after the member name, found {}",
                        self.found()
                    )));
                }
                self.bump();
                self.skip_whitespace()?;
                let value = self.value()?;
                entries.push((key, value));
                self.skip_whitespace()?;
                match self.peek() {
                    Some(b',') => {
                        comma = Some(self.position());
                        self.bump();
                    }
                    Some(b'}') => {
                        self.bump();
                        break;
                    }
                    _ => {
                        return Err(self.error_here(format!(
                            "expected `,` or `}}` after an object member, found {}",
                            self.found()
                        )));
                    }
                }
            }
        }
        self.depth -= 1;
        for (dup, first) in duplicate_keys(&entries) {
            let first = entries[first].0.span.start;
            self.diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateKey,
                    entries[dup].0.span,
                    format!(
                        "key {} appears twice in this object",
                        entries[dup].0.display_scalar()
                    ),
                )
                .with_hint(format!(
                    "first defined at line {}, column {}; remove one of them",
                    first.line, first.column
                )),
            );
        }
        let mut seen = std::collections::HashSet::new();
        entries.retain(|(k, _)| seen.insert(k.as_str().map(str::to_owned)));
        Ok(Node::new(
            Value::Map(entries),
            Span::new(start, self.position()),
            Style::Other,
        ))
    }

    fn array(&mut self) -> Result<Node> {
        let start = self.position();
        self.enter()?;
        self.bump();
        let mut items = Vec::new();
        self.skip_whitespace()?;
        let mut comma = None;
        if self.peek() == Some(b']') {
            self.bump();
        } else {
            loop {
                self.skip_whitespace()?;
                if let (Some(b']'), Some(at)) = (self.peek(), comma) {
                    return Err(trailing_comma(at, ']'));
                }
                items.push(self.value()?);
                self.skip_whitespace()?;
                match self.peek() {
                    Some(b',') => {
                        comma = Some(self.position());
                        self.bump();
                    }
                    Some(b']') => {
                        self.bump();
                        break;
                    }
                    _ => {
                        return Err(self.error_here(format!(
                            "expected `,` or `]` after an array item, found {}",
                            self.found()
                        )));
                    }
                }
            }
        }
        self.depth -= 1;
        Ok(Node::new(
            Value::Seq(items),
            Span::new(start, self.position()),
            Style::Other,
        ))
    }

    fn string(&mut self) -> Result<String> {
        self.bump(); // opening quote
        let mut out = String::new();
        loop {
            let run_start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump();
            }
            out.push_str(&self.text[run_start..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.bump();
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(self.error_here(
                        "control character inside a string; escape it (`\\n`, `\\t`, ...)",
                    ));
                }
                None => {
                    return Err(self
                        .error_here("unterminated string: the file ends before its closing `\"`"));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<()> {
        let Some(b) = self.peek() else {
            return Err(self.error_here("unterminated string: the file ends inside an escape"));
        };
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                self.bump();
                let first = self.hex4()?;
                let c = if (0xD800..0xDC00).contains(&first) {
                    if !(self.peek() == Some(b'\\') && self.bytes.get(self.at + 1) == Some(&b'u')) {
                        return Err(self.error_here(
                            "a UTF-16 high surrogate must be followed by a `\\u` low surrogate",
                        ));
                    }
                    self.bump();
                    self.bump();
                    let second = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(self.error_here("invalid UTF-16 low surrogate"));
                    }
                    char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
                } else {
                    char::from_u32(first)
                };
                out.push(c.ok_or_else(|| {
                    self.error_here("this `\\u` escape is not a Unicode character")
                })?);
                return Ok(());
            }
            _ => {
                return Err(self.error_here(format!(
                    "invalid escape `\\{}` in a string",
                    self.found().trim_matches('`')
                )));
            }
        };
        self.bump();
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error_here("a `\\u` escape needs four hexadecimal digits"))?;
            value = value * 16 + digit;
            self.bump();
        }
        Ok(value)
    }

    fn number(&mut self) -> Result<Node> {
        let start = self.position();
        let begin = self.at;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => {
                self.bump();
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.error_here("JSON numbers cannot have leading zeros"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error_here(format!("expected a digit, found {}", self.found()))),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.bump();
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here("expected a digit after the decimal point"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integer = false;
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error_here("expected a digit in the exponent"));
            }
            self.digits();
        }
        let text = &self.text[begin..self.at];
        let value = match (integer, text.parse::<i64>()) {
            (true, Ok(i)) => Value::Int(i),
            _ => Value::Float(
                text.parse::<f64>()
                    .map_err(|_| self.error_here("invalid number"))?,
            ),
        };
        Ok(Node::new(
            value,
            Span::new(start, self.position()),
            Style::Plain,
        ))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.bump();
        }
    }
}

/// A comma right before a closing bracket, reported at the comma.
fn trailing_comma(at: Position, closing: char) -> Diagnostic {
    Diagnostic::new(
        Code::Syntax,
        Span::new(at, Position::new(at.line, at.column + 1)),
        format!("trailing comma before `{closing}`: JSON does not allow it"),
    )
    .with_hint("remove this comma")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let parsed = parse(text, &Limits::DEFAULT);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        parsed.root.unwrap()
    }

    fn error(text: &str) -> Diagnostic {
        parse(text, &Limits::DEFAULT).diagnostics.pop().unwrap()
    }

    #[test]
    fn values_and_spans() {
        let node = root("{\n  \"a\": [1, -2.5e1, \"x\\u00e9\\n\", true, null],\n  \"é\": {}\n}");
        let (key, a) = node.get("a").unwrap();
        assert_eq!(key.span.start, Position::new(2, 3));
        let Value::Seq(items) = &a.value else {
            panic!()
        };
        assert_eq!(items[0].value, Value::Int(1));
        assert_eq!(items[1].value, Value::Float(-25.0));
        assert_eq!(items[2].value, Value::Str("xé\n".into()));
        assert_eq!(items[3].value, Value::Bool(true));
        assert_eq!(items[4].value, Value::Null);
        assert_eq!(items[1].span.start, Position::new(2, 12));
        let (key, _) = node.get("é").unwrap();
        assert_eq!(
            key.span,
            Span::new(Position::new(3, 3), Position::new(3, 6))
        );
    }

    #[test]
    fn surrogate_pairs_decode() {
        assert_eq!(root("\"\\ud83d\\ude00\"").value, Value::Str("😀".into()));
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = error("{\"a\": 1,}");
        assert_eq!(e.code, Code::Syntax);
        assert!(e.message.contains("trailing comma"), "{}", e.message);
        assert_eq!(e.span.start, Position::new(1, 8));
        let e = error("{\"a\": 01}");
        assert!(e.message.contains("leading zeros"));
        let e = error("[1, 2");
        assert!(e.message.contains("end of the file"), "{}", e.message);
        let e = error("{\"a\": 1} x");
        assert!(e.message.contains("after the end"));
        let e = error("// c\n{}");
        assert!(e.message.contains("comments"));
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_first_kept() {
        let parsed = parse("{\"a\": 1, \"a\": 2}", &Limits::DEFAULT);
        assert_eq!(parsed.diagnostics[0].code, Code::DuplicateKey);
        assert_eq!(parsed.diagnostics[0].span.start, Position::new(1, 10));
        assert_eq!(
            parsed.root.unwrap().get("a").unwrap().1.value,
            Value::Int(1)
        );
    }

    #[test]
    fn deep_nesting_stops_at_the_limit() {
        let text = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(error(&text).code, Code::NestingTooDeep);
    }
}
