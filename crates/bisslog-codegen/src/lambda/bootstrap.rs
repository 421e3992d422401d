//! The `bootstrap` binary crate: Lambda's `provided.al2023` runtime runs an
//! executable named `bootstrap`, and this one builds the service once per
//! cold start and serves every event through `bisslog::lambda`.

use std::fmt::Write as _;

use super::{BisslogDependency, LambdaOptions, Problem};

/// The problems of the options that end up in the crate.
pub(super) fn check_options(options: &LambdaOptions) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !is_package_name(&options.crate_name) {
        problems.push(Problem::InvalidOption {
            option: "crate-name",
            value: options.crate_name.clone(),
            reason: "not a Cargo package name (ASCII letters, digits, `-` and `_`, not starting \
                     with a digit)",
        });
    }
    if !is_rust_path(&options.setup) {
        problems.push(Problem::InvalidOption {
            option: "setup",
            value: options.setup.clone(),
            reason: "not a Rust path to a function, such as `my_service::lambda_service`",
        });
    }
    let text_options = [
        ("crate-path", &options.crate_path),
        match &options.bisslog {
            BisslogDependency::Path(path) => ("bisslog-path", path),
            BisslogDependency::Version(version) => ("bisslog-version", version),
        },
    ];
    for (option, value) in text_options {
        if value.is_empty() || value.chars().any(char::is_control) {
            problems.push(Problem::InvalidOption {
                option,
                value: value.clone(),
                reason: "must be non-empty text without control characters",
            });
        }
    }
    problems
}

fn is_package_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `a::b::c`, optionally with a leading `::`; segments are identifiers,
/// raw ones (`r#type`) included.
fn is_rust_path(path: &str) -> bool {
    let path = path.strip_prefix("::").unwrap_or(path);
    path.split("::").all(|segment| {
        let ident = segment.strip_prefix("r#").unwrap_or(segment);
        ident.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && ident != "_"
            && ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn cargo_toml(options: &LambdaOptions) -> String {
    let bisslog = match &options.bisslog {
        BisslogDependency::Path(path) => format!("path = {}", toml_string(path)),
        BisslogDependency::Version(version) => format!("version = {}", toml_string(version)),
    };
    let mut text = format!(
        r#"[package]
name = "bootstrap"
version = "0.1.0"
edition = "2024"
publish = false

[[bin]]
name = "bootstrap"
path = "src/main.rs"

[dependencies]
{crate_name} = {{ path = {crate_path} }}
bisslog = {{ {bisslog}, features = ["lambda"] }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}
"#,
        crate_name = options.crate_name,
        crate_path = toml_string(&options.crate_path),
    );
    if options.standalone_workspace {
        text.push_str(
            "\n# Not a member of any enclosing workspace: builds on its own.\n[workspace]\n",
        );
    }
    text
}

pub(super) fn main_rs(options: &LambdaOptions) -> String {
    format!(
        r#"#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {{
    bisslog::logging::init();
    // Runs once per cold start, outside the handler: adapters, configuration.
    let service = {setup}().await?;
    bisslog::lambda::run(bisslog::lambda::LambdaHandler::new(service)?).await
}}
"#,
        setup = options.setup
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_paths() {
        for good in ["a::b", "::a::b_c", "my_service::r#type", "f"] {
            assert!(is_rust_path(good), "{good}");
        }
        for bad in ["", "a::", "a b", "a::1b", "_", "a::b()", "a-b::c"] {
            assert!(!is_rust_path(bad), "{bad}");
        }
    }

    #[test]
    fn package_names() {
        assert!(is_package_name("company-data-registry"));
        assert!(!is_package_name("1abc"));
        assert!(!is_package_name("a.b"));
        assert!(!is_package_name(""));
    }

    #[test]
    fn toml_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("a\tb"), r#""a\u0009b""#);
    }
}
