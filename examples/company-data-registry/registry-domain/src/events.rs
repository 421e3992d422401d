//! The events the registry announces to other services.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The queue that announces inserted company data.
pub const COMPANY_DATA_INSERTED: &str = "company_data.inserted";

/// The event type of [`CompanyDataInserted`].
pub const COMPANY_DATA_INSERTED_TYPE: &str = "company_data_inserted";

/// A record was inserted (by HTTP or from the insertion queue). Its key is
/// the schema, so a schema's insertions are announced in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyDataInserted {
    /// The schema the record belongs to.
    pub schema_keyname: String,
    /// The record's uid.
    pub uid: String,
    /// The record.
    pub data: Value,
}
