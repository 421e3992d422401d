//! The Lambda entry point against real event documents (`tests/fixtures`),
//! and the runtime loop against a mock of the Lambda Runtime API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod api_gateway;
mod authorizers;
mod eventbridge_events;
mod only_one_use_case;
mod response_documents;
mod runtime_api;
mod schedules;
mod sns_topics;
mod sqs_batches;
mod support;
mod traces;
mod unmatched_events;
mod websocket_api;
