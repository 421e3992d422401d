//! `/docs`: an OpenAPI document as one self-contained HTML page. It is
//! rendered on the server, once, with inline CSS and no script, so it
//! works with no network and no CDN.

use std::fmt::Write as _;

use serde_json::Value;

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}\
h2{border-bottom:1px solid #ddd;margin-top:2rem}\
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}\
.m{display:inline-block;min-width:4.5rem;font-weight:bold;text-transform:uppercase}\
code,pre{font:13px ui-monospace,monospace;background:#f5f5f5}\
pre{padding:.5rem;overflow:auto}\
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}\
.x{color:#666;font-size:13px}";

/// The page for `doc`.
pub(crate) fn render(doc: &Value) -> String {
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t} <small class=\"x\">{v}</small></h1>\n",
        t = escape(title),
        v = escape(doc["info"]["version"].as_str().unwrap_or("")),
    );
    if let Some(description) = doc["info"]["description"].as_str() {
        let _ = writeln!(page, "<p>{}</p>", escape(description));
    }
    let _ = writeln!(
        page,
        "<p class=\"x\">The machine-readable document: <a href=\"openapi.json\">openapi.json</a> (OpenAPI {}).</p>",
        escape(doc["openapi"].as_str().unwrap_or(""))
    );
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let _ = writeln!(page, "<h2><code>{}</code></h2>", escape(path));
            for (method, op) in item.as_object().into_iter().flatten() {
                operation(&mut page, method, path, op);
            }
        }
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        page.push_str("<h2>Schemas</h2>\n");
        for (name, schema) in schemas {
            let _ = writeln!(
                page,
                "<h3 id=\"schema-{n}\">{n}</h3><pre>{}</pre>",
                escape(&pretty(schema)),
                n = escape(name)
            );
        }
    }
    page.push_str("</body></html>\n");
    page
}

fn operation(page: &mut String, method: &str, path: &str, op: &Value) {
    let text = |key: &str| op[key].as_str().map(escape).unwrap_or_default();
    let _ = writeln!(
        page,
        "<div class=\"op\" id=\"{id}\"><p><span class=\"m\">{m}</span> <code>{p}</code> — {s} <span class=\"x\">{id}</span></p>",
        id = text("operationId"),
        m = escape(method),
        p = escape(path),
        s = text("summary"),
    );
    if let Some(description) = op["description"].as_str() {
        let _ = writeln!(page, "<p>{}</p>", escape(description));
    }
    let extensions: Vec<String> = op
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("x-bisslog-"))
        .map(|(k, v)| format!("{}: {}", escape(k), escape(&scalar(v))))
        .collect();
    if !extensions.is_empty() {
        let _ = writeln!(page, "<p class=\"x\">{}</p>", extensions.join(" · "));
    }
    if let Some(parameters) = op["parameters"].as_array() {
        page.push_str(
            "<table><tr><th>parameter</th><th>in</th><th>schema</th><th>description</th></tr>\n",
        );
        for p in parameters {
            let _ = writeln!(
                page,
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                escape(p["name"].as_str().unwrap_or("")),
                escape(p["in"].as_str().unwrap_or("")),
                escape(&compact(&p["schema"])),
                escape(p["description"].as_str().unwrap_or("")),
            );
        }
        page.push_str("</table>\n");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        for (media, body) in content {
            let _ = writeln!(
                page,
                "<p>Request body (<code>{}</code>):</p><pre>{}</pre>",
                escape(media),
                escape(&pretty(&body["schema"]))
            );
        }
    }
    if let Some(responses) = op["responses"].as_object() {
        page.push_str("<p>Responses:</p><ul>\n");
        for (status, response) in responses {
            let detail = match response["$ref"].as_str() {
                Some(reference) => reference.rsplit('/').next().unwrap_or("").to_owned(),
                None => {
                    let schema = &response["content"]["application/json"]["schema"];
                    let mut d = response["description"].as_str().unwrap_or("").to_owned();
                    if !schema.is_null() {
                        let _ = write!(d, ": {}", compact(schema));
                    }
                    d
                }
            };
            let _ = writeln!(
                page,
                "<li><b>{}</b> {}</li>",
                escape(status),
                escape(&detail)
            );
        }
        page.push_str("</ul>\n");
    }
    page.push_str("</div>\n");
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Text made safe inside HTML elements and quoted attribute values (the
/// same escaping as the generators' pages).
fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_metadata_is_escaped() {
        let page = render(&serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "<script>alert(1)</script>", "version": "1"},
            "paths": {},
        }));
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
    }
}
