//! What a registered use case's types say about it, kept for API
//! documents: the JSON Schemas of its input and output, how it completes
//! and which error kinds it can fail with. Taken at registration, so no
//! document needs a hand-written description per use case.

use bisslog_core::{Completion, ErrorKind, UseCase, UseCaseError};
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// The contract of one use case's types.
///
/// The schemas are written on demand into the caller's
/// [`SchemaGenerator`], so that the named types of every use case of a
/// service share one set of definitions (`components/schemas` in
/// OpenAPI).
///
/// ```
/// use bisslog_core::{Completion, Ctx, Error, UseCase};
/// use bisslog_runtime::Contract;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct NewUser { name: String }
///
/// struct CreateUser;
/// impl UseCase for CreateUser {
///     type Input = NewUser;
///     type Output = ();
///     type Error = Error;
///     async fn run(&self, _: &Ctx, _: NewUser) -> Result<(), Error> { Ok(()) }
/// }
///
/// let contract = Contract::of::<CreateUser>();
/// assert_eq!(contract.completion(), Completion::NoContent);
/// let mut generator = schemars::SchemaGenerator::default();
/// let input = contract.input_schema(&mut generator);
/// assert_eq!(input.get("$ref").and_then(|r| r.as_str()), Some("#/$defs/NewUser"));
/// ```
#[derive(Clone, Copy)]
pub struct Contract {
    input: fn(&mut SchemaGenerator) -> Schema,
    output: fn(&mut SchemaGenerator) -> Schema,
    completion: Completion,
    error_kinds: fn() -> &'static [ErrorKind],
}

impl Contract {
    /// The contract of `U`'s types.
    pub fn of<U>() -> Self
    where
        U: UseCase,
        U::Input: JsonSchema,
        U::Output: JsonSchema,
    {
        Self {
            input: subschema::<U::Input>,
            output: subschema::<U::Output>,
            completion: U::COMPLETION,
            error_kinds: <U::Error as UseCaseError>::kinds,
        }
    }

    /// The input's schema; named types go into `generator`'s definitions.
    pub fn input_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        (self.input)(generator)
    }

    /// The output's schema; named types go into `generator`'s definitions.
    pub fn output_schema(&self, generator: &mut SchemaGenerator) -> Schema {
        (self.output)(generator)
    }

    /// How a successful call completes ([`UseCase::COMPLETION`]).
    pub fn completion(&self) -> Completion {
        self.completion
    }

    /// The kinds its error type can have ([`UseCaseError::kinds`]).
    pub fn error_kinds(&self) -> &'static [ErrorKind] {
        (self.error_kinds)()
    }
}

fn subschema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contract")
            .field("completion", &self.completion)
            .field("error_kinds", &self.error_kinds())
            .finish_non_exhaustive()
    }
}
