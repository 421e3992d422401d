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

/// The OAuth token endpoint did not accept the client's id and secret
/// (`invalid_client`, or a 401). Kind `ExternalAuthentication`.
pub const OAUTH_INVALID_CLIENT: &str = "oauth-invalid-client";

/// The OAuth token endpoint refused to give the client a token for
/// another reason: `unauthorized_client`, `invalid_scope`,
/// `access_denied` or a 403 (kind `ExternalAuthorization`), or a request
/// it does not accept, or an unexpected status such as a 404 (kind
/// `Configuration`).
pub const OAUTH_TOKEN_REFUSED: &str = "oauth-token-refused";

/// The OAuth token endpoint failed or is overloaded (5xx, 429). Kind
/// `Unavailable`: worth trying again.
pub const OAUTH_TOKEN_UNAVAILABLE: &str = "oauth-token-unavailable";

/// The OAuth token endpoint answered a success without a usable bearer
/// token (not JSON, no `access_token`, a `token_type` other than
/// `Bearer`). Kind `Processing`.
pub const OAUTH_BAD_TOKEN_RESPONSE: &str = "oauth-bad-token-response";
