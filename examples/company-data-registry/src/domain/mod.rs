//! The domain: schemas with versioned JSON Schema definitions, and company
//! data validated against the current version of its schema.
//!
//! This module depends on `bisslog::core` (the contract), serde and the
//! JSON Schema validator only; it reaches storage through the ports in
//! [`ports`]. (`tests/architecture.rs` keeps it that way.)

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
