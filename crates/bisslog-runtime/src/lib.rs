//! The bisslog runtime: it checks a service's code against its metadata,
//! builds each use case's input from a request or message as the
//! metadata's mapper says, and calls the use case inside its transaction,
//! with logs, panic isolation and typed failures.
//!
//! **Where it fits:** A service uses it through the facade,
//! [`bisslog`](https://docs.rs/bisslog) (`bisslog::Service`,
//! `bisslog::messaging`, `bisslog::schedule`, `bisslog::problem`...); depend
//! on it directly only to write a new entry point.
//!
//! Entry points sit on top of this crate (`bisslog-http`; the consumer
//! runner of [`messaging`]; the scheduler of [`schedule`]; AWS Lambda): they turn their requests into
//! [`Sources`](mapper::Sources), call a [`UseCaseHandle`], and encode the
//! [`Reply`] or the [`Failure`].
//!
//! ```
//! use bisslog_core::{Ctx, Error, Trigger, UseCase};
//! use bisslog_runtime::{Service, mapper::Mapped};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, schemars::JsonSchema)]
//! struct Input { a: i64, b: i64 }
//! #[derive(Serialize, schemars::JsonSchema)]
//! struct Sum { result: i64 }
//!
//! struct Add;
//! impl UseCase for Add {
//!     type Input = Input;
//!     type Output = Sum;
//!     type Error = Error;
//!     async fn run(&self, _: &Ctx, input: Input) -> Result<Sum, Error> {
//!         Ok(Sum { result: input.a + input.b })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let metadata = bisslog_schema::validate_str(
//!     "metadata.yml",
//!     "name: calculator\nuse_cases:\n  add:\n    name: add\n    triggers: [{type: http, options: {method: post, path: /add}}]\n",
//! ).into_service().unwrap();
//! let service = Service::builder(metadata).use_case("add", Add).build().unwrap();
//!
//! let add = service.use_case("add").unwrap();
//! let input = Mapped::Owned(serde_json::json!({"a": 1, "b": 2}));
//! let reply = add.call(Ctx::new("add", Trigger::Direct), &input).await.unwrap();
//! assert_eq!(reply.body.as_deref(), Some(&br#"{"result":3}"#[..]));
//! # }
//! ```

pub mod authorization;
pub mod command;
mod contract;
mod dispatch;
mod inbox;
pub mod logging;
pub mod mapper;
pub mod messaging;
pub mod metrics;
pub mod problem;
pub mod resilience;
pub mod schedule;
mod service;
#[cfg(feature = "outgoing-http")]
pub mod tls;
pub mod trace;

pub use contract::Contract;
pub use dispatch::{Failure, Reply, UseCaseHandle};
pub use inbox::MemoryInbox;
pub use service::{
    BuildError, BuildProblem, DEFAULT_READINESS_TIMEOUT, Service, ServiceBuilder, UnservedTrigger,
};
