//! The workspace around the two crates: manifests, `.gitignore`, README.

use super::FrameworkSource;

/// The manifest line of a framework crate (`bisslog`, `bisslog-core`) for
/// a crate `depth` directories below the workspace root.
fn framework_dependency(
    source: &FrameworkSource,
    krate: &str,
    depth: usize,
    extra: &str,
) -> String {
    match source {
        FrameworkSource::Version(version) => {
            format!("{krate} = {{ version = {version:?}{extra} }}")
        }
        FrameworkSource::Path(root) => {
            let root = root.trim_end_matches('/');
            let relative = !root.starts_with('/') && !root.contains(':');
            let up = if relative {
                "../".repeat(depth)
            } else {
                String::new()
            };
            format!("{krate} = {{ path = \"{up}{root}/crates/{krate}\"{extra} }}")
        }
    }
}

/// `Cargo.toml`: the workspace, and the service package in it.
pub(crate) fn root_manifest(crate_name: &str, source: &FrameworkSource) -> String {
    let bisslog = framework_dependency(source, "bisslog", 0, ", features = [\"sql\"]");
    let testing = framework_dependency(source, "bisslog", 0, ", features = [\"testing\"]");
    format!(
        "[workspace]
members = [\"domain\"]
resolver = \"3\"

[package]
name = \"{crate_name}\"
version = \"0.1.0\"
edition = \"2024\"
publish = false

[dependencies]
# The domain: use cases and ports, with no infrastructure.
{crate_name}-domain = {{ path = \"domain\" }}
# The runner (HTTP, configuration, commands) and SQL (SQLite, PostgreSQL).
{bisslog}
# Request parts and attributes, for authenticators.
http = \"1\"
serde_json = \"1\"
tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}

[dev-dependencies]
# The test kit: the service driven through its triggers, in process.
{testing}
"
    )
}

/// `domain/Cargo.toml`.
pub(crate) fn domain_manifest(crate_name: &str, source: &FrameworkSource) -> String {
    let core = framework_dependency(source, "bisslog-core", 1, "");
    format!(
        "[package]
name = \"{crate_name}-domain\"
version = \"0.1.0\"
edition = \"2024\"
publish = false

# The domain's whole world: the bisslog contract and serde. No framework,
# transport or database crate belongs here.
[dependencies]
{core}
schemars = \"1\"
serde = {{ version = \"1\", features = [\"derive\"] }}
serde_json = \"1\"
"
    )
}

/// `.gitignore`.
pub(crate) fn gitignore() -> String {
    "/target\n*.db\n*.db-shm\n*.db-wal\n".to_owned()
}

/// `README.md`: the two commands.
pub(crate) fn readme(crate_name: &str, starter: bool) -> String {
    let try_it = if starter {
        "
```sh
curl http://127.0.0.1:8080/hello/Ana
# {\"message\":\"Hello, Ana!\",\"count\":1}
```
"
    } else {
        ""
    };
    format!(
        "# {crate_name}

A bisslog service: `metadata.yml` declares its use cases, `domain/` holds
them (with the ports they use), `src/` binds adapters to the ports and
serves it.

```sh
cargo run     # serves on PORT (8080): /health/live, and the metadata's triggers
cargo test    # a test per use case
```
{try_it}
`DATABASE_URL=sqlite://{crate_name}.db cargo run` keeps the data in SQLite
(the SQL adapters), `postgres://...` in PostgreSQL; without it, in memory.

After declaring a use case or an external interaction in `metadata.yml`,
`bisslog generate` adds its files and registers it in `src/compose.rs`,
leaving the files you edited alone.
"
    )
}
