//! The Grafana dashboard of a service: a row per use case, most critical
//! first, with its calls by outcome, error ratio and latency, and the
//! consumer and schedule panels its triggers call for; an outbox row when
//! the service publishes.

use bisslog_schema::ServiceMetadata;
use serde_json::{Value, json};

use super::objectives::{self, decimal};
use super::plan::{self, UseCase, promql_string};

/// The Grafana dashboard schema version written: Grafana 12's. Older
/// Grafana versions refuse a newer schema; newer ones migrate it.
pub const SCHEMA_VERSION: u32 = 41;

/// Grafana's longest dashboard uid.
const MAX_UID: usize = 40;

/// Panels per line, and their size in grid units (a line is 24 wide).
const PER_LINE: u32 = 3;
const PANEL_WIDTH: u32 = 8;
const PANEL_HEIGHT: u32 = 8;

/// Lays panels out and numbers them, in order: ids from 1, rows across
/// the full width, panels three to a line under their row.
struct Layout {
    panels: Vec<Value>,
    next_id: u32,
    y: u32,
    in_row: u32,
}

impl Layout {
    fn new() -> Self {
        Self {
            panels: Vec::new(),
            next_id: 1,
            y: 0,
            in_row: 0,
        }
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn row(&mut self, title: &str) {
        if self.in_row > 0 {
            self.y += PANEL_HEIGHT * self.in_row.div_ceil(PER_LINE);
        }
        let id = self.id();
        self.panels.push(json!({
            "type": "row",
            "id": id,
            "title": title,
            "collapsed": false,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
            "panels": [],
        }));
        self.y += 1;
        self.in_row = 0;
    }

    fn panel(&mut self, panel: Panel) {
        let id = self.id();
        let x = (self.in_row % PER_LINE) * PANEL_WIDTH;
        let y = self.y + (self.in_row / PER_LINE) * PANEL_HEIGHT;
        self.in_row += 1;
        let targets: Vec<Value> = panel
            .queries
            .iter()
            .zip('A'..='Z')
            .map(|((expr, legend), ref_id)| {
                json!({
                    "refId": ref_id.to_string(),
                    "datasource": datasource(),
                    "expr": expr,
                    "legendFormat": legend,
                    "range": true,
                })
            })
            .collect();
        let mut defaults = json!({"unit": panel.unit});
        if let Some(threshold) = panel.threshold {
            defaults["thresholds"] = json!({
                "mode": "absolute",
                "steps": [
                    {"color": "green", "value": null},
                    {"color": "red", "value": threshold},
                ],
            });
            defaults["custom"] = json!({"thresholdsStyle": {"mode": "line"}});
        }
        self.panels.push(json!({
            "type": "timeseries",
            "id": id,
            "title": panel.title,
            "description": panel.description,
            "datasource": datasource(),
            "gridPos": {"h": PANEL_HEIGHT, "w": PANEL_WIDTH, "x": x, "y": y},
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
                "tooltip": {"mode": "multi", "sort": "none"},
            },
            "targets": targets,
        }));
    }
}

