//! The company data audit service: a second, small service that consumes
//! the registry's `company_data.inserted` events (exactly once, through
//! its inbox) and serves the trail at `GET /audit/{schema_keyname}`. It has
//! its own metadata (`audit.yml`), domain and database, and talks to the
//! registry only through the broker.

pub mod adapters;

/// The domain: the `audit-domain` crate, which depends on `bisslog-core` only.
pub use audit_domain as domain;

use bisslog::core::Adapter;
use bisslog::messaging::UnitOfWork;
use bisslog::{BuildError, Service};

use domain::{AuditTrail, GetAuditTrail, RecordInsertion};

/// The audit service's metadata, built into the binary.
pub const METADATA: &str = include_str!("../../audit.yml");

/// The embedded metadata, loaded and validated.
pub fn metadata() -> Result<bisslog::schema::ServiceMetadata, Box<bisslog::schema::Report>> {
    bisslog::schema::validate_str("audit.yml", METADATA)
        .into_service()
        .map_err(Box::new)
}

/// Binds the audit use cases to `trail`, in units of work of
/// `unit_of_work` (the trail's database, which keeps the inbox).
pub fn service<T>(
    metadata: bisslog::schema::ServiceMetadata,
    trail: T,
    unit_of_work: impl UnitOfWork,
) -> Result<Service, BuildError>
where
    T: AuditTrail + Adapter + Clone,
{
    bisslog::service!("audit.yml", metadata, {
        use_cases: {
            record_insertion: RecordInsertion {
                trail: trail.clone(),
            },
            get_audit_trail: GetAuditTrail {
                trail: trail.clone(),
            },
        },
        adapters: { audit_trail: trail },
    })
    .unit_of_work(unit_of_work)
    .build()
}
