//! The use cases on a fake store, as a domain's own unit tests run them:
//! no server, no database, no adapter crate.

#![allow(clippy::unwrap_used, missing_docs)]

mod fake_store;

use bisslog_core::{Ctx, ErrorKind, NoInput, Trigger, UseCase, UseCaseError};
use bisslog_testkit::RecordingPublisher;
use fake_store::FakeStore;
use registry_domain::data::{GetCompanyData, GetInput, InsertCompanyData, InsertInput};
use registry_domain::events::COMPANY_DATA_INSERTED;
use registry_domain::ports::SchemaStore;
use registry_domain::schemas::{
    CleanupInput, CreateSchema, CreateSchemaInput, DeleteInactiveSchemaVersions, GetAllSchemas,
    UpdateDefinitionInput, UpdateSchemaDefinition,
};
use registry_domain::{RegistryError, SchemaInfo, SchemaVersion};
use serde_json::{Map, json};

fn ctx() -> Ctx {
    Ctx::new("test", Trigger::Direct)
}

fn info(keyname: &str) -> SchemaInfo {
    SchemaInfo {
        schema_keyname: keyname.to_owned(),
        schema_name: "Language".to_owned(),
        schema_description: "Language schema".to_owned(),
        // The example's test schema, shared with the service's tests.
        current_schema_definition: serde_json::from_str(include_str!(
            "../../tests/language.schema.json"
        ))
        .unwrap(),
    }
}

#[tokio::test]
async fn keynames_are_normalised_and_unique() {
    let store = FakeStore::default();
    let create = CreateSchema {
        schemas: store.clone(),
    };
    let created = create
        .run(
            &ctx(),
            CreateSchemaInput {
                schema_info: info(" Language "),
            },
        )
        .await
        .unwrap();
    assert_eq!(created.schema.schema_keyname, "language");
    let again = create
        .run(
            &ctx(),
            CreateSchemaInput {
                schema_info: info("language"),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(again, RegistryError::SchemaExists(_)));
    assert_eq!(again.kind(), ErrorKind::Conflict);
    let all = GetAllSchemas { schemas: store }
        .run(&ctx(), NoInput)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn data_must_match_the_current_definition() {
    let store = FakeStore::default();
    CreateSchema {
        schemas: store.clone(),
    }
    .run(
        &ctx(),
        CreateSchemaInput {
            schema_info: info("language"),
        },
    )
    .await
    .unwrap();
    let events = RecordingPublisher::new();
    let insert = InsertCompanyData {
        schemas: store.clone(),
        data: store.clone(),
        events: events.clone(),
    };
    let error = insert
        .run(
            &ctx(),
            InsertInput {
                schema_keyname: "language".into(),
                data: json!({"code": "es"}),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "invalid-data");
    assert_eq!(
        error.details().unwrap()["errors"].as_array().map(Vec::len),
        Some(3),
        "name, emoji, translations"
    );
    assert!(
        events.published().is_empty(),
        "a rejected record is not announced"
    );

    // After a looser definition, the same record is accepted.
    UpdateSchemaDefinition {
        schemas: store.clone(),
    }
    .run(
        &ctx(),
        UpdateDefinitionInput {
            schema_keyname: "language".into(),
            schema_definition: json!({"type": "object"}),
        },
    )
    .await
    .unwrap();
    insert
        .run(
            &ctx(),
            InsertInput {
                schema_keyname: "language".into(),
                data: json!({"code": "es"}),
            },
        )
        .await
        .unwrap();
    // The insertion is announced, keyed by its schema.
    let announced = events.published();
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].queue, COMPANY_DATA_INSERTED);
    assert_eq!(announced[0].key.as_deref(), Some("language"));
    assert_eq!(announced[0].payload["data"], json!({"code": "es"}));
    let found = GetCompanyData {
        schemas: store.clone(),
        data: store,
    }
    .run(
        &ctx(),
        GetInput {
            schema_keyname: "language".into(),
            params: Map::new(),
            loose: Map::new(),
        },
    )
    .await
    .unwrap();
    assert_eq!(found["data"][0]["code"], "es");
}

#[tokio::test]
async fn the_weekly_clean_up_keeps_current_and_recent_versions() {
    let store = FakeStore::default();
    CreateSchema {
        schemas: store.clone(),
    }
    .run(
        &ctx(),
        CreateSchemaInput {
            schema_info: info("language"),
        },
    )
    .await
    .unwrap();
    let schema = store.get_schema("language").await.unwrap().unwrap();
    let day = 86_400_000;
    let now = registry_domain::model::now_ms();
    for (uid, age_days) in [("old", 40), ("recent", 5)] {
        let version = SchemaVersion {
            uid: uid.into(),
            schema_keyname: "language".into(),
            schema_definition: json!({"type": "object"}),
            created_at_ms: now - age_days * day,
        };
        store.add_current_version(&version).await.unwrap();
    }
    // `recent` is current now; make the original current again.
    let original = store
        .get_version(&schema.current_version)
        .await
        .unwrap()
        .unwrap();
    store.set_current_version(&original).await.unwrap();
    let result = DeleteInactiveSchemaVersions {
        schemas: store.clone(),
    }
    .run(&ctx(), CleanupInput { days: 30 })
    .await
    .unwrap();
    assert_eq!(result, json!({"result": {"language": ["old"]}}));
    assert!(store.get_version("recent").await.unwrap().is_some());
    assert!(
        store
            .get_version(&schema.current_version)
            .await
            .unwrap()
            .is_some()
    );
}
