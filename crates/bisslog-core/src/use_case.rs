//! Use cases: one business operation each, in plain Rust.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::ctx::Ctx;
use crate::error::UseCaseError;

/// One business operation: a typed input, a typed output, a typed error.
///
/// A use case talks to the outside only through ports (traits) it holds;
/// it never names HTTP, brokers or SQL. Entry points deserialize its
/// [`Input`](UseCase::Input) from the request or message (as the metadata's
/// mapper says), call [`run`](UseCase::run) inside a transaction, and encode
/// the [`Output`](UseCase::Output) or the error's kind for their transport.
///
/// ```
/// use bisslog_core::{Completion, Ctx, Error, UseCase};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct AddInput { a: i64, b: i64 }
///
/// #[derive(Serialize)]
/// struct Sum { result: i64 }
///
/// struct Add;
///
/// impl UseCase for Add {
///     type Input = AddInput;
///     type Output = Sum;
///     type Error = Error;
///
///     async fn run(&self, ctx: &Ctx, input: AddInput) -> Result<Sum, Error> {
///         ctx.checkpoint("added", "sum computed");
///         Ok(Sum { result: input.a + input.b })
///     }
///
///     // A creation would say so: entry points answer 201 for `Created`.
///     const COMPLETION: Completion = Completion::Done;
/// }
/// ```
pub trait UseCase: Send + Sync + 'static {
    /// What the use case needs, deserialized by the entry point.
    type Input: DeserializeOwned + Send + 'static;
    /// What it returns, serialized by the entry point.
    type Output: Serialize + Send + 'static;
    /// How it fails; the error's kind decides the HTTP status, retries, ...
    type Error: UseCaseError;

    /// Runs the use case.
    fn run(
        &self,
        ctx: &Ctx,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;

    /// How a successful call completes, for entry points that distinguish
    /// it (HTTP: 200, 201, 202 or 204) and for API documents, which list
    /// this one. By default an output that carries no data (a zero-sized
    /// type such as `()`) is [`Completion::NoContent`] and anything else
    /// [`Completion::Done`]; set it to [`Completion::Created`] for a use
    /// case that creates.
    const COMPLETION: Completion = if std::mem::size_of::<Self::Output>() == 0 {
        Completion::NoContent
    } else {
        Completion::Done
    };

    /// How this call completed: [`COMPLETION`](Self::COMPLETION) unless
    /// overridden to decide from the output (the documents still list
    /// only `COMPLETION`).
    fn completion(output: &Self::Output) -> Completion {
        let _ = output;
        Self::COMPLETION
    }
}

/// How a successful call completed, in transport-neutral terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Completion {
    /// Done; the output describes the result (HTTP 200).
    Done,
    /// Something was created (HTTP 201).
    Created,
    /// Accepted for later processing (HTTP 202).
    Accepted,
    /// Done, and there is nothing to return (HTTP 204).
    NoContent,
}

/// An input for use cases that need none: it deserializes from anything
/// (an empty object, `null`, a schedule's payload) and ignores it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoInput;

/// Any JSON value: what [`NoInput`] accepts.
impl schemars::JsonSchema for NoInput {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NoInput".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::Schema::from(true)
    }
}

impl<'de> Deserialize<'de> for NoInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| NoInput)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, Trigger};

    struct Nothing;

    impl UseCase for Nothing {
        type Input = NoInput;
        type Output = ();
        type Error = Error;

        async fn run(&self, _: &Ctx, _: NoInput) -> Result<(), Error> {
            Ok(())
        }
    }

    #[test]
    fn zero_sized_outputs_have_no_content() {
        assert_eq!(Nothing::COMPLETION, Completion::NoContent);
        assert_eq!(Nothing::completion(&()), Completion::NoContent);
    }

    #[test]
    fn no_input_is_described_as_any_value() {
        let schema = schemars::SchemaGenerator::default().subschema_for::<NoInput>();
        assert_eq!(schema.as_bool(), Some(true));
    }

    #[test]
    fn no_input_takes_anything() {
        for json in ["{}", "null", "[1, 2]", r#"{"days": 30}"#] {
            assert!(serde_json::from_str::<NoInput>(json).is_ok(), "{json}");
        }
    }

    /// Without the runtime (a context built by hand), the callee runs
    /// directly, named after its type.
    #[tokio::test]
    async fn nested_calls_get_child_transactions() {
        struct Parent;
        impl UseCase for Parent {
            type Input = NoInput;
            type Output = (String, String);
            type Error = Error;
            async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<(String, String), Error> {
                let child_parent = ctx.call(&Child, NoInput).await?;
                Ok((ctx.transaction_id().to_string(), child_parent))
            }
        }
        struct Child;
        impl UseCase for Child {
            type Input = NoInput;
            type Output = String;
            type Error = Error;
            async fn run(&self, ctx: &Ctx, _: NoInput) -> Result<String, Error> {
                assert_eq!(ctx.use_case(), "Child");
                assert_eq!(ctx.trigger(), Trigger::Call);
                Ok(ctx
                    .parent_transaction_id()
                    .map(ToString::to_string)
                    .unwrap_or_default())
            }
        }
        let ctx = Ctx::new("parent", Trigger::Direct);
        let (own, childs_parent) = Parent.run(&ctx, NoInput).await.unwrap_or_default();
        assert_eq!(own, childs_parent);
    }
}
