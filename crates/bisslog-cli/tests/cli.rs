//! The `bisslog` binary, run as a user runs it: golden outputs for the
//! conformance files, exit codes, file discovery, the published schema.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{assert_golden, bisslog, repo_root, stdout};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bisslog-schema/tests/conformance")
}

const FILES: [(&str, i32); 4] = [
    ("company-data-registry", 0),
    ("user-management", 0),
    ("webhook", 1),
    ("webhook-wrong", 1),
];

#[test]
fn validate_prints_located_diagnostics_and_a_summary() {
    for (name, code) in FILES {
        let output = bisslog(&conformance_dir(), &["validate", &format!("{name}.yml")]);
        assert_eq!(output.status.code(), Some(code), "{name}");
        assert_golden(&format!("validate-{name}.txt"), &stdout(&output));
    }
}

#[test]
fn validate_json_is_one_document_in_the_documented_shape() {
    for (name, code) in FILES {
        let output = bisslog(
            &conformance_dir(),
            &["validate", "--format", "json", &format!("{name}.yml")],
        );
        assert_eq!(output.status.code(), Some(code), "{name}");
        let text = stdout(&output);
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        let file = &document["files"][0];
        assert_eq!(file["path"], format!("{name}.yml"));
        let diagnostics = file["diagnostics"].as_array().unwrap();
        let errors = diagnostics
            .iter()
            .filter(|d| d["severity"] == "error")
            .count();
        assert_eq!(file["errors"], errors);
        assert_eq!(file["warnings"], diagnostics.len() - errors);
        for d in diagnostics {
            for key in ["severity", "code", "message", "line", "column", "hint"] {
                assert!(d.get(key).is_some(), "{key} missing in {d}");
            }
        }
        assert_golden(&format!("validate-{name}.json"), &text);
    }
}

#[test]
fn several_files_get_a_total_and_the_worst_exit_code() {
    let output = bisslog(
        &conformance_dir(),
        &["validate", "company-data-registry.yml", "webhook.yml"],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.ends_with("2 files: 2 errors, 2 warnings\n"), "{text}");
}

