//! The four manifests, built as JSON values in a fixed key order and
//! written as YAML.

use bisslog_schema::ServiceMetadata;
use serde_json::{Map, Value, json};

use super::KubernetesOptions;
use super::criticality::{self, Profile};
use super::secrets::{self, SecretSetting};
use super::timing::StopBudget;

/// The user and group of distroless's `nonroot` image, which the
/// Dockerfile runs as.
const NON_ROOT: u32 = 65_532;

/// `0440`: the mounted secret files are readable by their group (`fsGroup`,
/// the non-root user's) and nobody else.
const SECRET_FILE_MODE: u32 = 0o440;

/// The files, in order, as (path, YAML body).
pub(super) fn render(
    service: &ServiceMetadata,
    name: &str,
    options: &KubernetesOptions,
) -> Vec<(&'static str, String)> {
    let level = criticality::of_service(service);
    let profile = criticality::profile(level);
    let budget = StopBudget::of(service, options.shutdown_delay_secs);
    let needed = secrets::needed(service);
    let labels = labels(service, name);
    let docs = [
        (
            "deployment.yaml",
            deployment(
                service,
                name,
                options,
                &labels,
                profile,
                level.name(),
                budget,
                &needed,
            ),
        ),
        ("service.yaml", service_manifest(name, &labels)),
        ("hpa.yaml", autoscaler(name, &labels, profile)),
        ("pdb.yaml", disruption_budget(name, &labels, profile)),
    ];
    docs.into_iter()
        .map(|(path, value)| (path, bisslog_schema::to_yaml(&value)))
        .collect()
}

fn labels(service: &ServiceMetadata, name: &str) -> Value {
    let mut labels = Map::new();
    labels.insert("app.kubernetes.io/name".to_owned(), json!(name));
    labels.insert("app.kubernetes.io/managed-by".to_owned(), json!("bisslog"));
    if let Some(team) = service.team.as_deref().and_then(label_value) {
        labels.insert("bisslog/team".to_owned(), json!(team));
    }
    Value::Object(labels)
}

/// `text` as a label value when it can be one (at most 63 characters of
/// letters, digits, `-`, `_`, `.`, starting and ending alphanumeric).
fn label_value(text: &str) -> Option<&str> {
    let ok = !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric());
    ok.then_some(text)
}

fn selector(name: &str) -> Value {
    json!({"matchLabels": {"app.kubernetes.io/name": name}})
}

fn metadata(name: &str, labels: &Value) -> Value {
    json!({"name": name, "labels": labels})
}

