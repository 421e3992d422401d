//! The command-line trigger: one call, its output as JSON, failures as a
//! problem document with an exit code scripts can test.

#![allow(missing_docs)]

use std::process::ExitCode;

use bisslog_core::{Ctx, Error, ErrorKind, Trigger, UseCase};
use bisslog_runtime::Service;
use bisslog_runtime::command::run_call;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, schemars::JsonSchema)]
struct Input {
    a: i64,
    b: i64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Sum {
    result: i64,
    trigger: &'static str,
}

struct Add;

impl UseCase for Add {
    type Input = Input;
    type Output = Sum;
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: Input) -> Result<Sum, Error> {
        if input.b == 0 {
            return Err(
                Error::new(ErrorKind::Conflict, "zero-b", "b must not be zero")
                    .with_source(std::io::Error::other("the adder is picky")),
            );
        }
        Ok(Sum {
            result: input.a + input.b,
            trigger: if ctx.trigger() == Trigger::Command {
                "command"
            } else {
                "other"
            },
        })
    }
}

fn service() -> Service {
    let metadata = bisslog_schema::validate_str(
        "metadata.yml",
        "name: calculator\nuse_cases:\n  add:\n    triggers: [{type: http, options: {method: post, path: /add}}]\n",
    )
    .into_service()
    .expect("valid metadata");
    Service::builder(metadata)
        .use_case("add", Add)
        .build()
        .expect("builds")
}

async fn call(use_case: &str, input: &str) -> (ExitCode, String, serde_json::Value) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_call(&service(), use_case, Some(input), &mut out, &mut err).await;
    let err = String::from_utf8(err).expect("UTF-8");
    let problem = if err.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&err).expect("a JSON problem")
    };
    (code, String::from_utf8(out).expect("UTF-8"), problem)
}

#[tokio::test]
async fn the_output_is_printed_as_json() {
    let (code, out, problem) = call("add", r#"{"a": 1, "b": 2}"#).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(out, "{\"result\":3,\"trigger\":\"command\"}\n");
    assert!(problem.is_null());
}

#[tokio::test]
async fn a_failure_exits_1_with_the_problem_and_its_cause() {
    let (code, out, problem) = call("add", r#"{"a": 1, "b": 0}"#).await;
    assert_eq!(code, ExitCode::FAILURE);
    assert_eq!(out, "");
    // The document an HTTP caller gets (a 409), with the cause chain.
    assert_eq!(problem["type"], "about:blank#zero-b");
    assert_eq!(problem["status"], 409);
    assert_eq!(problem["title"], "Conflict");
    assert_eq!(problem["code"], "zero-b");
    assert!(
        problem["transaction_id"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(problem["causes"][0], "the adder is picky");
}

#[tokio::test]
async fn an_input_that_does_not_fit_names_the_field() {
    let (code, _, problem) = call("add", r#"{"a": 1}"#).await;
    assert_eq!(code, ExitCode::FAILURE);
    assert_eq!(problem["status"], 422);
    assert_eq!(problem["errors"][0]["field"], "b");
}

#[tokio::test]
async fn calls_that_cannot_be_made_exit_2() {
    let (code, _, problem) = call("substract", "{}").await;
    assert_eq!(code, ExitCode::from(2));
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["code"], "unknown-use-case");
    assert_eq!(
        problem["detail"],
        "the service `calculator` has no use case `substract`; it has: add"
    );

    let (code, _, problem) = call("add", "{not json").await;
    assert_eq!(code, ExitCode::from(2));
    assert_eq!(problem["code"], "input-not-json");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("line 1 column 2")),
        "{problem}"
    );
}
