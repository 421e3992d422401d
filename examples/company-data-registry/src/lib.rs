//! The company data registry: the reference service of the bisslog
//! articles, in Rust.
//!
//! Clients register *schemas* (a keyname, a name, a description and a JSON
//! Schema definition, versioned), then insert, query, update and delete
//! company data that must match the current definition of its schema.
//!
//! - [`domain`]: the use cases and their ports, the `registry-domain`
//!   crate re-exported; it depends on `bisslog-core` only, so it cannot
//!   reach infrastructure.
//! - [`adapters`]: the ports over memory, SQLite and PostgreSQL.
//! - [`service`]: the composition root, binding use cases and adapters to
//!   the metadata in `metadata.yml`.
//! - [`compose`]: what the runner (`bisslog::App`) calls to build the
//!   services of a process from the resources of the configuration.
//! - [`audit`]: a second, small service that consumes the registry's
//!   `company_data.inserted` events and keeps an audit trail.
//! - [`importer`]: a third, small service that turns batches of records
//!   into insertion requests on the registry's queue, and reads the
//!   registry's database directly (a deliberate shared database).
//!
//! Each service's domain is a crate of its own (`registry-domain`,
//! `audit-domain`, `importer-domain`); this crate holds what binds them to
//! the outside: adapters, composition roots, binaries.

pub mod adapters;
pub mod audit;
pub mod compose;
pub mod importer;

use bisslog::core::{Adapter, Publisher};
use bisslog::messaging::UnitOfWork;
use bisslog::{BuildError, Service};
pub use registry_domain as domain;

use domain::data::{DeleteCompanyData, GetCompanyData, InsertCompanyData, UpdateCompanyData};
use domain::ports::{DataStore, SchemaStore};
use domain::schemas::{
    ChangeCurrentSchemaVersion, CreateSchema, DeleteInactiveSchemaVersions, DeleteSchema,
    DeleteSchemaVersion, GetAllSchemas, UpdateSchemaDefinition, UpdateSchemaMetadata,
};

/// The service's metadata, built into the binary so code and metadata
/// ship together.
pub const METADATA: &str = include_str!("../metadata.yml");

/// The embedded metadata, loaded and validated.
pub fn metadata() -> Result<bisslog::schema::ServiceMetadata, Box<bisslog::schema::Report>> {
    bisslog::schema::validate_str("metadata.yml", METADATA)
        .into_service()
        .map_err(Box::new)
}

/// Binds every use case of the metadata to `store`, which backs both the
/// `schema_division` and the `data_division` interactions, and to
/// `events` (`company_data_events`); every call runs in a unit of work of
/// `unit_of_work` (the SQL database: the store's writes and the outbox's
/// events commit together; or a `MemoryInbox` with the memory store).
pub fn service<S, P>(
    metadata: bisslog::schema::ServiceMetadata,
    store: S,
    events: P,
    unit_of_work: impl UnitOfWork,
) -> Result<Service, BuildError>
where
    S: SchemaStore + DataStore + Adapter + Clone,
    P: Publisher + Adapter + Clone,
{
    let s = || store.clone();
    bisslog::service!("metadata.yml", metadata, {
        use_cases: {
            create_schema: CreateSchema { schemas: s() },
            get_all_schemas: GetAllSchemas { schemas: s() },
            update_schema_metadata: UpdateSchemaMetadata { schemas: s() },
            update_schema_definition: UpdateSchemaDefinition { schemas: s() },
            change_current_schema_def_version: ChangeCurrentSchemaVersion { schemas: s() },
            delete_schema: DeleteSchema { schemas: s() },
            delete_schema_version: DeleteSchemaVersion { schemas: s() },
            delete_all_inactive_schema_version: DeleteInactiveSchemaVersions { schemas: s() },
            insert_company_data: InsertCompanyData {
                schemas: s(),
                data: s(),
                events: events.clone(),
            },
            update_company_data: UpdateCompanyData {
                schemas: s(),
                data: s(),
            },
            get_company_data: GetCompanyData {
                schemas: s(),
                data: s(),
            },
            delete_company_data: DeleteCompanyData { data: s() },
        },
        adapters: {
            schema_division: s(),
            data_division: s(),
            company_data_events: events,
        },
    })
    .unit_of_work(unit_of_work)
    .build()
}

/// The registry as an AWS Lambda function builds it, once per cold start
/// (the bootstrap crate that `bisslog lambda generate --setup
/// company_data_registry::lambda_service` writes calls it before serving
/// any invocation).
///
/// `DATABASE_URL` names the database (`memory` when unset: nothing is
/// kept across environments; use PostgreSQL). `BROKER_URL` names the
/// broker its `company_data.inserted` events go to; with a SQL database
/// they go through the outbox, relayed by a task of the environment.
/// The audit service and the importer are not part of the function.
pub async fn lambda_service() -> Result<Service, bisslog::app::BoxError> {
    bisslog::app!()
        .defaults(bisslog::app::Settings::default())
        .lambda(compose::registry_alone)
        .await
}
