//! The contract a bisslog domain depends on, and nothing more: use cases,
//! the call context, error kinds and ports.
//!
//! **Where it fits:** A domain crate depends on this crate alone; a service's
//! composition root uses the facade, [`bisslog`](https://docs.rs/bisslog),
//! which re-exports it as `bisslog::core` (and its items at `bisslog::*`).
//!
//! A service's domain code depends on this crate alone. It names no HTTP
//! framework, broker, database or async runtime, so the same use cases run
//! behind axum, a NATS or RabbitMQ consumer, a cron schedule, AWS Lambda or
//! a unit test.
//!
//! - [`UseCase`]: a typed input, a typed output, a typed error;
//!   [`Completion`] says "created" or "no content" without naming HTTP.
//! - [`Ctx`]: the transaction id (and its parent for nested calls),
//!   checkpoints as `tracing` events, calls to other use cases.
//! - [`ErrorKind`] and [`UseCaseError`]: what entry points need to know of a
//!   failure: its HTTP status, whether a message is retried.
//! - [`Adapter`] and the standard ports: [`Publisher`] for events,
//!   [`WebSocketConnections`] for pushing to clients.
//!
//! Nothing else: the machinery around a call (units of work, the current
//! context of adapters, executors) lives in the runtime and in
//! `bisslog-messaging`, behind the one seam [`Ctx::extension`].
//!
//! # Example
//!
//! ```
//! use bisslog_core::{Ctx, Error, Trigger, UseCase};
//! use serde::{Deserialize, Serialize};
//!
//! /// The port: how the domain sees its store.
//! trait Greetings: Send + Sync {
//!     fn greeting_for(&self, language: &str) -> Option<String>;
//! }
//!
//! #[derive(Deserialize)]
//! struct Input { language: String, name: String }
//!
//! #[derive(Serialize)]
//! struct Output { message: String }
//!
//! struct Greet<G> { greetings: G }
//!
//! impl<G: Greetings + 'static> UseCase for Greet<G> {
//!     type Input = Input;
//!     type Output = Output;
//!     type Error = Error;
//!
//!     async fn run(&self, ctx: &Ctx, input: Input) -> Result<Output, Error> {
//!         let greeting = self.greetings.greeting_for(&input.language).ok_or_else(|| {
//!             Error::not_found("language-not-found", format!("no greeting in `{}`", input.language))
//!         })?;
//!         ctx.checkpoint("greeted", "greeting chosen");
//!         Ok(Output { message: format!("{greeting}, {}!", input.name) })
//!     }
//! }
//!
//! // An in-memory adapter, as a unit test would use.
//! struct Fixed;
//! impl Greetings for Fixed {
//!     fn greeting_for(&self, language: &str) -> Option<String> {
//!         (language == "es").then(|| "Hola".to_owned())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let greet = Greet { greetings: Fixed };
//! let ctx = Ctx::new("greet", Trigger::Direct);
//! let input = Input { language: "es".into(), name: "Ana".into() };
//! let output = greet.run(&ctx, input).await.unwrap();
//! assert_eq!(output.message, "Hola, Ana!");
//! # }
//! ```

mod call;
mod ctx;
mod error;
mod port;
mod publish;
mod redact;
pub mod trace;
mod transaction;
mod use_case;

pub use call::{CallDispatcher, NestedCall};
pub use ctx::{Ctx, CtxBuilder, Trigger};
pub use error::{BoxError, Error, ErrorKind, UseCaseError, causes};
pub use port::{Adapter, BoxFuture, UnitOfWorkId, WebSocketConnections};
pub use publish::{Event, Publisher};
pub use redact::{MASK, mask_url_password};
pub use trace::TraceContext;
pub use transaction::{MAX_TRANSACTION_ID_LEN, TransactionId};
pub use use_case::{Completion, NoInput, UseCase};
