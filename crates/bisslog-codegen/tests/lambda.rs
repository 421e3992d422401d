//! The Lambda generator as a user meets it: golden layouts for real
//! metadata files, byte-identical reruns, the rule that protects edited
//! files, located errors, and the generated template checked by cfn-lint.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{assert_golden_files, checker, checker_or, load, manifest_dir, service_from};

use std::path::PathBuf;

use bisslog_codegen::lambda::{
    self, Architecture, BisslogDependency, HttpApi, LambdaOptions, Problem,
};
use bisslog_codegen::{GeneratedFile, WriteError, WriteStatus, write_files};

/// The options the example service's layout is generated with (its
/// `examples/company-data-registry/lambda` is generated with the same, and
/// checked by the example's own tests).
fn registry_options() -> LambdaOptions {
    let mut options = LambdaOptions::new(
        "company-data-registry",
        "../..",
        "company_data_registry::lambda_service",
    );
    options.bisslog = BisslogDependency::Path("../../../../crates/bisslog".to_owned());
    options
}

/// Every golden case: name, metadata file, options.
fn cases() -> Vec<(&'static str, PathBuf, LambdaOptions)> {
    let root = manifest_dir().join("../..");
    let mut chat = LambdaOptions::new("chat-rooms", "../..", "chat_rooms::lambda_service");
    chat.bisslog = BisslogDependency::Version("0.1".to_owned());
    chat.http_api = HttpApi::Rest;
    chat.architecture = Architecture::X86_64;
    chat.sns_queues = vec!["notifications".to_owned()];
    chat.eventbridge_queues = vec!["audit-events".to_owned()];
    chat.standalone_workspace = true;
    vec![
        (
            "company-data-registry",
            registry_metadata(),
            registry_options(),
        ),
        (
            "user-management",
            root.join("crates/bisslog-schema/tests/conformance/user-management.yml"),
            LambdaOptions::new(
                "user-management",
                "../..",
                "user_management::lambda_service",
            ),
        ),
        (
            "chat-rooms",
            manifest_dir().join("tests/fixtures/chat-rooms.yml"),
            chat,
        ),
    ]
}

fn golden_dir(name: &str) -> PathBuf {
    manifest_dir().join("tests/golden").join(name)
}

/// A copy of the example registry's metadata, so that the example can
/// change without changing these golden files.
fn registry_metadata() -> PathBuf {
    manifest_dir().join("tests/fixtures/example-system/metadata.yml")
}

#[test]
fn generated_layouts_match_the_golden_files() {
    for (name, metadata, options) in cases() {
        let files = lambda::generate(&load(&metadata), &options).unwrap();
        let dir = golden_dir(name);
        assert_golden_files(&dir, &files);
    }
}

#[test]
fn generating_twice_gives_identical_bytes() {
    for (name, metadata, options) in cases() {
        let service = load(&metadata);
        let first = lambda::generate(&service, &options).unwrap();
        let second = lambda::generate(&load(&metadata), &options).unwrap();
        assert_eq!(first, second, "{name}");
    }
}

#[test]
fn every_generated_file_carries_an_intact_checksum_header() {
    for (name, metadata, options) in cases() {
        for file in lambda::generate(&load(&metadata), &options).unwrap() {
            assert_eq!(
                bisslog_codegen::verify(&file.contents),
                bisslog_codegen::Stamp::Intact,
                "{name}: {}",
                file.path
            );
            assert!(
                file.contents.contains("bisslog lambda generate"),
                "{name}: {}",
                file.path
            );
        }
    }
}

fn registry_files() -> Vec<GeneratedFile> {
    lambda::generate(&load(&registry_metadata()), &registry_options()).unwrap()
}

fn statuses(written: &[(PathBuf, WriteStatus)]) -> Vec<WriteStatus> {
    written.iter().map(|(_, status)| *status).collect()
}

#[test]
fn rewriting_unchanged_files_leaves_them_alone() {
    let dir = tempfile::tempdir().unwrap();
    let files = registry_files();
    let first = write_files(dir.path(), &files, false).unwrap();
    assert_eq!(statuses(&first), [WriteStatus::Created; 4]);
    let second = write_files(dir.path(), &files, false).unwrap();
    assert_eq!(statuses(&second), [WriteStatus::Unchanged; 4]);
}

#[test]
fn a_file_unchanged_since_an_older_generation_is_updated_silently() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = registry_options();
    old.setup = "company_data_registry::old_setup".to_owned();
    let old_files = lambda::generate(&load(&registry_metadata()), &old).unwrap();
    write_files(dir.path(), &old_files, false).unwrap();
    let written = write_files(dir.path(), &registry_files(), false).unwrap();
    assert_eq!(
        statuses(&written),
        [
            WriteStatus::Unchanged,
            WriteStatus::Unchanged,
            WriteStatus::Updated,
            WriteStatus::Updated
        ]
    );
    let main = std::fs::read_to_string(dir.path().join("bootstrap/src/main.rs")).unwrap();
    assert!(main.contains("company_data_registry::lambda_service().await?"));
}

