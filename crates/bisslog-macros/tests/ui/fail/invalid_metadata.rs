#[path = "../support.rs"]
mod support;

use support::Greet;

fn compose(metadata: bisslog::schema::ServiceMetadata) -> bisslog::ServiceBuilder {
    bisslog::service!("metadata/invalid.yml", metadata, {
        use_cases: { greet: Greet },
    })
}

fn main() {
    let _ = compose;
}
