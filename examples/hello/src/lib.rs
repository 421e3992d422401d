//! The smallest bisslog service: one use case, `greet`, behind
//! `GET /hello/{name}` as `metadata.yml` declares.

use bisslog::{BuildError, Ctx, Error, Resources, Service, UseCase};
use serde::{Deserialize, Serialize};

/// Who to greet: the `{name}` of the path.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct Name {
    /// The name.
    pub name: String,
}

/// The greeting.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Greeting {
    /// "Hello, Ana!"
    pub message: String,
}

/// Greets someone by name.
pub struct Greet;

impl UseCase for Greet {
    type Input = Name;
    type Output = Greeting;
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: Name) -> Result<Greeting, Error> {
        ctx.checkpoint("greeted", format!("greeted {}", input.name));
        Ok(Greeting {
            message: format!("Hello, {}!", input.name),
        })
    }
}

/// The service: its use case bound to the metadata the runner embedded.
pub async fn compose(resources: Resources) -> Result<Service, BuildError> {
    Service::builder(resources.metadata())
        .use_case("greet", Greet)
        .build()
}