#[test]
fn an_edited_file_is_refused_by_name_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let files = registry_files();
    write_files(dir.path(), &files, false).unwrap();
    let template = dir.path().join("template.yaml");
    let edited = std::fs::read_to_string(&template)
        .unwrap()
        .replace("Default: 256", "Default: 512");
    std::fs::write(&template, &edited).unwrap();
    // A change elsewhere that would otherwise be written.
    std::fs::remove_file(dir.path().join("README.md")).unwrap();

    let error = write_files(dir.path(), &files, false).unwrap_err();
    let WriteError::Edited { paths } = &error else {
        panic!("{error}")
    };
    assert_eq!(paths, std::slice::from_ref(&template));
    assert!(error.to_string().contains("template.yaml"), "{error}");
    assert!(error.to_string().contains("--force"), "{error}");
    assert_eq!(std::fs::read_to_string(&template).unwrap(), edited);
    assert!(!dir.path().join("README.md").exists());

    let forced = write_files(dir.path(), &files, true).unwrap();
    assert_eq!(
        statuses(&forced),
        [
            WriteStatus::Overwritten,
            WriteStatus::Unchanged,
            WriteStatus::Unchanged,
            WriteStatus::Created
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&template).unwrap(),
        files[0].contents
    );
}

#[test]
fn a_file_bisslog_did_not_generate_is_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "# my notes\n").unwrap();
    let error = write_files(dir.path(), &registry_files(), false).unwrap_err();
    assert!(error.to_string().contains("README.md"), "{error}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("README.md")).unwrap(),
        "# my notes\n"
    );
}

fn template_of(yaml: &str) -> String {
    let options = LambdaOptions::new("svc", "..", "svc::lambda_service");
    lambda::generate(&service_from(yaml), &options)
        .unwrap()
        .remove(0)
        .contents
}

/// A service whose one use case, `consume`, has a consumer trigger with
/// these `options` (a flow mapping), its last line.
fn consumer_of_orders(options: &str) -> String {
    format!(
        "
name: svc
use_cases:
  consume:
    name: consume
    triggers:
      - type: consumer
        options: {options}
"
    )
}

