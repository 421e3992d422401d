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

/// A service whose one use case has a consumer trigger on `orders.queue`
/// with `option` (one `key: value` line, line 9 of the file, the key at
/// column 11) among its options, validated.
fn consumer_with(option: &str) -> bisslog_schema::Report {
    let yaml = format!(
        "name: orders
use_cases:
  handle:
    name: handle
    triggers:
      - type: consumer
        options:
          queue: orders.queue
          {option}
"
    );
    bisslog_schema::validate_str("metadata.yml", &yaml)
}