#[allow(clippy::too_many_arguments)]
fn deployment(
    service: &ServiceMetadata,
    name: &str,
    options: &KubernetesOptions,
    labels: &Value,
    profile: Profile,
    level: &str,
    budget: StopBudget,
    needed: &[SecretSetting],
) -> Value {
    let mut env = vec![
        // The runner listens on 127.0.0.1 by default: a pod is reached on
        // its own address.
        json!({"name": "HOST", "value": "0.0.0.0"}),
        json!({"name": "PORT", "value": options.port.to_string()}),
        json!({"name": "BISSLOG_LOG_FORMAT", "value": "json"}),
        json!({"name": "SHUTDOWN_DELAY", "value": format!("{}s", options.shutdown_delay_secs)}),
    ];
    for setting in needed {
        env.push(json!({
            "name": format!("{}_FILE", setting.var),
            "value": secrets::file_path(*setting),
        }));
    }
    let mut container = Map::new();
    container.insert("name".to_owned(), json!(name));
    container.insert("image".to_owned(), json!(options.image));
    container.insert("imagePullPolicy".to_owned(), json!("IfNotPresent"));
    container.insert(
        "ports".to_owned(),
        json!([{"name": "http", "containerPort": options.port, "protocol": "TCP"}]),
    );
    container.insert("env".to_owned(), Value::Array(env));
    // Up to a minute to start (migrations, connecting to the broker)
    // before liveness counts.
    container.insert("startupProbe".to_owned(), probe("/health/live", 2, 1, 30));
    container.insert("livenessProbe".to_owned(), probe("/health/live", 10, 2, 3));
    // `/health/ready` asks every adapter (a database round trip): two
    // failures in a row, not one slow answer, take the pod out. Stopping
    // does not wait for it: Kubernetes removes a terminating pod's
    // endpoints itself.
    container.insert("readinessProbe".to_owned(), probe("/health/ready", 5, 2, 2));
    container.insert(
        "resources".to_owned(),
        json!({
            "requests": {"cpu": profile.cpu_request, "memory": profile.memory_request},
            "limits": {"cpu": profile.cpu_limit, "memory": profile.memory_limit},
        }),
    );
    container.insert(
        "securityContext".to_owned(),
        json!({
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": {"drop": ["ALL"]},
        }),
    );
    let secret_name = format!("{name}-secrets");
    if !needed.is_empty() {
        container.insert(
            "volumeMounts".to_owned(),
            json!([{"name": "secrets", "mountPath": secrets::MOUNT_DIR, "readOnly": true}]),
        );
    }

    let mut pod = Map::new();
    pod.insert(
        "terminationGracePeriodSeconds".to_owned(),
        json!(budget.total()),
    );
    pod.insert("automountServiceAccountToken".to_owned(), json!(false));
    pod.insert(
        "securityContext".to_owned(),
        json!({
            "runAsNonRoot": true,
            "runAsUser": NON_ROOT,
            "runAsGroup": NON_ROOT,
            "fsGroup": NON_ROOT,
            "seccompProfile": {"type": "RuntimeDefault"},
        }),
    );
    if profile.min_replicas > 1 {
        pod.insert(
            "topologySpreadConstraints".to_owned(),
            json!([{
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": selector(name),
            }]),
        );
    }
    pod.insert("containers".to_owned(), json!([Value::Object(container)]));
    if !needed.is_empty() {
        let items: Vec<Value> = needed
            .iter()
            .map(|s| json!({"key": s.key, "path": s.key}))
            .collect();
        pod.insert(
            "volumes".to_owned(),
            json!([{
                "name": "secrets",
                "secret": {
                    "secretName": secret_name,
                    "defaultMode": SECRET_FILE_MODE,
                    "items": items,
                },
            }]),
        );
    }

    let mut annotations = Map::new();
    annotations.insert("bisslog/criticality".to_owned(), json!(level));
    annotations.insert(
        "bisslog/termination-grace".to_owned(),
        json!(describe(budget)),
    );
    if let Some(description) = &service.description {
        annotations.insert("bisslog/description".to_owned(), json!(description));
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {
            // No `replicas`: the HorizontalPodAutoscaler owns the count, and
            // applying the manifest again must not reset it.
            "revisionHistoryLimit": 5,
            "selector": selector(name),
            "strategy": {
                "type": "RollingUpdate",
                // A new pod is ready before an old one stops.
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": labels},
                "spec": Value::Object(pod),
            },
        },
    })
}

/// The sum behind `terminationGracePeriodSeconds`, for people reading the
/// manifest.
fn describe(budget: StopBudget) -> String {
    let mut parts = vec![
        format!("{}s SHUTDOWN_DELAY", budget.delay),
        format!("{}s HTTP drain", budget.http),
    ];
    if budget.consumers > 0 {
        parts.push(format!("{}s consumers drain", budget.consumers));
    }
    if budget.schedules > 0 {
        parts.push(format!("{}s schedules drain", budget.schedules));
    }
    parts.push(format!("{}s margin", budget.margin));
    format!("{}s = {}", budget.total(), parts.join(" + "))
}

fn probe(path: &str, period: u32, timeout: u32, failures: u32) -> Value {
    json!({
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    })
}

fn service_manifest(name: &str, labels: &Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name, labels),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    })
}

fn autoscaler(name: &str, labels: &Value, profile: Profile) -> Value {
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(name, labels),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": profile.min_replicas,
            "maxReplicas": profile.max_replicas,
            "metrics": [{
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "averageUtilization": profile.target_cpu_utilization,
                    },
                },
            }],
            "behavior": {
                // Scale in slowly: each pod that leaves drains for up to its
                // termination grace.
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                },
            },
        },
    })
}

fn disruption_budget(name: &str, labels: &Value, profile: Profile) -> Value {
    let mut spec = Map::new();
    if profile.min_available == 0 {
        spec.insert("maxUnavailable".to_owned(), json!(1));
    } else {
        spec.insert("minAvailable".to_owned(), json!(profile.min_available));
    }
    spec.insert("selector".to_owned(), selector(name));
    json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(name, labels),
        "spec": Value::Object(spec),
    })
}