#[test]
fn unix_cron_is_translated_to_eventbridge_syntax() {
    let template = template_of(
        "
name: svc
use_cases:
  tick:
    name: tick
    triggers:
      - type: schedule
        options: {cronjob: '*/5 * * * *'}
      - type: schedule
        options: {cronjob: '0 0 ? * 1 *', timezone: America/Bogota}
      - type: schedule
        options: {cronjob: '@daily'}
",
    );
    assert!(template.contains("ScheduleExpression: cron(*/5 * * * ? *)\n"));
    assert!(template.contains("ScheduleExpression: cron(0 0 ? * 1 *)\n"));
    assert!(template.contains("ScheduleExpressionTimezone: America/Bogota\n"));
    assert!(template.contains("ScheduleExpression: cron(0 0 * * ? *)\n"));
    assert!(
        template
            .contains(r#"Input: "{\"bisslog_schedule\":{\"use_case\":\"tick\",\"trigger\":2}}""#)
    );
}

#[test]
fn consumer_defaults_give_a_dlq_named_after_the_queue_and_four_receives() {
    let template = template_of(&consumer_of_orders("{queue: orders}"));
    assert!(template.contains("  OrdersQueue:\n    Type: AWS::SQS::Queue\n"));
    assert!(template.contains("  OrdersDlqQueue:\n    Type: AWS::SQS::Queue\n"));
    assert!(template.contains("The URL of the dead-letter queue `orders-dlq`"));
    assert!(template.contains("maxReceiveCount: 4\n"));
    assert!(!template.contains("BatchSize"));
}

#[test]
fn the_function_outlives_its_longest_trigger_timeout() {
    let yaml = |timeout: u64| {
        let consumer = consumer_of_orders(&format!("{{queue: orders, timeout: {timeout}}}"));
        consumer
            + "      - type: http\n        options: {method: get, path: /orders, timeout: 5000}\n"
    };
    // Timeout and the queue's visibility timeout: the parameters' defaults.
    let defaults = |template: &str| {
        let default_of = |parameter: &str| {
            let start = template.find(&format!("  {parameter}:\n")).unwrap();
            let rest = &template[start..];
            let line = rest
                .lines()
                .find(|l| l.trim_start().starts_with("Default:"));
            line.unwrap().trim().to_owned()
        };
        (default_of("Timeout"), default_of("QueueVisibilityTimeout"))
    };
    // Shorter timeouts keep the defaults.
    let short = template_of(&yaml(10_000));
    assert_eq!(
        defaults(&short),
        ("Default: 30".into(), "Default: 180".into())
    );
    // 120.5 s: the function gets 122 s, the queue six times that.
    let long = template_of(&yaml(120_500));
    assert_eq!(
        defaults(&long),
        ("Default: 122".into(), "Default: 732".into())
    );
    // The longest a call may take and still fail alone: 899 s.
    let longest = template_of(&yaml(899_000));
    assert_eq!(defaults(&longest).0, "Default: 900");
    let readme = {
        let options = LambdaOptions::new("svc", "..", "svc::lambda_service");
        let files = lambda::generate(&service_from(&yaml(120_500)), &options).unwrap();
        files
            .into_iter()
            .find(|f| f.path == "README.md")
            .unwrap()
            .contents
    };
    assert!(
        readme.contains("`Timeout` (seconds, default 122)"),
        "{readme}"
    );
    assert!(
        readme.contains("`QueueVisibilityTimeout` (seconds, default\n732;"),
        "{readme}"
    );

    // One above: no invocation can outlast it.
    let options = LambdaOptions::new("svc", "..", "svc::lambda_service");
    let error = lambda::generate(&service_from(&yaml(899_001)), &options).unwrap_err();
    assert!(
        matches!(
            error.problems.as_slice(),
            [Problem::OptionOutOfRange { use_case, index: 0, option: "timeout", value: 899_001, .. }]
                if use_case == "consume"
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("use case `consume`, triggers[0]: `timeout: 899001` is above 899000 ms"),
        "{error}"
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_location() {
    let service = service_from(
        "
name: svc
use_cases:
  both_days:
    name: both days
    triggers:
      - type: http
        options: {method: trace, path: /trace}
      - type: schedule
        options: {cronjob: '0 0 13 * 5'}
  consume:
    name: consume
    triggers:
      - type: consumer
        options: {queue: big, batch_size: 20000}
      - type: consumer
        options: {queue: shared, max_retries: 2}
  consume_again:
    name: consume again
    triggers:
      - type: consumer
        options: {queue: shared, max_retries: 5}
",
    );
    let mut options = LambdaOptions::new("svc", "..", "not a path");
    options.sns_queues = vec!["nowhere".to_owned()];
    let error = lambda::generate(&service, &options).unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("6 problems:"), "{text}");
    assert!(
        matches!(
            &error.problems[0],
            Problem::InvalidOption {
                option: "setup",
                ..
            }
        ),
        "{text}"
    );
    for expected in [
        "use case `both_days`, triggers[0]: API Gateway cannot route HTTP method TRACE",
        "use case `both_days`, triggers[1]: cron `0 0 13 * 5` cannot run on EventBridge Scheduler",
        "use case `consume`, triggers[0]: `batch_size: 20000` is above 10000",
        "queue `shared`: use case `consume` and use case `consume_again` consume it with a \
         different `max_retries`",
        "--sns nowhere: no consumer trigger of the service reads queue `nowhere`",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn the_bootstrap_main_has_the_contract_shape() {
    let main = &registry_files()[2].contents;
    let body = main.split_once("\n#[tokio::main]").unwrap().1;
    assert_eq!(
        body,
        r#"
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    bisslog::logging::init();
    // Runs once per cold start, outside the handler: adapters, configuration.
    let service = company_data_registry::lambda_service().await?;
    bisslog::lambda::run(bisslog::lambda::LambdaHandler::new(service)?).await
}
"#
    );
}

#[test]
fn the_golden_templates_pass_cfn_lint() {
    let Some(cfn_lint) = checker("BISSLOG_TEST_CFN_LINT") else {
        return;
    };
    for (name, _, _) in cases() {
        let template = golden_dir(name).join("template.yaml");
        let output = std::process::Command::new(&cfn_lint)
            .arg(&template)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", cfn_lint.display()));
        assert!(
            output.status.success() && output.stdout.is_empty(),
            "cfn-lint on {}:\n{}{}",
            template.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_golden_bootstrap_sources_are_rustfmt_clean() {
    let Some(rustfmt) = checker_or("BISSLOG_TEST_RUSTFMT", Some("rustfmt")) else {
        return;
    };
    for (name, _, _) in cases() {
        let main = golden_dir(name).join("bootstrap/src/main.rs");
        let output = std::process::Command::new(&rustfmt)
            .args(["--check", "--edition", "2024"])
            .arg(&main)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", rustfmt.display()));
        assert!(
            output.status.success(),
            "rustfmt --check {}:\n{}",
            main.display(),
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
