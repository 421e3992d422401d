//! The bench harness's use case served through the service runner
//! (`bisslog-app`), as a user writes a service now: the same metadata and
//! use case as `bisslog-rs-add`, with configuration, the standard commands,
//! `/openapi.json` and the ordered shutdown. For start-up time and idle
//! memory against the hand-assembled binary; per request the two serve the
//! same router.
//!
//! POST /add/{c}  body {"a": <int>, "b": <int>}  ->  {"result": a + b + c}
//! Listens on 127.0.0.1:$PORT (default 8080); stops on SIGTERM or Ctrl-C.
use bisslog_app::{App, Resources};
use bisslog_core::{Ctx, Error, UseCase};
use bisslog_runtime::{BuildError, Service};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, schemars::JsonSchema)]
struct AddInput {
    a: i64,
    b: i64,
    c: i64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct AddResult {
    result: i64,
}

struct AddNumbers;

impl UseCase for AddNumbers {
    type Input = AddInput;
    type Output = AddResult;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: AddInput) -> Result<AddResult, Error> {
        Ok(AddResult {
            result: input.a + input.b + input.c,
        })
    }
}

async fn compose(resources: Resources) -> Result<Service, BuildError> {
    Service::builder(resources.metadata())
        .use_case("add_numbers", AddNumbers)
        .build()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    App::new("metadata.yml", include_str!("../../metadata.yml"))
        .run(compose)
        .await
}
