//! The error codes of failures the client finds itself, for adapters that
//! handle one of them (`error.code() == codes::CONNECT_FAILED`).
//!
//! An answer that is not a success has the code of its problem document
//! (`schema-not-found`), or `http-<status>` (`http-503`) when it has none.

/// The service could not be reached (refused, no route, unknown host):
/// nothing was sent. Kind `Connection`.
pub const CONNECT_FAILED: &str = "http-connect-failed";

/// The service did not answer within the client's
/// [timeout](crate::ServiceClientBuilder::timeout). Kind `Timeout`.
pub const TIMEOUT: &str = "http-timeout";

/// The connection failed after the request was sent (reset, closed
/// mid-answer). Kind `Connection`.
pub const TRANSPORT_FAILED: &str = "http-transport-failed";

/// The request could not be made: its URL is not valid (kind
/// `Configuration`) or its body could not be written as JSON (kind
/// `Internal`). Nothing was sent.
pub const INVALID_REQUEST: &str = "http-invalid-request";

/// The answer's body is larger than the client
/// [accepts](crate::ServiceClientBuilder::max_body_bytes). Kind
/// `InvalidData`.
pub const BODY_TOO_LARGE: &str = "http-body-too-large";

/// A success whose body is not the JSON expected. Kind `InvalidData`.
pub const UNEXPECTED_BODY: &str = "http-unexpected-body";
