//! The company data registry's domain: schemas with versioned JSON Schema
//! definitions, and company data validated against the current version of
//! its schema.
//!
//! This crate depends on `bisslog-core` (the contract), serde and the JSON
//! Schema validator only; it reaches storage through the ports in
//! [`ports`] and announces insertions through a `bisslog_core::Publisher`.
//! Nothing here can name a web framework, a broker or a database: the
//! crate does not depend on one, so the compiler keeps the hexagon's rule.
//! The adapters and the composition root live in the `company-data-registry`
//! crate, which depends on this one.
//!
//! # Example
//!
//! The rules run without a server or a database:
//!
//! ```
//! use bisslog_core::{ErrorKind, UseCaseError};
//! use registry_domain::RegistryError;
//! use registry_domain::validation::check_data;
//! use serde_json::json;
//!
//! let definition = json!({"type": "object", "required": ["code"]});
//! let violations = check_data(&definition, &json!({"name": "Spanish"}));
//! assert_eq!(violations[0].field, "/");
//!
//! let error = RegistryError::InvalidData("language".into(), violations);
//! assert_eq!(error.kind(), ErrorKind::Invalid);
//! assert_eq!(error.code(), "invalid-data");
//! ```

pub mod data;
pub mod error;
pub mod events;
pub mod model;
pub mod ports;
pub mod schemas;
pub mod validation;

pub use error::{RegistryError, Violation};
pub use events::CompanyDataInserted;
pub use model::{Schema, SchemaInfo, SchemaVersion};
pub use ports::{DataStore, SchemaStore};
