#[path = "support.rs"]
mod support;

use support::{Greet, Store, metadata};

mod keynames {
    bisslog::keynames!("metadata/service.yml");
}

fn main() {
    let store = Store;
    let service = bisslog::service!("metadata/service.yml", metadata(), {
        use_cases: { greet: Greet, "create_schema": Greet },
        adapters: { schema_division: store.clone() },
        blank: [events],
    })
    .build();
    let service = match service {
        Ok(service) => service,
        Err(error) => panic!("{error}"),
    };
    assert!(service.use_case(keynames::use_cases::GREET).is_some());
    assert!(service.use_case(keynames::use_cases::CREATE_SCHEMA).is_some());
    assert_eq!(keynames::interactions::SCHEMA_DIVISION, "schema_division");
    assert_eq!(keynames::interactions::EVENTS, "events");
    assert_eq!(keynames::queues::SCHEMAS_REQUESTED, "schemas.requested");
}
