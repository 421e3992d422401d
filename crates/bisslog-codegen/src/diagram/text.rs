//! Text helpers shared by the diagrams: escaping for SVG and Mermaid, and
//! width estimates so boxes fit their labels without a font at hand.

use crate::markup::escape as esc;

/// The font size of labels, in pixels.
pub(crate) const FONT_SIZE: f64 = 13.0;

/// Labels longer than this many characters are shortened with `…`.
pub(crate) const MAX_LABEL_CHARS: usize = 48;

/// `text` escaped for XML character data and attribute values: the HTML
/// escaper, after control characters (not allowed in XML 1.0) become
/// spaces.
pub(crate) fn xml_escape(text: &str) -> String {
    if text.chars().any(char::is_control) {
        let cleaned: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        esc(&cleaned)
    } else {
        esc(text)
    }
}

/// `text` as the inside of a quoted Mermaid label: quotes, angle brackets,
/// `#`, `;` and `&` become Mermaid entity codes and line breaks spaces, so
/// no label can end the string or the statement early.
pub(crate) fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The estimated width, in pixels, of `text` at `size` pixels in a
/// proportional sans-serif font: narrow, wide and capital letters are
/// counted apart, which keeps the estimate within a few percent for the
/// usual labels.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    let ems: f64 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '|' | '!' | '\'' | ' ' | 'I' => 0.3,
            'f' | 't' | 'r' | '/' | '(' | ')' | '[' | ']' | '{' | '}' | '-' => 0.38,
            'm' | 'w' | 'M' | 'W' | '@' => 0.85,
            c if c.is_ascii_uppercase() => 0.68,
            c if c.is_ascii() => 0.56,
            // CJK and other wide scripts.
            c if u32::from(c) >= 0x2E80 => 1.0,
            _ => 0.6,
        })
        .sum();
    // Common sans-serif fonts (DejaVu Sans, Verdana) run a little wider.
    ems * size * 1.05
}

/// `text` shortened to at most `max` characters, ending with `…` when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A number written with at most one decimal, the way SVG attributes
/// take it: `12`, `12.5`.
pub(crate) fn num(value: f64) -> String {
    // Adding 0.0 turns -0 into 0.
    let rounded = (value * 10.0).round() / 10.0 + 0.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_special_characters_are_escaped() {
        assert_eq!(
            xml_escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
        );
        assert_eq!(xml_escape("a\u{0}b"), "a b");
    }

    #[test]
    fn mermaid_labels_cannot_close_their_quotes() {
        assert_eq!(
            mermaid_escape(r#"say "hi"; #1"#),
            "say #quot;hi#quot;#59; #35;1"
        );
        assert_eq!(mermaid_escape("a\nb"), "a b");
    }

    #[test]
    fn wider_letters_count_more() {
        let narrow = text_width("iiii", FONT_SIZE);
        let wide = text_width("MMMM", FONT_SIZE);
        assert!(narrow < wide);
        assert_eq!(text_width("", FONT_SIZE), 0.0);
        assert!(text_width("GET /schemas", FONT_SIZE) > 60.0);
    }

    #[test]
    fn long_labels_are_shortened_with_an_ellipsis() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(shorten(" abc ", 3), "abc");
    }

    #[test]
    fn numbers_have_at_most_one_decimal() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(-0.04), "0");
    }
}
