//! What metrics cost per use-case call: the same trivial use case called
//! through its handle, in a service built with metrics and one without,
//! side by side in one run (the HTTP benchmark's `bisslog-rs-no-metrics`
//! contender measures the whole request; see `docs/benchmarks.md`).
//!
//! Run with `cargo bench -p bisslog-runtime --bench metrics`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use bisslog_core::{Ctx, Error, Trigger, UseCase};
use bisslog_runtime::Service;
use bisslog_runtime::mapper::Mapped;
use criterion::{Criterion, criterion_group, criterion_main};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Input {
    a: i64,
    b: i64,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Sum {
    result: i64,
}

struct Add;

impl UseCase for Add {
    type Input = Input;
    type Output = Sum;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: Input) -> Result<Sum, Error> {
        Ok(Sum {
            result: input.a + input.b,
        })
    }
}

fn service(metrics: bool) -> Service {
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: calculator\nuse_cases:\n  add:\n    triggers: [{type: http, options: {method: post, path: /add}}]\n",
    )
    .into_service()
    .unwrap();
    Service::builder(metadata)
        .use_case("add", Add)
        .metrics(metrics)
        .build()
        .unwrap()
}

fn calls(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let input = Mapped::Owned(serde_json::json!({"a": 1, "b": 2}));
    let mut group = c.benchmark_group("use case call");
    for (name, metrics) in [("without metrics", false), ("with metrics", true)] {
        let service = service(metrics);
        let add = service.use_case("add").unwrap().clone();
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime
                    .block_on(add.call(Ctx::new("add", Trigger::Http), &input))
                    .unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, calls);
criterion_main!(benches);
