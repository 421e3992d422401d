//! The weekly clean-up of inactive schema versions runs on its schedule
//! (`0 0 ? * 1 *`: Sundays at 00:00 UTC), on tokio's paused clock.

#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use bisslog::core::{Ctx, Trigger, UseCase};
use bisslog::schedule::{Clock, Schedules};
use bisslog_testkit::RecordingPublisher;
use company_data_registry::adapters::MemoryStore;
use company_data_registry::domain::SchemaInfo;
use company_data_registry::domain::SchemaVersion;
use company_data_registry::domain::ports::SchemaStore;
use company_data_registry::domain::schemas::{CleanupInput, CreateSchema, CreateSchemaInput};
use jiff::{Timestamp, ToSpan};
use serde_json::json;

#[tokio::test(start_paused = true)]
async fn the_weekly_clean_up_runs_on_sunday_at_midnight_utc() {
    let store = MemoryStore::new();
    CreateSchema {
        schemas: store.clone(),
    }
    .run(
        &Ctx::new("test", Trigger::Direct),
        CreateSchemaInput {
            schema_info: SchemaInfo {
                schema_keyname: "language".into(),
                schema_name: "Language".into(),
                schema_description: "Language schema".into(),
                current_schema_definition: json!({"type": "object"}),
            },
        },
    )
    .await
    .unwrap();
    let current = store
        .get_schema("language")
        .await
        .unwrap()
        .unwrap()
        .current_version;
    let now = Timestamp::now();
    let old = SchemaVersion {
        uid: "old".into(),
        schema_keyname: "language".into(),
        schema_definition: json!({"type": "object"}),
        created_at_ms: (now - jiff::SignedDuration::from_hours(40 * 24)).as_millisecond(),
    };
    // `old` becomes current, then the original again: `old` is inactive.
    store.add_current_version(&old).await.unwrap();
    let original = store.get_version(&current).await.unwrap().unwrap();
    store.set_current_version(&original).await.unwrap();

    let metadata = company_data_registry::metadata().unwrap();
    let service = company_data_registry::service(
        metadata,
        store.clone(),
        RecordingPublisher::new(),
        bisslog::MemoryInbox::new(),
    )
    .unwrap();
    let schedules = Schedules::new(service)
        .clock(Clock::simulated(now, 1))
        .start()
        .unwrap();
    assert_eq!(
        schedules.served(),
        [(
            "delete_all_inactive_schema_version".to_owned(),
            "0 0 ? * 1 *".to_owned()
        )]
    );

    // The next Sunday, 00:00 UTC.
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let days_to_sunday = 7 - i64::from(today.weekday().to_monday_zero_offset()) - 1;
    let days_to_sunday = if days_to_sunday == 0 {
        7
    } else {
        days_to_sunday
    };
    let sunday = today
        .checked_add(days_to_sunday.days())
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp();
    let to_sunday = Duration::try_from(sunday.duration_since(now)).unwrap();

    tokio::time::sleep(to_sunday - Duration::from_secs(1)).await;
    assert!(
        store.get_version("old").await.unwrap().is_some(),
        "cleaned before Sunday"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The run was spawned at the tick; let it finish.
    schedules.shutdown().await;
    assert!(
        store.get_version("old").await.unwrap().is_none(),
        "not cleaned on Sunday"
    );
    assert!(store.get_version(&current).await.unwrap().is_some());
}

/// The schedule's static event is what the clean-up use case reads.
#[test]
fn the_cleanup_event_of_the_metadata_is_a_valid_input() {
    let metadata = company_data_registry::metadata().unwrap();
    let cleanup = &metadata.use_cases["delete_all_inactive_schema_version"];
    let bisslog::schema::TriggerKind::Schedule(schedule) = &cleanup.triggers[0].kind else {
        panic!()
    };
    let input: CleanupInput = serde_json::from_value(schedule.event.clone().unwrap()).unwrap();
    assert_eq!(input.days, 30);
}
