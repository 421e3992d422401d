//! `greet`: greets someone by name and says how many times they were
//! greeted.

use bisslog_core::{Ctx, Error, UseCase};
use serde::{Deserialize, Serialize};

use crate::ports::greetings::Greetings;

/// Who to greet: the `{name}` of the path, as the mapper says.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct GreetInput {
    /// The name.
    pub name: String,
}

/// The greeting.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct GreetOutput {
    /// "Hello, Ana!"
    pub message: String,
    /// How many times this name was greeted, this time included.
    pub count: u64,
}

/// Greets someone by name and says how many times they were greeted.
pub struct Greet<P1> {
    /// The `greetings` port.
    pub greetings: P1,
}

impl<P1> UseCase for Greet<P1>
where
    P1: Greetings,
{
    type Input = GreetInput;
    type Output = GreetOutput;
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: GreetInput) -> Result<GreetOutput, Error> {
        let count = self.greetings.record_greeting(&input.name).await?;
        ctx.checkpoint("greeted", format!("greeted {} ({count})", input.name));
        Ok(GreetOutput {
            message: format!("Hello, {}!", input.name),
            count,
        })
    }
}