/// One time-series panel before layout.
struct Panel {
    title: String,
    description: String,
    unit: &'static str,
    /// PromQL and legend format per series.
    queries: Vec<(String, &'static str)>,
    /// A red line at this value (the objective).
    threshold: Option<f64>,
}

fn datasource() -> Value {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

/// The dashboard of `service`, whose file-name form is `name`, without
/// its `description` (the generated-file stamp goes there).
pub(crate) fn render(service: &ServiceMetadata, name: &str) -> Value {
    let use_cases = plan::use_cases(service);
    let mut layout = Layout::new();
    for use_case in plan::by_criticality(&use_cases) {
        use_case_panels(&mut layout, &use_case);
    }
    let publisher_level = use_cases
        .iter()
        .filter(|u| u.publishes)
        .map(|u| u.criticality)
        .max_by_key(|c| c.level());
    if let Some(level) = publisher_level {
        outbox_panels(
            &mut layout,
            objectives::objective(level).backlog_age_seconds,
        );
    }
    let mut uid = format!("bisslog-{name}");
    uid.truncate(MAX_UID);
    let service_query = "label_values(bisslog_use_case_calls_total, service)";
    json!({
        "annotations": {"list": []},
        "editable": true,
        "graphTooltip": 1,
        "links": [],
        "panels": layout.panels,
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["bisslog"],
        "templating": {"list": [
            {
                "name": "datasource",
                "label": "Data source",
                "type": "datasource",
                "query": "prometheus",
                "current": {},
                "hide": 0,
                "includeAll": false,
                "multi": false,
                "options": [],
                "refresh": 1,
                "regex": "",
            },
            {
                "name": "service",
                "label": "Service",
                "type": "query",
                "datasource": datasource(),
                "definition": service_query,
                "query": {"query": service_query, "refId": "service"},
                "current": {"selected": true, "text": service.name, "value": service.name},
                "hide": 0,
                "includeAll": false,
                "multi": false,
                "options": [],
                "refresh": 2,
                "regex": "",
                "sort": 1,
            },
        ]},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": format!("bisslog: {}", service.name),
        "uid": uid,
        "version": 1,
    })
}

fn use_case_panels(layout: &mut Layout, use_case: &UseCase<'_>) {
    let objective = objectives::objective(use_case.criticality);
    let key = use_case.keyname;
    let selector = format!("service=\"$service\", use_case={}", promql_string(key));
    layout.row(&format!("{key} ({})", use_case.criticality.name()));
    layout.panel(Panel {
        title: format!("{key}: calls by outcome"),
        description: "Calls per second, successes and failures by error kind.".to_owned(),
        unit: "reqps",
        queries: vec![(
            format!(
                "sum by (outcome, error_kind) (rate(bisslog_use_case_calls_total{{{selector}}}[$__rate_interval]))"
            ),
            "{{outcome}} {{error_kind}}",
        )],
        threshold: None,
    });
    let budget = objective.error_budget_ppm();
    layout.panel(Panel {
        title: format!("{key}: error ratio"),
        description: format!(
            "Failures of the service's own (not the caller's) over all calls; the line is \
             the error budget of {} ({}% availability).",
            decimal(budget, 1_000_000),
            decimal(objective.availability_ppm, 10_000)
        ),
        unit: "percentunit",
        queries: vec![(
            format!(
                "sum(rate(bisslog_use_case_calls_total{{{selector}, outcome=\"failure\", error_kind!~\"{}\"}}[$__rate_interval]))\n/\nsum(rate(bisslog_use_case_calls_total{{{selector}}}[$__rate_interval]))",
                objectives::CALLER_ERROR_KINDS.join("|")
            ),
            "error ratio",
        )],
        threshold: Some(f64::from(budget) / 1e6),
    });
    let latency = |quantile: &str| {
        format!(
            "histogram_quantile({quantile}, sum by (le) (rate(bisslog_use_case_duration_seconds_bucket{{{selector}}}[$__rate_interval])))"
        )
    };
    layout.panel(Panel {
        title: format!("{key}: latency"),
        description: format!(
            "The median and 99th percentile duration; the line is the p99 objective of {} s.",
            decimal(objective.p99_latency_ms, 1000)
        ),
        unit: "s",
        queries: vec![(latency("0.5"), "p50"), (latency("0.99"), "p99")],
        threshold: Some(f64::from(objective.p99_latency_ms) / 1000.0),
    });
    for queue in &use_case.queues {
        let queue_selector = format!("{selector}, queue={}", promql_string(queue));
        let rate =
            |metric: &str| format!("sum(rate({metric}{{{queue_selector}}}[$__rate_interval]))");
        layout.panel(Panel {
            title: format!("{key}: messages from {queue}"),
            description: "Messages per second received, retried, redelivered and dead-lettered."
                .to_owned(),
            unit: "ops",
            queries: vec![
                (rate("bisslog_consumer_messages_received_total"), "received"),
                (rate("bisslog_consumer_messages_retried_total"), "retried"),
                (rate("bisslog_consumer_messages_redelivered_total"), "redelivered"),
                (
                    format!(
                        "sum by (reason) (rate(bisslog_consumer_messages_dead_lettered_total{{{queue_selector}}}[$__rate_interval]))"
                    ),
                    "dead-lettered {{reason}}",
                ),
            ],
            threshold: None,
        });
        layout.panel(Panel {
            title: format!("{key}: lag on {queue}"),
            description: format!(
                "The age of the oldest unacknowledged message (where the broker tells it); \
                 the line is the {} s allowed.",
                objective.backlog_age_seconds
            ),
            unit: "s",
            queries: vec![(
                format!(
                    "max(bisslog_consumer_oldest_unacked_age_seconds{{service=\"$service\", queue={}}})",
                    promql_string(queue)
                ),
                "oldest unacked",
            )],
            threshold: Some(f64::from(objective.backlog_age_seconds)),
        });
    }
    if !use_case.schedules.is_empty() {
        layout.panel(Panel {
            title: format!("{key}: schedule ticks"),
            description: "Ticks per hour that ran, were skipped (overlap) or misfired.".to_owned(),
            unit: "short",
            queries: vec![(
                format!(
                    "sum by (result) (increase(bisslog_schedule_ticks_total{{{selector}}}[1h]))"
                ),
                "{{result}}",
            )],
            threshold: None,
        });
        layout.panel(Panel {
            title: format!("{key}: since the last tick"),
            description: "How long ago the schedule last ticked.".to_owned(),
            unit: "s",
            queries: vec![(
                format!("time() - max(bisslog_schedule_last_tick_timestamp_seconds{{{selector}}})"),
                "since last tick",
            )],
            threshold: None,
        });
    }
}

/// The outbox row; `allowed_age` is the backlog age its alert allows
/// (its most critical publisher's).
fn outbox_panels(layout: &mut Layout, allowed_age: u32) {
    let selector = "service=\"$service\"";
    layout.row("outbox");
    layout.panel(Panel {
        title: "outbox: backlog".to_owned(),
        description: "Messages waiting in the outbox to be relayed to the broker.".to_owned(),
        unit: "short",
        queries: vec![(
            format!("max(bisslog_outbox_pending{{{selector}}})"),
            "pending",
        )],
        threshold: None,
    });
    layout.panel(Panel {
        title: "outbox: oldest pending".to_owned(),
        description: format!(
            "The age of the oldest message not yet relayed; the line is the {allowed_age} s \
             allowed."
        ),
        unit: "s",
        queries: vec![(
            format!("max(bisslog_outbox_oldest_pending_age_seconds{{{selector}}})"),
            "oldest pending",
        )],
        threshold: Some(f64::from(allowed_age)),
    });
    layout.panel(Panel {
        title: "outbox: relay".to_owned(),
        description: "Messages relayed, and relay failures, per second.".to_owned(),
        unit: "ops",
        queries: vec![
            (
                format!("sum(rate(bisslog_outbox_relayed_total{{{selector}}}[$__rate_interval]))"),
                "relayed",
            ),
            (
                format!(
                    "sum(rate(bisslog_outbox_relay_failures_total{{{selector}}}[$__rate_interval]))"
                ),
                "failures",
            ),
        ],
        threshold: None,
    });
}
