#[path = "../support.rs"]
mod support;

use support::{Greet, Store};

fn compose(metadata: bisslog::schema::ServiceMetadata) -> bisslog::ServiceBuilder {
    bisslog::service!("metadata/service.yml", metadata, {
        use_cases: { gret: Greet, create_schema: Greet },
        adapters: { schema_division: Store, events: Store },
    })
}

fn main() {
    let _ = compose;
}
