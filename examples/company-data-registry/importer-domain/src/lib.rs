//! The company data importer's domain: a batch of records becomes one
//! insertion request per record on the registry's insertion queue.
//!
//! This crate depends on `bisslog-core` (the contract) and serde only; it
//! asks the registry through the [`RegistrySchemas`] and
//! [`RegistryRecords`] ports and queues requests through a
//! `bisslog_core::Publisher`. The adapters (the registry's HTTP API, its
//! database) and the composition root live in the `company-data-registry`
//! crate.
//!
//! # Example
//!
//! ```
//! use bisslog_core::{Ctx, Error, Trigger, UseCase};
//! use bisslog_testkit::RecordingPublisher;
//! use importer_domain::{INSERTION_REQUESTS, ImportCompanyData, ImportInput, RegistrySchemas};
//! use serde_json::json;
//!
//! /// A registry that has every schema.
//! struct Everything;
//!
//! impl RegistrySchemas for Everything {
//!     async fn schema_exists(&self, _: &str) -> Result<bool, Error> {
//!         Ok(true)
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let requests = RecordingPublisher::new();
//! let import = ImportCompanyData { registry: Everything, requests: requests.clone() };
//! let input = ImportInput {
//!     schema_keyname: "language".into(),
//!     records: vec![json!({"code": "es"}), json!({"code": "en"})],
//! };
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//! let accepted = runtime.block_on(import.run(&Ctx::new("import", Trigger::Direct), input))?;
//! assert_eq!(accepted.requested, 2);
//! assert_eq!(requests.published()[1].queue, INSERTION_REQUESTS);
//! # Ok(())
//! # }
//! ```

use std::future::Future;

use bisslog_core::{Completion, Ctx, Error, Event, Publisher, UseCase};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The registry's insertion queue (`insertion_requests` publishes to it).
pub const INSERTION_REQUESTS: &str = "company_data_insertion.queue";

/// The event type of an insertion request.
pub const INSERTION_REQUESTED_TYPE: &str = "company_data_insertion_requested";

/// The most records one import may carry.
pub const MAX_RECORDS: usize = 1_000;

/// The registry's schemas, asked over its HTTP API (`company registry
/// data`, an `external_system` interaction named after the service).
pub trait RegistrySchemas: Send + Sync + 'static {
    /// Whether the registry has a schema `schema_keyname`.
    fn schema_exists(
        &self,
        schema_keyname: &str,
    ) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// The registry's records, as the importer reads them (`data_division`:
/// the registry's database, shared on purpose to show the smell).
pub trait RegistryRecords: Send + Sync + 'static {
    /// How many records of `schema_keyname` the registry holds.
    fn count(&self, schema_keyname: &str) -> impl Future<Output = Result<u64, Error>> + Send;
}

/// `import_company_data`: `POST /imports/{schema_keyname}`.
pub struct ImportCompanyData<S, P> {
    /// The registry, asked whether the schema exists.
    pub registry: S,
    /// Where insertion requests go (`insertion_requests`).
    pub requests: P,
}

/// The input of [`ImportCompanyData`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ImportInput {
    /// The schema every record belongs to.
    pub schema_keyname: String,
    /// The records, each a JSON object.
    pub records: Vec<Value>,
}

/// An accepted import: the registry inserts its records later, each on its
/// own (a record its schema refuses lands in the registry's dead-letter
/// queue).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ImportAccepted {
    /// This import's id: the transaction of the import call, which every
    /// request carries as its parent.
    pub import_id: String,
    /// The schema.
    pub schema_keyname: String,
    /// How many insertion requests were queued.
    pub requested: usize,
}

impl<S: RegistrySchemas, P: Publisher> UseCase for ImportCompanyData<S, P> {
    type Input = ImportInput;
    type Output = ImportAccepted;
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: ImportInput) -> Result<ImportAccepted, Error> {
        check(&input)?;
        if !self.registry.schema_exists(&input.schema_keyname).await? {
            return Err(Error::not_found(
                "schema-not-found",
                format!("the registry has no schema `{}`", input.schema_keyname),
            ));
        }
        let import_id = ctx.transaction_id().text().into_owned();
        for record in &input.records {
            let request = json!({"schema_keyname": input.schema_keyname, "body": record});
            // Keyed by schema, like the registry's own events, so one
            // schema's requests keep their order.
            let event = Event::json(&request)?
                .with_key(&input.schema_keyname)
                .with_type(INSERTION_REQUESTED_TYPE);
            self.requests.publish(INSERTION_REQUESTS, event).await?;
        }
        ctx.checkpoint(
            "import-queued",
            format!(
                "{} insertion requests for `{}` queued",
                input.records.len(),
                input.schema_keyname
            ),
        );
        Ok(ImportAccepted {
            import_id,
            schema_keyname: input.schema_keyname,
            requested: input.records.len(),
        })
    }

    const COMPLETION: Completion = Completion::Accepted;
}

/// Refuses an empty or oversized batch and records that are not objects,
/// before anything is queued.
fn check(input: &ImportInput) -> Result<(), Error> {
    if input.schema_keyname.trim().is_empty() {
        return Err(Error::invalid(
            "empty-schema",
            "the schema keyname is empty",
        ));
    }
    if input.records.is_empty() {
        return Err(Error::invalid("empty-import", "the import has no records"));
    }
    if input.records.len() > MAX_RECORDS {
        return Err(Error::invalid(
            "import-too-large",
            format!(
                "an import carries at most {MAX_RECORDS} records, not {}",
                input.records.len()
            ),
        ));
    }
    if let Some(position) = input.records.iter().position(|r| !r.is_object()) {
        return Err(Error::invalid(
            "record-not-an-object",
            format!("record {position} is not a JSON object"),
        ));
    }
    Ok(())
}

/// `get_import_progress`: `GET /imports/{schema_keyname}/progress`.
pub struct GetImportProgress<R> {
    /// The registry's records (`data_division`).
    pub records: R,
}

/// The input of [`GetImportProgress`].
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ProgressQuery {
    /// The schema.
    pub schema_keyname: String,
}

/// How far the registry has got.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Progress {
    /// The schema.
    pub schema_keyname: String,
    /// How many records of it the registry holds.
    pub records_in_registry: u64,
}

impl<R: RegistryRecords> UseCase for GetImportProgress<R> {
    type Input = ProgressQuery;
    type Output = Progress;
    type Error = Error;

    async fn run(&self, _: &Ctx, input: ProgressQuery) -> Result<Progress, Error> {
        let records_in_registry = self.records.count(&input.schema_keyname).await?;
        Ok(Progress {
            schema_keyname: input.schema_keyname,
            records_in_registry,
        })
    }
}

/// `note_insertion`: consumes the registry's `company_data.inserted`
/// events, the second subscriber of that event queue (the audit service is
/// the first): each insertion the registry announces is noted in the
/// importer's log, so an operator following an import sees its records
/// land.
pub struct NoteInsertion;

/// What an insertion announcement says, as `note_insertion` reads it.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct InsertionNotice {
    /// The schema.
    pub schema_keyname: String,
    /// The record's uid.
    pub uid: String,
}

impl UseCase for NoteInsertion {
    type Input = InsertionNotice;
    type Output = ();
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: InsertionNotice) -> Result<(), Error> {
        ctx.checkpoint(
            "insertion-noticed",
            format!(
                "insertion of {} in `{}` noticed",
                input.uid, input.schema_keyname
            ),
        );
        Ok(())
    }
}
