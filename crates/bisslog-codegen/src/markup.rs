//! The one escaper of the generators' HTML pages and SVG diagrams.

/// `text` escaped for HTML or XML text and quoted attribute values: `&`,
/// `<`, `>`, `"` and `'` become entities.
pub(crate) fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}
