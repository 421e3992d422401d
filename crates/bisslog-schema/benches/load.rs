//! Loading and validating a large metadata file: 1,000 use cases, about
//! 40,000 lines of YAML, and the same service as JSON. Baselines run in
//! the same process: the bare YAML event parser (`saphyr-parser`) and
//! `serde_json::Value` parsing, which do no validation and build no model.
//!
//! Run with `cargo bench -p bisslog-schema --bench load`. The generated
//! file is also written to `target/bench-data/` for memory measurements
//! (see `docs/benchmarks.md`).

#![allow(clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;

use bisslog_schema::{Format, Loader};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A service with `count` use cases, each with an HTTP and a consumer
/// trigger, two external interactions, tags and mappers: 40 lines each.
fn large_metadata(count: usize) -> String {
    let mut yaml = String::from(
        "name: benchmark service\ntype: microservice\ndescription: a large generated service\nteam: platform\ntags:\n  service: bench\nuse_cases:\n",
    );
    let criticality = ["low", "medium", "high", "critical", "70"];
    for i in 0..count {
        let _ = write!(
            yaml,
            "  use_case_{i}:
    name: use case number {i}
    description: does the work number {i} and records it
    actor: system
    type: create functional data
    criticality: {criticality}
    tags:
      accessibility: private
      domain: orders
    triggers:
      - type: http
        options:
          method: post
          path: /orders/{i}/items/{{item_id}}
          apigw: internal
          authenticator: employee
          timeout: 3000
          rate_limit: 100r/s
          mapper:
            path_query.item_id: item_id
            body: item
            headers.x-user: user
      - type: consumer
        options:
          queue: orders.{i}.queue
          partition: orders
          dead_letter_queue: orders.{i}.dlq
          max_retries: 5
          mapper:
            event.item_id: item_id
            event.body: item
    external_interactions:
      - keyname: orders_division
        type_interaction: database
        operation: [save_item, get_item]
      - keyname: events
        type_interaction: publisher
        operation: item_saved
",
            criticality = criticality[i % criticality.len()],
        );
    }
    yaml
}

fn bench(c: &mut Criterion) {
    let yaml = large_metadata(1_000);
    let report = Loader::new().validate_str("bench.yml", &yaml);
    assert_eq!(report.diagnostics(), [], "the generated file is valid");
    let json = serde_json::to_string_pretty(report.service().unwrap()).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("metadata-1000.yml"), &yaml).unwrap();
    std::fs::write(dir.join("metadata-1000.json"), &json).unwrap();

    let mut group = c.benchmark_group("load_and_validate_1000_use_cases");
    group.throughput(Throughput::Bytes(yaml.len() as u64));
    group.bench_function("bisslog_yaml", |b| {
        b.iter(|| Loader::new().validate_str("bench.yml", black_box(&yaml)))
    });
    group.bench_function("baseline_saphyr_events_only", |b| {
        b.iter(|| saphyr_parser::Parser::new_from_str(black_box(&yaml)).count())
    });
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("bisslog_json", |b| {
        let loader = Loader::new().format(Format::Json);
        b.iter(|| loader.validate_str("bench.json", black_box(&json)))
    });
    group.bench_function("baseline_serde_json_value", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&json)).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
