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

/// The keynames of `metadata.yml`, as constants: a misspelt one does not
/// compile (`keynames::use_cases::GREET`).
pub mod keynames {
    bisslog::keynames!("metadata.yml");
}

/// The service: its use case bound to the metadata the runner embedded.
/// `service!` checks the registrations against `metadata.yml` while the
/// crate compiles; `build()` checks them again against the metadata the
/// service runs on.
pub async fn compose(resources: Resources) -> Result<Service, BuildError> {
    bisslog::service!("metadata.yml", resources.metadata(), {
        use_cases: { greet: Greet },
    })
    .build()
}
