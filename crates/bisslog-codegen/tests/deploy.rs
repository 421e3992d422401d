//! `bisslog deploy` as a user meets it: golden Kubernetes manifests and
//! Docker files for the example registry and `hello`, byte-identical
//! reruns, intact checksum headers, and the goldens checked by independent
//! validators (kubernetes-validate against the Kubernetes schemas,
//! hadolint on the Dockerfile).

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{assert_golden_files, checker, load, manifest_dir, service_from};

use std::path::{Path, PathBuf};
use std::process::Command;

use bisslog_codegen::GeneratedFile;
use bisslog_codegen::deploy::{self, DeployError, DockerOptions, KubernetesOptions};

/// The cases: name, metadata file (copies of the examples', so that the
/// examples can change without changing these goldens), Cargo package.
fn cases() -> Vec<(&'static str, PathBuf, &'static str)> {
    let fixtures = manifest_dir().join("tests/fixtures");
    vec![
        (
            "company-data-registry",
            fixtures.join("example-system/metadata.yml"),
            "company-data-registry",
        ),
        ("hello", fixtures.join("hello.yml"), "hello"),
    ]
}

#[derive(Clone, Copy)]
enum Kind {
    Kubernetes,
    Docker,
}

impl Kind {
    const ALL: [Kind; 2] = [Kind::Kubernetes, Kind::Docker];

    fn dir(self) -> &'static str {
        match self {
            Kind::Kubernetes => "kubernetes",
            Kind::Docker => "docker",
        }
    }

    fn generate(self, metadata: &Path, package: &str) -> Vec<GeneratedFile> {
        let service = load(metadata);
        match self {
            Kind::Kubernetes => deploy::kubernetes(
                &service,
                &KubernetesOptions::new(format!("registry.example.com/{package}:0.1.0")),
            ),
            Kind::Docker => deploy::docker(&service, &DockerOptions::new(package)),
        }
        .unwrap()
    }
}

fn golden_dir(kind: Kind, name: &str) -> PathBuf {
    manifest_dir()
        .join("tests/golden/deploy")
        .join(kind.dir())
        .join(name)
}

#[test]
fn generated_files_match_the_golden_files() {
    for kind in Kind::ALL {
        for (name, metadata, package) in cases() {
            let files = kind.generate(&metadata, package);
            let dir = golden_dir(kind, name);
            assert_golden_files(&dir, &files);
        }
    }
}

#[test]
fn generating_twice_gives_identical_bytes_with_intact_headers() {
    for kind in Kind::ALL {
        for (name, metadata, package) in cases() {
            let first = kind.generate(&metadata, package);
            assert_eq!(first, kind.generate(&metadata, package), "{name}");
            for file in &first {
                assert_eq!(
                    bisslog_codegen::verify(&file.contents),
                    bisslog_codegen::Stamp::Intact,
                    "{name}: {}",
                    file.path
                );
                assert!(file.contents.contains("bisslog deploy"), "{}", file.path);
            }
        }
    }
}

fn manifests(yaml: &str) -> Vec<GeneratedFile> {
    deploy::kubernetes(&service_from(yaml), &KubernetesOptions::new("svc:1")).unwrap()
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    &files.iter().find(|f| f.path == path).unwrap().contents
}

#[test]
fn the_grace_period_covers_every_drain_the_service_has() {
    let http_only = manifests(
        "
name: svc
use_cases:
  a:
    triggers: [{type: http, options: {method: get, path: /a}}]
",
    );
    let deployment = file(&http_only, "deployment.yaml");
    assert!(deployment.contains("terminationGracePeriodSeconds: 40\n"));
    assert!(deployment.contains("40s = 5s SHUTDOWN_DELAY + 30s HTTP drain + 5s margin"));

    let everything = manifests(
        "
name: svc
use_cases:
  a:
    triggers:
      - {type: consumer, options: {queue: q}}
      - {type: schedule, options: {cronjob: '* * * * *'}}
",
    );
    assert!(file(&everything, "deployment.yaml").contains("terminationGracePeriodSeconds: 95\n"));

    let mut longer = KubernetesOptions::new("svc:1");
    longer.shutdown_delay_secs = 20;
    let files = deploy::kubernetes(&service_from("name: svc\nuse_cases: {}\n"), &longer).unwrap();
    let deployment = file(&files, "deployment.yaml");
    assert!(deployment.contains("terminationGracePeriodSeconds: 55\n"));
    assert!(deployment.contains("value: \"20s\"\n"));
}

