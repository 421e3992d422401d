//! The company data importer: a third, small service that takes batches
//! of records over HTTP (`POST /imports/{schema_keyname}`) and queues one
//! insertion request per record on the registry's
//! `company_data_insertion.queue`. It has its own metadata
//! (`importer.yml`) and domain, asks the registry over HTTP whether a
//! schema exists, sends it records through the broker, and, deliberately,
//! also reads the registry's database (`data_division`) to report
//! progress: the shared database the system map flags.

pub mod adapters;
pub mod registry_http;

/// The domain: the `importer-domain` crate, which depends on `bisslog-core` only.
pub use importer_domain as domain;

use bisslog::core::{Adapter, Publisher};
use bisslog::resilience::Interactions;
use bisslog::{BuildError, Service};

use domain::{
    GetImportProgress, ImportCompanyData, NoteInsertion, RegistryRecords, RegistrySchemas,
};

/// The keyname of the importer's HTTP dependency on the registry: the
/// registry's service name, as `external_system` interactions name services.
pub const REGISTRY: &str = "company registry data";

/// The importer's metadata, built into the binary.
pub const METADATA: &str = include_str!("../../importer.yml");

/// The embedded metadata, loaded and validated.
pub fn metadata() -> Result<bisslog::schema::ServiceMetadata, Box<bisslog::schema::Report>> {
    bisslog::schema::validate_str("importer.yml", METADATA)
        .into_service()
        .map_err(Box::new)
}

/// Binds the importer's use cases to `registry` (the registry's HTTP
/// API), `requests` (`insertion_requests`, the broker) and `records`
/// (`data_division`, the registry's database).
pub fn service<S, P, R>(
    metadata: bisslog::schema::ServiceMetadata,
    registry: S,
    requests: P,
    records: R,
    interactions: Interactions,
) -> Result<Service, BuildError>
where
    S: RegistrySchemas + Adapter + Clone,
    P: Publisher + Adapter + Clone,
    R: RegistryRecords + Adapter + Clone,
{
    // The registry's keyname is not an identifier: it is written as a
    // string (the value of `REGISTRY`).
    bisslog::service!("importer.yml", metadata, {
        use_cases: {
            import_company_data: ImportCompanyData {
                registry: registry.clone(),
                requests: requests.clone(),
            },
            get_import_progress: GetImportProgress {
                records: records.clone(),
            },
            note_insertion: NoteInsertion,
        },
        adapters: {
            "company registry data": registry,
            insertion_requests: requests,
            data_division: records,
        },
    })
    .interactions(interactions)
    .build()
}

/// The guards of the importer's interactions, as `importer.yml` declares
/// them: give `guards(&metadata)[REGISTRY]` to the registry's client, and
/// the whole map to [`service`], so the service's readiness, metrics and
/// drift report see the same breaker the client uses.
pub fn guards(metadata: &bisslog::schema::ServiceMetadata) -> Interactions {
    bisslog::resilience::interactions(metadata)
}
