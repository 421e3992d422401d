//! The audit domain: an insertion announced by the registry, recorded once,
//! with the registry's transaction as its origin.

use std::future::Future;

use bisslog::core::{Ctx, Error, UseCase};
use serde::{Deserialize, Serialize};

/// One recorded insertion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Insertion {
    /// The schema.
    pub schema_keyname: String,
    /// The record's uid.
    pub uid: String,
    /// The registry transaction that inserted it (the consumer's parent).
    pub origin_transaction_id: Option<String>,
}

/// Where the trail is kept (`audit_trail`).
pub trait AuditTrail: Send + Sync + 'static {
    /// Appends an insertion.
    fn record(&self, insertion: &Insertion) -> impl Future<Output = Result<(), Error>> + Send;

    /// A schema's insertions, oldest first.
    fn list(
        &self,
        schema_keyname: &str,
    ) -> impl Future<Output = Result<Vec<Insertion>, Error>> + Send;
}

/// `record_insertion`: consumes `company_data.inserted`.
pub struct RecordInsertion<T> {
    /// The trail.
    pub trail: T,
}

/// What an announcement says, as `record_insertion` reads it.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct Announcement {
    /// The schema.
    pub schema_keyname: String,
    /// The record's uid.
    pub uid: String,
}

impl<T: AuditTrail> UseCase for RecordInsertion<T> {
    type Input = Announcement;
    type Output = ();
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: Announcement) -> Result<(), Error> {
        let insertion = Insertion {
            schema_keyname: input.schema_keyname,
            uid: input.uid,
            origin_transaction_id: ctx.parent_transaction_id().map(|id| id.text().into_owned()),
        };
        self.trail.record(&insertion).await?;
        ctx.checkpoint(
            "insertion-recorded",
            format!(
                "insertion of {} in `{}` recorded",
                insertion.uid, insertion.schema_keyname
            ),
        );
        Ok(())
    }
}

/// `get_audit_trail`: `GET /audit/{schema_keyname}`.
pub struct GetAuditTrail<T> {
    /// The trail.
    pub trail: T,
}

/// The input of [`GetAuditTrail`].
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TrailQuery {
    /// The schema.
    pub schema_keyname: String,
}

/// A schema's trail.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Trail {
    /// The schema.
    pub schema_keyname: String,
    /// Its insertions, oldest first.
    pub insertions: Vec<Insertion>,
}

impl<T: AuditTrail> UseCase for GetAuditTrail<T> {
    type Input = TrailQuery;
    type Output = Trail;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: TrailQuery) -> Result<Trail, Error> {
        let insertions = self.trail.list(&input.schema_keyname).await?;
        Ok(Trail {
            schema_keyname: input.schema_keyname,
            insertions,
        })
    }
}