#[test]
fn secrets_are_mounted_files_only_when_the_metadata_implies_them() {
    let none = manifests("name: svc\nuse_cases: {}\n");
    let deployment = file(&none, "deployment.yaml");
    assert!(!deployment.contains("_FILE"));
    assert!(!deployment.contains("volumes:"));

    let both = manifests(
        "
name: svc
use_cases:
  a:
    external_interactions:
      - {keyname: repo, type_interaction: database}
      - {keyname: events, type_interaction: publisher, operation: things.done}
",
    );
    let deployment = file(&both, "deployment.yaml");
    assert!(deployment.contains("value: /run/secrets/bisslog/database-url\n"));
    assert!(deployment.contains("name: BROKER_URL_FILE\n"));
    assert!(deployment.contains("secretName: svc-secrets\n"));
    // No connection URL is ever a plain variable.
    assert!(!deployment.contains("name: DATABASE_URL\n"));
    assert!(!deployment.contains("name: BROKER_URL\n"));

    // Schedules claim their ticks in the database; consumers need a broker.
    let triggered = manifests(
        "
name: svc
use_cases:
  a:
    triggers:
      - {type: consumer, options: {queue: q}}
      - {type: schedule, options: {cronjob: '* * * * *'}}
",
    );
    let deployment = file(&triggered, "deployment.yaml");
    assert!(deployment.contains("name: DATABASE_URL_FILE\n"));
    assert!(deployment.contains("name: BROKER_URL_FILE\n"));
}

#[test]
fn the_most_critical_use_case_sets_floors_and_budget() {
    let files = manifests(
        "
name: svc
use_cases:
  a: {criticality: low}
  b: {criticality: critical}
",
    );
    assert!(file(&files, "hpa.yaml").contains("minReplicas: 4\n"));
    assert!(file(&files, "hpa.yaml").contains("maxReplicas: 20\n"));
    assert!(file(&files, "pdb.yaml").contains("minAvailable: 3\n"));
    assert!(file(&files, "deployment.yaml").contains("bisslog/criticality: critical\n"));

    let lowest = manifests("name: svc\nuse_cases:\n  a: {criticality: none}\n");
    assert!(file(&lowest, "pdb.yaml").contains("maxUnavailable: 1\n"));
    assert!(!file(&lowest, "pdb.yaml").contains("minAvailable"));
}

#[test]
fn bad_options_and_names_are_refused_by_name() {
    let service = service_from("name: svc\nuse_cases: {}\n");
    let mut options = KubernetesOptions::new("has space:1");
    let error = deploy::kubernetes(&service, &options).unwrap_err();
    assert!(
        matches!(
            error,
            DeployError::InvalidOption {
                option: "image",
                ..
            }
        ),
        "{error}"
    );
    options.image = "svc:1".to_owned();
    options.port = 0;
    assert!(
        deploy::kubernetes(&service, &options)
            .unwrap_err()
            .to_string()
            .starts_with("--port:")
    );
    let mut docker = DockerOptions::new("svc");
    docker.binary = "a b".to_owned();
    assert!(matches!(
        deploy::docker(&service, &docker).unwrap_err(),
        DeployError::InvalidOption {
            option: "binary",
            ..
        }
    ));
    let unnamed = service_from("name: '---'\nuse_cases: {}\n");
    assert!(matches!(
        deploy::kubernetes(&unnamed, &KubernetesOptions::new("x:1")).unwrap_err(),
        DeployError::InvalidName { .. }
    ));
}