/// Across the files given: two services consuming a queue that neither
/// declares an event would compete for it (W019, at the second one's use
/// case); declared an event by one and a command by another (W020).
#[test]
fn several_files_are_checked_across_services() {
    let dir = tempfile::tempdir().unwrap();
    let consumer = |service: &str, use_case: &str, kind: &str| {
        format!(
            "name: {service}\nuse_cases:\n  {use_case}:\n    name: {use_case}\n    triggers:\n      - type: consumer\n        options:\n          queue: orders.created\n{kind}"
        )
    };
    std::fs::write(
        dir.path().join("audit.yml"),
        consumer("audit", "record", ""),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("billing.yml"),
        consumer("billing", "charge", ""),
    )
    .unwrap();
    let output = bisslog(dir.path(), &["validate", "audit.yml", "billing.yml"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains(
            "warning[W019]: `orders.created` is consumed by audit and billing but is not an event"
        ),
        "{text}"
    );
    assert!(text.contains("--> billing.yml:3:3"), "{text}");
    assert!(text.ends_with("2 files: 0 errors, 1 warning\n"), "{text}");

    let event = "          queue_kind: event\n";
    std::fs::write(
        dir.path().join("audit.yml"),
        consumer("audit", "record", event),
    )
    .unwrap();
    let output = bisslog(dir.path(), &["validate", "audit.yml", "billing.yml"]);
    let text = stdout(&output);
    assert!(text.contains("warning[W020]: `charge` of billing consumes `orders.created` as a command, but audit declares it an event"), "{text}");

    std::fs::write(
        dir.path().join("billing.yml"),
        consumer("billing", "charge", event),
    )
    .unwrap();
    let output = bisslog(
        dir.path(),
        &["validate", "--deny-warnings", "audit.yml", "billing.yml"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn deny_warnings_fails_on_warnings_only() {
    let output = bisslog(
        &conformance_dir(),
        &["validate", "--deny-warnings", "user-management.yml"],
    );
    assert_eq!(output.status.code(), Some(1));
    let output = bisslog(
        &conformance_dir(),
        &["validate", "--deny-warnings", "company-data-registry.yml"],
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_missing_file_is_exit_two_with_a_message() {
    let output = bisslog(&conformance_dir(), &["validate", "no-such-file.yml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot read no-such-file.yml"), "{stderr}");
}

#[test]
fn files_are_discovered_like_the_runtime_does() {
    let dir = std::env::temp_dir().join(format!("bisslog-cli-discovery-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    let text =
        std::fs::read_to_string(conformance_dir().join("company-data-registry.yml")).unwrap();
    std::fs::write(dir.join("docs/metadata.yml"), &text).unwrap();

    let found = bisslog(&dir, &["validate"]);
    assert_eq!(found.status.code(), Some(0));
    assert!(
        stdout(&found).starts_with("docs/metadata.yml: valid, 10 use cases"),
        "{}",
        stdout(&found)
    );

    let by_dir = bisslog(&conformance_dir(), &["validate", dir.to_str().unwrap()]);
    assert_eq!(by_dir.status.code(), Some(0));

    let by_env = Command::new(env!("CARGO_BIN_EXE_bisslog"))
        .args(["validate"])
        .current_dir(conformance_dir())
        .env("SERVICE_METADATA_PATH", "webhook.yml")
        .output()
        .unwrap();
    assert_eq!(by_env.status.code(), Some(1));

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let none = bisslog(&empty, &["validate"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(
        String::from_utf8(none.stderr)
            .unwrap()
            .contains("no metadata file found")
    );
}

#[test]
fn analyze_mirrors_the_python_summary() {
    for (name, code) in FILES {
        let output = bisslog(&conformance_dir(), &["analyze", &format!("{name}.yml")]);
        assert_eq!(output.status.code(), Some(code), "{name}");
        let text = stdout(&output);
        assert!(text.starts_with("Report of metadata file service\n"));
        let found = text.lines().find(|l| l.starts_with("Found ")).unwrap();
        assert!(
            found.ends_with('.')
                && found.contains(" errors of ")
                && found.contains(" warnings of ")
        );
        let verdict = text.lines().last().unwrap();
        assert!(
            verdict.starts_with("Your metadata file ") && verdict.ends_with('.'),
            "{verdict}"
        );
        assert_golden(&format!("analyze-{name}.txt"), &text);
    }
}

#[test]
fn analyze_min_warnings_fails_a_low_rating() {
    let output = bisslog(
        &conformance_dir(),
        &["analyze", "user-management.yml", "--min-warnings", "9.99"],
    );
    assert_eq!(output.status.code(), Some(1));
    let output = bisslog(
        &conformance_dir(),
        &[
            "analyze",
            "company-data-registry.yml",
            "--min-warnings",
            "10",
        ],
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn analyze_reads_latin1_when_asked() {
    let dir = std::env::temp_dir().join(format!("bisslog-cli-latin1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("metadata.yml"), b"name: caf\xe9\nuse_cases: {}\n").unwrap();
    let utf8 = bisslog(&dir, &["analyze", "metadata.yml"]);
    let latin1 = bisslog(&dir, &["analyze", "metadata.yml", "--encoding", "latin-1"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(utf8.status.code(), Some(1));
    assert_eq!(latin1.status.code(), Some(0));
}

#[test]
fn the_published_schema_is_current() {
    let output = bisslog(&repo_root(), &["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let published = repo_root().join("schemas/metadata.schema.json");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&published, stdout(&output)).unwrap();
    }
    let expected = std::fs::read_to_string(&published).unwrap();
    assert_eq!(
        expected,
        stdout(&output),
        "schemas/metadata.schema.json is stale: run `bisslog schema --out schemas/metadata.schema.json`"
    );
}

#[test]
fn usage_errors_are_exit_two_and_help_is_exit_zero() {
    assert_eq!(
        bisslog(&repo_root(), &["validate", "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        bisslog(&repo_root(), &["frobnicate"]).status.code(),
        Some(2)
    );
    let help = bisslog(&repo_root(), &["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("validate"));
}

const REGISTRY_LAMBDA: [&str; 9] = [
    "--crate-name",
    "company-data-registry",
    "--crate-path",
    "../..",
    "--setup",
    "company_data_registry::lambda_service",
    "--bisslog-path",
    "../../../../crates/bisslog",
    "--force",
];

fn lambda_generate(out: &Path, extra: &[&str]) -> Output {
    let out = out.to_str().unwrap();
    let mut args = vec![
        "lambda",
        "generate",
        "crates/bisslog-codegen/tests/fixtures/example-system/metadata.yml",
        "--out",
        out,
    ];
    args.extend(extra);
    bisslog(&repo_root(), &args)
}

#[test]
fn lambda_generate_writes_the_golden_layout_of_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let output = lambda_generate(dir.path(), &REGISTRY_LAMBDA[..8]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let golden = repo_root().join("crates/bisslog-codegen/tests/golden/company-data-registry");
    for file in [
        "template.yaml",
        "bootstrap/Cargo.toml",
        "bootstrap/src/main.rs",
        "README.md",
    ] {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(file)).unwrap(),
            std::fs::read_to_string(golden.join(file)).unwrap(),
            "{file}"
        );
        assert!(stdout(&output).contains(&format!("created {}", dir.path().join(file).display())));
    }
    let again = lambda_generate(dir.path(), &REGISTRY_LAMBDA[..8]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(stdout(&again).matches("unchanged").count(), 4, "{again:?}");
}

#[test]
fn lambda_generate_refuses_an_edited_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        lambda_generate(dir.path(), &REGISTRY_LAMBDA[..8])
            .status
            .code(),
        Some(0)
    );
    let main = dir.path().join("bootstrap/src/main.rs");
    std::fs::write(&main, "fn main() {}\n").unwrap();
    let refused = lambda_generate(dir.path(), &REGISTRY_LAMBDA[..8]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert!(stderr.contains(&main.display().to_string()), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), "fn main() {}\n");

    let forced = lambda_generate(dir.path(), &REGISTRY_LAMBDA);
    assert_eq!(forced.status.code(), Some(0));
    assert!(stdout(&forced).contains("overwritten"));
    assert!(
        std::fs::read_to_string(&main)
            .unwrap()
            .contains("lambda_service")
    );
}

#[test]
fn lambda_generate_reports_metadata_and_generation_errors_with_exit_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let invalid = bisslog(
        &conformance_dir(),
        &[
            "lambda",
            "generate",
            "webhook.yml",
            "--out",
            out,
            "--crate-name",
            "webhook",
            "--crate-path",
            "..",
            "--setup",
            "webhook::lambda_service",
        ],
    );
    assert_eq!(invalid.status.code(), Some(1));
    let stderr = String::from_utf8(invalid.stderr).unwrap();
    assert!(stderr.contains("webhook.yml:113:19"), "{stderr}");
    assert!(stderr.contains("nothing generated"), "{stderr}");

    let unknown_queue = lambda_generate(
        dir.path(),
        &[&REGISTRY_LAMBDA[..8], &["--sns", "nope"]].concat(),
    );
    assert_eq!(unknown_queue.status.code(), Some(1));
    let stderr = String::from_utf8(unknown_queue.stderr).unwrap();
    assert!(
        stderr.contains("no consumer trigger of the service reads queue `nope`"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let both = lambda_generate(
        dir.path(),
        &[&REGISTRY_LAMBDA[..8], &["--bisslog-version", "0.1"]].concat(),
    );
    assert_eq!(both.status.code(), Some(2));
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

#[test]
fn docs_writes_the_golden_site_of_the_example_system() {
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap();
    let args = [
        "docs",
        "crates/bisslog-codegen/tests/fixtures/example-system/metadata.yml",
        "crates/bisslog-codegen/tests/fixtures/example-system/audit.yml",
        "crates/bisslog-codegen/tests/fixtures/example-system/importer.yml",
        "--out",
        out_arg,
    ];
    let output = bisslog(&repo_root(), &args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let golden = repo_root().join("crates/bisslog-codegen/tests/golden/docs/example-system/html");
    let files = files_under(out.path());
    // The fixed assets are checked against their sources by the
    // generator's own golden test, and kept once.
    let fixed = ["search.js", "style.css"];
    let generated: Vec<&String> = files
        .iter()
        .filter(|f| !fixed.contains(&f.as_str()))
        .collect();
    assert_eq!(generated, files_under(&golden).iter().collect::<Vec<_>>());
    for file in generated {
        assert_eq!(
            std::fs::read_to_string(out.path().join(file)).unwrap(),
            std::fs::read_to_string(golden.join(file)).unwrap(),
            "{file}"
        );
    }
    for file in fixed {
        assert!(files.iter().any(|f| f == file), "{file} is written");
    }
    assert_eq!(stdout(&output).matches("created").count(), files.len());
    let again = bisslog(&repo_root(), &args);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(stdout(&again).matches("unchanged").count(), files.len());
}

#[test]
fn docs_markdown_reads_directories_like_validate() {
    let out = tempfile::tempdir().unwrap();
    let output = bisslog(
        &repo_root(),
        &[
            "docs",
            "crates/bisslog-codegen/tests/fixtures/example-system",
            "--format",
            "markdown",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let readme = std::fs::read_to_string(out.path().join("README.md")).unwrap();
    assert!(
        readme.contains("](services/company-registry-data/README.md)"),
        "{readme}"
    );
    assert!(readme.contains("```mermaid\nflowchart LR\n"));
    assert!(
        out.path()
            .join("services/company-registry-data/create-schema.md")
            .is_file()
    );
}

#[test]
fn docs_of_invalid_metadata_prints_its_diagnostics_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    let output = bisslog(
        &conformance_dir(),
        &[
            "docs",
            "company-data-registry.yml",
            "webhook.yml",
            "--out",
            site.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(err.contains("error[E"), "{err}");
    assert!(err.contains("webhook.yml has 2 errors"), "{err}");
    assert!(!site.exists());

    let missing = bisslog(
        &conformance_dir(),
        &["docs", "nope.yml", "--out", site.to_str().unwrap()],
    );
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    assert!(!site.exists());
}

/// The golden documents `bisslog-codegen` keeps for the conformance files.
fn codegen_golden(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bisslog-codegen/tests/golden/api")
        .join(file);
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn openapi_and_asyncapi_print_the_library_documents() {
    let dir = conformance_dir();
    for (command, format) in [
        ("openapi", "json"),
        ("openapi", "yaml"),
        ("asyncapi", "json"),
        ("asyncapi", "yaml"),
    ] {
        let output = bisslog(
            &dir,
            &[command, "company-data-registry.yml", "--format", format],
        );
        assert_eq!(output.status.code(), Some(0), "{command} --format {format}");
        assert_eq!(
            stdout(&output),
            codegen_golden(&format!("company-data-registry.{command}.{format}"))
        );
    }
}

#[test]
fn api_documents_take_their_format_from_the_out_extension() {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("api.yaml");
    let output = bisslog(
        &conformance_dir(),
        &[
            "openapi",
            "user-management.yml",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        codegen_golden("user-management.openapi.yaml")
    );
}

#[test]
fn api_documents_of_invalid_metadata_are_refused_with_exit_one() {
    let output = bisslog(&conformance_dir(), &["asyncapi", "webhook.yml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(err.contains("E031"), "{err}");
    assert!(err.contains("nothing generated"), "{err}");
}

#[test]
fn lambda_generate_inside_the_service_crate_assumes_and_says_what() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"orders-service\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("metadata.yml"),
        "name: orders\nuse_cases:\n  place_order:\n    triggers: [{type: http, options: {method: post, path: /orders}}]\n",
    )
    .unwrap();
    let output = bisslog(
        dir.path(),
        &[
            "lambda",
            "generate",
            "--out",
            "deploy/lambda",
            "--bisslog-version",
            "0.1.0",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let said = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(
        said.contains("assumed --crate-name orders-service"),
        "{said}"
    );
    assert!(said.contains("assumed --crate-path ../../.."), "{said}");
    assert!(
        said.contains("assumed --setup orders_service::lambda_service"),
        "{said}"
    );
    let bootstrap = dir.path().join("deploy/lambda/bootstrap");
    let manifest = std::fs::read_to_string(bootstrap.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("orders-service = { path = \"../../..\" }"),
        "{manifest}"
    );
    let main = std::fs::read_to_string(bootstrap.join("src/main.rs")).unwrap();
    assert!(main.contains("orders_service::lambda_service()"), "{main}");
}

#[test]
fn lambda_generate_outside_any_crate_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("metadata.yml"),
        "name: orders\nuse_cases:\n  place_order:\n    triggers: [{type: http, options: {method: post, path: /orders}}]\n",
    )
    .unwrap();
    let output = bisslog(dir.path(), &["lambda", "generate", "--out", "lambda"]);
    let said = String::from_utf8(output.stderr.clone()).unwrap();
    // A temporary directory may sit under a crate on some machines; only
    // when none is found is this the answer.
    if output.status.code() != Some(0) {
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        assert!(
            said.contains("pass --crate-name, --crate-path and --setup"),
            "{said}"
        );
    }
}
