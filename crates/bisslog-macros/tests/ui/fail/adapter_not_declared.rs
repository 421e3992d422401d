#[path = "../support.rs"]
mod support;

use support::{Greet, Store};

fn compose(metadata: bisslog::schema::ServiceMetadata) -> bisslog::ServiceBuilder {
    bisslog::service!("metadata/service.yml", metadata, {
        use_cases: { greet: Greet, create_schema: Greet },
        adapters: { schema_divison: Store, schema_division: Store },
        blank: [events],
    })
}

fn main() {
    let _ = compose;
}
