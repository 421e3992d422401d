//! The command-line trigger: run one use case once, with its input as
//! JSON, and print its output as JSON (for scripts, cron jobs outside the
//! service, and debugging).
//!
//! A service binary adds a `call` subcommand that builds its service as it
//! does to serve, then hands over to [`run_call`]:
//!
//! ```text
//! $ my-service call create_schema --input '{"schema_keyname": "language", ...}'
//! {"schema_keyname":"language","version":"1"}
//! $ echo '{"days": 30}' | my-service call delete_all_inactive_schema_version
//! ```
//!
//! The use case runs as it does behind any other trigger (its transaction,
//! its unit of work, panic isolation), with [`Trigger::Command`].

use std::io::{IsTerminal as _, Read, Write};
use std::process::ExitCode;

use bisslog_core::{Ctx, TransactionId, Trigger};
use http::StatusCode;
use serde_json::Value;

use crate::mapper::Mapped;
use crate::problem::{Problem, default_status};
use crate::{Failure, Service};

/// Why a call did not produce an output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No use case has this keyname.
    #[error("the service `{service}` has no use case `{use_case}`; it has: {}", .known.join(", "))]
    UnknownUseCase {
        /// The service.
        service: String,
        /// The keyname asked for.
        use_case: String,
        /// The keynames it has.
        known: Vec<String>,
    },
    /// The input is not a JSON document.
    #[error("the input is not JSON: {0}")]
    InputNotJson(#[source] serde_json::Error),
    /// The input could not be read from standard input.
    #[error("the input could not be read from standard input: {0}")]
    Stdin(#[source] std::io::Error),
    /// The use case ran (or its input did not fit it) and failed.
    #[error("{failure}")]
    Failed {
        /// The failure.
        failure: Failure,
        /// The call's transaction, to find its log lines.
        transaction_id: TransactionId,
    },
}

impl CallError {
    /// Whether the use case failed (exit 1), rather than the call not
    /// being possible at all (exit 2).
    pub fn is_failure(&self) -> bool {
        matches!(self, CallError::Failed { .. })
    }
}

/// Calls `use_case` once with `input` (a JSON document) and returns its
/// output; `None` when it has none.
pub async fn call(
    service: &Service,
    use_case: &str,
    input: &str,
) -> Result<Option<Value>, CallError> {
    let handle = service
        .use_case(use_case)
        .ok_or_else(|| CallError::UnknownUseCase {
            service: service.name().to_owned(),
            use_case: use_case.to_owned(),
            known: service
                .use_cases()
                .map(|h| h.keyname().to_owned())
                .collect(),
        })?;
    let raw: &serde_json::value::RawValue =
        serde_json::from_str(input.trim()).map_err(CallError::InputNotJson)?;
    let ctx = Ctx::new(handle.keyname_arc(), Trigger::Command);
    let transaction_id = ctx.transaction_id().clone();
    let reply = match handle.call(ctx, &Mapped::Raw(raw)).await {
        Ok(reply) => reply,
        Err(failure) => {
            return Err(CallError::Failed {
                failure,
                transaction_id,
            });
        }
    };
    match reply.body {
        None => Ok(None),
        Some(body) => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| CallError::Failed {
                failure: Box::new(
                    bisslog_core::Error::internal("the output is not JSON").with_source(e),
                ),
                transaction_id,
            }),
    }
}

/// The whole `call` subcommand: reads the input from `input`, or from
/// standard input when it is `None` or `-` (nothing piped in, or only
/// whitespace, is no input: `null`); prints the output as JSON on `out`
/// (nothing when there is none); on failure prints a problem document on
/// `err`. Exit code: 0 on success, 1 when the use case failed,
/// 2 when it could not be called (no such use case, input not JSON).
pub async fn run_call(
    service: &Service,
    use_case: &str,
    input: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let stdin;
    let input = match input {
        Some(text) if text != "-" => text,
        // Nothing piped in: no input (a use case without one runs; one that
        // needs fields says which are missing), rather than waiting on a
        // terminal.
        None if std::io::stdin().is_terminal() => "null",
        _ => {
            let mut text = String::new();
            if let Err(error) = std::io::stdin().read_to_string(&mut text) {
                return report(err, &CallError::Stdin(error));
            }
            stdin = text;
            if stdin.trim().is_empty() {
                "null"
            } else {
                stdin.as_str()
            }
        }
    };
    match call(service, use_case, input).await {
        Ok(output) => {
            let written = match output {
                Some(output) => writeln!(out, "{output}"),
                None => Ok(()),
            };
            if written.is_err() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(error) => report(err, &error),
    }
}

fn report(err: &mut dyn Write, error: &CallError) -> ExitCode {
    let document = serde_json::to_string(&problem(error)).unwrap_or_default();
    let _ = writeln!(err, "{document}");
    if error.is_failure() {
        ExitCode::FAILURE
    } else {
        ExitCode::from(2)
    }
}

/// The problem document printed for `error`: the same document an HTTP
/// caller gets (status, title, code, transaction id), with the full
/// message and the cause chain (`causes`) since whoever runs the command
/// owns the service.
pub fn problem(error: &CallError) -> Problem {
    match error {
        CallError::Failed {
            failure,
            transaction_id,
        } => Problem::for_operator(
            failure.as_ref(),
            default_status(failure.kind()),
            &transaction_id.text(),
        ),
        other => {
            let (status, code) = match other {
                CallError::UnknownUseCase { .. } => (StatusCode::NOT_FOUND, "unknown-use-case"),
                CallError::Stdin(_) => (StatusCode::BAD_REQUEST, "stdin-unreadable"),
                _ => (StatusCode::BAD_REQUEST, "input-not-json"),
            };
            let transaction_id = TransactionId::generate();
            Problem::new(
                status,
                code,
                other.to_string(),
                &transaction_id.text(),
                None,
            )
        }
    }
}
