//! `bisslog deploy kubernetes|docker` run as a user runs them: the golden
//! files of `bisslog-codegen` written for the example registry, reruns
//! that change nothing, what is assumed inside a service crate, and exit
//! codes.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use support::{bisslog, repo_root, text};

use std::path::PathBuf;

const REGISTRY: &str = "crates/bisslog-codegen/tests/fixtures/example-system/metadata.yml";

fn golden(kind: &str) -> PathBuf {
    repo_root()
        .join("crates/bisslog-codegen/tests/golden/deploy")
        .join(kind)
        .join("company-data-registry")
}

#[test]
fn deploy_kubernetes_writes_the_golden_manifests_then_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = [
        "deploy",
        "kubernetes",
        REGISTRY,
        "--out",
        out,
        "--image",
        "registry.example.com/company-data-registry:0.1.0",
    ];
    let output = bisslog(&repo_root(), &args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    for file in ["deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"] {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(file)).unwrap(),
            std::fs::read_to_string(golden("kubernetes").join(file)).unwrap(),
            "{file}"
        );
    }
    let again = bisslog(&repo_root(), &args);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        text(&again.stdout).matches("unchanged").count(),
        4,
        "{again:?}"
    );
}

#[test]
fn deploy_docker_writes_the_golden_dockerfile_and_refuses_an_edit_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = [
        "deploy",
        "docker",
        REGISTRY,
        "--out",
        out,
        "--package",
        "company-data-registry",
    ];
    let output = bisslog(&repo_root(), &args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    for file in ["Dockerfile", "Dockerfile.dockerignore"] {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(file)).unwrap(),
            std::fs::read_to_string(golden("docker").join(file)).unwrap(),
            "{file}"
        );
    }
    let dockerfile = dir.path().join("Dockerfile");
    let edited = std::fs::read_to_string(&dockerfile).unwrap() + "LABEL team=mine\n";
    std::fs::write(&dockerfile, &edited).unwrap();
    let refused = bisslog(&repo_root(), &args);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(text(&refused.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&dockerfile).unwrap(), edited);
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(bisslog(&repo_root(), &forced).status.code(), Some(0));
    assert!(
        !std::fs::read_to_string(&dockerfile)
            .unwrap()
            .contains("team=mine")
    );
}

#[test]
fn inside_the_service_crate_the_metadata_package_and_image_are_found_and_said() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"orders-service\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("metadata.yml"),
        "name: Orders\nuse_cases:\n  place_order:\n    triggers: [{type: http, options: {method: post, path: /orders}}]\n",
    )
    .unwrap();
    let docker = bisslog(dir.path(), &["deploy", "docker", "--out", "deploy/docker"]);
    assert_eq!(docker.status.code(), Some(0), "{docker:?}");
    assert!(text(&docker.stderr).contains("assumed --package orders-service"));
    let dockerfile = std::fs::read_to_string(dir.path().join("deploy/docker/Dockerfile")).unwrap();
    assert!(dockerfile.contains("--package orders-service --bin orders-service"));

    let kubernetes = bisslog(
        dir.path(),
        &[
            "deploy",
            "kubernetes",
            "--out",
            "deploy/k8s",
            "--port",
            "9000",
        ],
    );
    assert_eq!(kubernetes.status.code(), Some(0), "{kubernetes:?}");
    assert!(text(&kubernetes.stderr).contains("assumed --image orders:latest"));
    let deployment =
        std::fs::read_to_string(dir.path().join("deploy/k8s/deployment.yaml")).unwrap();
    assert!(deployment.contains("containerPort: 9000\n"));
    assert!(deployment.contains("image: orders:latest\n"));
}

#[test]
fn bad_input_exits_one_and_a_missing_crate_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("metadata.yml"),
        "name: orders\nuse_cases: {}\n",
    )
    .unwrap();
    let port = bisslog(
        dir.path(),
        &["deploy", "kubernetes", "--out", "k8s", "--port", "0"],
    );
    assert_eq!(port.status.code(), Some(1), "{port:?}");
    assert!(text(&port.stderr).contains("--port: a container port is from 1 to 65535"));
    assert!(!dir.path().join("k8s").exists());

    // No Cargo.toml in the temporary directory or above it.
    let docker = bisslog(dir.path(), &["deploy", "docker", "--out", "docker"]);
    assert_eq!(docker.status.code(), Some(2), "{docker:?}");
    assert!(text(&docker.stderr).contains("pass --package"));

    std::fs::write(dir.path().join("metadata.yml"), "use_cases: {}\n").unwrap();
    let invalid = bisslog(dir.path(), &["deploy", "kubernetes", "--out", "k8s"]);
    assert_eq!(invalid.status.code(), Some(1), "{invalid:?}");
    assert!(text(&invalid.stderr).contains("nothing generated"));
}