/// Runs `program` on `file`; whether it passed, and what it said.
fn check(program: &Path, args: &[&str], file: &Path) -> std::process::Output {
    Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()))
}

fn run_checker(program: &Path, args: &[&str], file: &Path) {
    let output = check(program, args, file);
    assert!(
        output.status.success(),
        "{} on {}:\n{}{}",
        program.display(),
        file.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_golden_manifests_pass_kubernetes_validate() {
    let Some(validate) = checker("BISSLOG_TEST_KUBERNETES_VALIDATE") else {
        return;
    };
    for (name, _, _) in cases() {
        for manifest in ["deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"] {
            let path = golden_dir(Kind::Kubernetes, name).join(manifest);
            // --strict: an unknown or misplaced field is an error too.
            run_checker(&validate, &["--strict", "--quiet"], &path);
        }
    }
    // The validator does reject: a misspelt field fails it.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("hpa.yaml");
    let hpa = std::fs::read_to_string(golden_dir(Kind::Kubernetes, "hello").join("hpa.yaml"))
        .unwrap()
        .replace("minReplicas:", "minReplicaz:");
    std::fs::write(&broken, hpa).unwrap();
    assert!(
        !check(&validate, &["--strict", "--quiet"], &broken)
            .status
            .success()
    );
}

#[test]
fn the_golden_dockerfiles_pass_hadolint() {
    let Some(hadolint) = checker("BISSLOG_TEST_HADOLINT") else {
        return;
    };
    for (name, _, _) in cases() {
        let path = golden_dir(Kind::Docker, name).join("Dockerfile");
        // Every finding fails, style and info included.
        run_checker(&hadolint, &["--failure-threshold", "style"], &path);
    }
    // The linter does reject: without its justified ignore, the unpinned
    // apt package is reported.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("Dockerfile");
    let dockerfile = std::fs::read_to_string(golden_dir(Kind::Docker, "hello").join("Dockerfile"))
        .unwrap()
        .replace("# hadolint ignore=DL3008\n", "");
    std::fs::write(&broken, dockerfile).unwrap();
    let output = check(&hadolint, &["--failure-threshold", "style"], &broken);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("DL3008"));
}

#[test]
fn the_stop_budget_uses_the_runners_own_defaults() {
    use bisslog_codegen::deploy::timing;
    assert_eq!(
        bisslog_http::HttpConfig::default().shutdown_grace,
        std::time::Duration::from_secs(timing::HTTP_GRACE_SECS.into())
    );
    assert_eq!(
        bisslog_runtime::messaging::ConsumerConfig::default().shutdown_grace,
        std::time::Duration::from_secs(timing::CONSUMER_GRACE_SECS.into())
    );
}

#[test]
fn the_documented_criticality_table_is_the_one_in_code() {
    use bisslog_codegen::deploy::criticality::profile;
    use bisslog_schema::Criticality;
    let docs = std::fs::read_to_string(manifest_dir().join("../../docs/deploy.md")).unwrap();
    // Levels with the same profile share a row.
    let mut rows: Vec<(Vec<&str>, _)> = Vec::new();
    for level in Criticality::ALL {
        let p = profile(level);
        match rows.last_mut() {
            Some((names, last)) if *last == p => names.push(level.name()),
            _ => rows.push((vec![level.name()], p)),
        }
    }
    for (names, p) in rows {
        let budget = if p.min_available == 0 {
            "`maxUnavailable: 1`".to_owned()
        } else {
            format!("`minAvailable: {}`", p.min_available)
        };
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let row = format!(
            "| {} | {} | {} | {budget} | {} / {} | {} / {} | {} % |",
            names.join(", "),
            p.min_replicas,
            p.max_replicas,
            p.cpu_request,
            p.cpu_limit,
            p.memory_request,
            p.memory_limit,
            p.target_cpu_utilization
        );
        assert!(docs.contains(&row), "docs/deploy.md lacks the row\n{row}");
    }
}
