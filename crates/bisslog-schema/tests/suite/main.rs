//! The integration suite of `bisslog-schema`: real metadata files with
//! golden outputs, the invalid-file corpus, hostile input and property
//! tests. One binary, so the crate links once.

#![allow(clippy::unwrap_used, missing_docs)]

mod conformance;
mod consumer_timeout;
mod corpus;
mod docs;
mod golden;
mod hostile;
mod partition;
mod policy;
mod properties;
