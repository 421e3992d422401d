//! API keys: a built-in [`Authenticator`] for clients that hold a key.
//!
//! Each client has a name, one or more keys valid at once (to rotate one,
//! add the new key, move the client over, remove the old one) and roles.
//! Only the SHA-256 of each key is kept; a request's key is hashed and
//! compared with every stored hash in constant time.
//!
//! A request carries its key as `x-api-key: <key>` or as
//! `Authorization: ApiKey <key>`. An accepted request's context attributes
//! are `sub` (the client's name) and `roles` (an array, maybe empty).
//! Refusals answer 401 with the problem `code` `missing-api-key` or
//! `invalid-api-key` and a `detail` that says nothing of the keys.
//!
//! The file [`ApiKeys::from_file`] reads has one `client:sha256hex` line
//! per key, optionally followed by `:role,role`; blank lines and lines
//! starting with `#` are skipped. [`hash_key`] gives the hex to write.
//!
//! ```
//! use bisslog_http::api_key::{ApiKeys, hash_key};
//!
//! # fn main() -> Result<(), bisslog_http::api_key::ApiKeyError> {
//! let keys = ApiKeys::parse(&format!("importer:{}:importer\n", hash_key("k-2024")))?;
//! keys.add_key("importer", "k-2025"); // both valid until the old one is removed
//! keys.remove_hash("importer", &hash_key("k-2024"))?;
//! assert_eq!(keys.clients(), vec!["importer".to_owned()]);
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use bisslog_core::{BoxFuture, Error, TransactionId};
use http::HeaderValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Authenticator;

/// The problem `code` of a request without an API key.
pub const MISSING_API_KEY: &str = "missing-api-key";
/// The problem `code` of a request whose API key is not accepted.
pub const INVALID_API_KEY: &str = "invalid-api-key";
/// The header that carries a key (the other way is `Authorization: ApiKey <key>`).
pub const API_KEY_HEADER: &str = "x-api-key";

/// Keys longer than this are refused before hashing.
const MAX_KEY_LENGTH: usize = 1024;

/// Why API keys could not be loaded or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// The keys file could not be read.
    #[error("the API keys file {} could not be read: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of the keys file is not `client:sha256hex[:roles]`.
    #[error("line {line} of the API keys: {reason}")]
    Line {
        /// The line (1-based).
        line: usize,
        /// What is wrong (never the line's text: it may hold a key).
        reason: String,
    },
    /// A hash that is not 64 hexadecimal digits.
    #[error("an API key hash must be 64 hexadecimal digits (a SHA-256)")]
    InvalidHash,
}

struct Client {
    name: String,
    roles: Vec<String>,
    hashes: Vec<[u8; 32]>,
}

/// API keys per client; see [the module](self). Keys and roles change at
/// run time through `&self`: share it (`Arc<ApiKeys>` is an
/// [`Authenticator`] too) and keep a handle to rotate keys.
#[derive(Default)]
pub struct ApiKeys {
    clients: RwLock<Vec<Client>>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("clients", &self.clients())
            .finish_non_exhaustive()
    }
}

/// The SHA-256 of `key`, in lower-case hex: what the keys file holds.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_hash(hex: &str) -> Result<[u8; 32], ApiKeyError> {
    let hex = hex.trim().as_bytes();
    if hex.len() != 64 {
        return Err(ApiKeyError::InvalidHash);
    }
    let mut hash = [0u8; 32];
    for (byte, pair) in hash.iter_mut().zip(hex.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).map_err(|_| ApiKeyError::InvalidHash)?;
        *byte = u8::from_str_radix(text, 16).map_err(|_| ApiKeyError::InvalidHash)?;
    }
    Ok(hash)
}

impl ApiKeys {
    /// No client yet: every request is refused until keys are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys of a file of `client:sha256hex[:role,role]` lines.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ApiKeyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ApiKeyError::File {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// The keys of text in the file's format.
    pub fn parse(text: &str) -> Result<Self, ApiKeyError> {
        let keys = Self::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| ApiKeyError::Line {
                line: index + 1,
                reason: reason.to_owned(),
            };
            let mut fields = line.splitn(3, ':');
            let client = fields.next().unwrap_or_default().trim();
            if client.is_empty() {
                return Err(bad("the client name is empty"));
            }
            let hash = fields
                .next()
                .ok_or_else(|| bad("expected `client:sha256hex`"))?;
            let hash = parse_hash(hash)
                .map_err(|_| bad("the hash is not 64 hexadecimal digits (a SHA-256)"))?;
            keys.insert(client, hash);
            if let Some(roles) = fields.next() {
                let roles = roles
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned);
                let mut clients = keys.write();
                if let Some(c) = clients.iter_mut().find(|c| c.name == client) {
                    for role in roles {
                        if !c.roles.contains(&role) {
                            c.roles.push(role);
                        }
                    }
                }
            }
        }
        Ok(keys)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Client>> {
        // A panic while holding the lock leaves whole entries: keep serving.
        self.clients
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Client>> {
        self.clients
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn insert(&self, client: &str, hash: [u8; 32]) {
        let mut clients = self.write();
        match clients.iter_mut().find(|c| c.name == client) {
            Some(c) => {
                if !c.hashes.contains(&hash) {
                    c.hashes.push(hash);
                }
            }
            None => clients.push(Client {
                name: client.to_owned(),
                roles: Vec::new(),
                hashes: vec![hash],
            }),
        }
    }

    /// Accepts `key` for `client` (created if new), besides its other keys.
    pub fn add_key(&self, client: &str, key: &str) {
        self.insert(client, Sha256::digest(key.as_bytes()).into());
    }

    /// Accepts the key whose SHA-256 is `hash` (hex) for `client`.
    pub fn add_hash(&self, client: &str, hash: &str) -> Result<(), ApiKeyError> {
        self.insert(client, parse_hash(hash)?);
        Ok(())
    }

    /// Stops accepting `key` for `client`; whether it was accepted.
    pub fn remove_key(&self, client: &str, key: &str) -> bool {
        self.remove(client, Sha256::digest(key.as_bytes()).into())
    }

    /// Stops accepting the key whose SHA-256 is `hash` (hex) for
    /// `client`; whether it was accepted.
    pub fn remove_hash(&self, client: &str, hash: &str) -> Result<bool, ApiKeyError> {
        Ok(self.remove(client, parse_hash(hash)?))
    }

    fn remove(&self, client: &str, hash: [u8; 32]) -> bool {
        let mut clients = self.write();
        let Some(c) = clients.iter_mut().find(|c| c.name == client) else {
            return false;
        };
        let before = c.hashes.len();
        c.hashes.retain(|h| *h != hash);
        before != c.hashes.len()
    }

    /// Removes a client and every key of it; whether it was there.
    pub fn remove_client(&self, client: &str) -> bool {
        let mut clients = self.write();
        let before = clients.len();
        clients.retain(|c| c.name != client);
        before != clients.len()
    }

    /// The roles `client`'s requests carry (the `roles` attribute),
    /// replacing those it had; nothing if there is no such client.
    pub fn set_roles(&self, client: &str, roles: impl IntoIterator<Item = impl Into<String>>) {
        if let Some(c) = self.write().iter_mut().find(|c| c.name == client) {
            c.roles = roles.into_iter().map(Into::into).collect();
        }
    }

    /// The clients' names, in the order they were added.
    pub fn clients(&self) -> Vec<String> {
        self.read().iter().map(|c| c.name.clone()).collect()
    }

    /// The attributes of the client whose key has this hash. Every stored
    /// hash is compared, in constant time, whichever matches.
    fn find(&self, hash: &[u8; 32]) -> Option<Map<String, Value>> {
        let clients = self.read();
        let mut found = None;
        for client in clients.iter() {
            for stored in &client.hashes {
                if bool::from(stored.ct_eq(hash)) && found.is_none() {
                    found = Some(client);
                }
            }
        }
        found.map(|client| {
            let mut attributes = Map::new();
            attributes.insert("sub".into(), client.name.clone().into());
            attributes.insert(
                "roles".into(),
                Value::Array(client.roles.iter().cloned().map(Value::from).collect()),
            );
            attributes
        })
    }
}

/// The key a request carries, if any.
fn presented(request: &http::request::Parts) -> Option<&str> {
    let from_authorization = request
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("apikey").then(|| key.trim())
        });
    from_authorization.or_else(|| {
        request
            .headers
            .get(API_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    })
}

impl Authenticator for ApiKeys {
    fn authenticate<'a>(
        &'a self,
        request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<Map<String, Value>, Error>> {
        Box::pin(async move {
            let transaction_id = request
                .extensions
                .get::<TransactionId>()
                .map(ToString::to_string);
            let transaction_id = transaction_id.as_deref().unwrap_or("-");
            let Some(key) = presented(request).filter(|k| !k.is_empty()) else {
                tracing::debug!(transaction_id, "API key missing");
                return Err(Error::unauthenticated(
                    MISSING_API_KEY,
                    "an API key is required",
                ));
            };
            let accepted = (key.len() <= MAX_KEY_LENGTH)
                .then(|| self.find(&Sha256::digest(key.as_bytes()).into()))
                .flatten();
            accepted.ok_or_else(|| {
                tracing::info!(transaction_id, "API key refused");
                Error::unauthenticated(INVALID_API_KEY, "the API key is not valid")
            })
        })
    }

    fn challenge(&self, _refusal: &Error) -> Option<HeaderValue> {
        Some(HeaderValue::from_static("ApiKey"))
    }

    fn security_scheme(&self) -> Option<serde_json::Value> {
        // `Authorization: ApiKey <key>` is accepted too; OpenAPI has no
        // scheme for it, so the description says so.
        Some(serde_json::json!({
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "an API key in `x-api-key` (or `Authorization: ApiKey <key>`)",
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bisslog_core::UseCaseError as _;

    fn request(name: &str, value: &str) -> http::request::Parts {
        http::Request::get("/")
            .header(name, value)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[tokio::test]
    async fn keys_from_text_are_accepted_in_either_header_with_their_roles() {
        let text = format!(
            "# clients\n\nimporter:{}:importer, reader\nops:{}\n",
            hash_key("k1"),
            hash_key("k2")
        );
        let keys = ApiKeys::parse(&text).unwrap();
        let a = keys
            .authenticate(&request("x-api-key", "k1"))
            .await
            .unwrap();
        assert_eq!(a["sub"], "importer");
        assert_eq!(a["roles"], serde_json::json!(["importer", "reader"]));
        let a = keys
            .authenticate(&request("authorization", "ApiKey k2"))
            .await
            .unwrap();
        assert_eq!(a["sub"], "ops");
        assert_eq!(a["roles"], serde_json::json!([]));
        let refused = keys
            .authenticate(&request("authorization", "Bearer k2"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), MISSING_API_KEY);
        let refused = keys
            .authenticate(&request("x-api-key", "k3"))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), INVALID_API_KEY);
        let long = "k".repeat(MAX_KEY_LENGTH + 1);
        let refused = keys
            .authenticate(&request("x-api-key", &long))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), INVALID_API_KEY);
    }

    #[tokio::test]
    async fn keys_rotate_at_run_time() {
        let keys = ApiKeys::new();
        keys.add_key("importer", "old");
        keys.add_key("importer", "new");
        keys.set_roles("importer", ["importer"]);
        for key in ["old", "new"] {
            let a = keys.authenticate(&request("x-api-key", key)).await.unwrap();
            assert_eq!(a["roles"][0], "importer");
        }
        assert!(keys.remove_key("importer", "old"));
        assert!(!keys.remove_key("importer", "old"));
        assert!(
            keys.authenticate(&request("x-api-key", "old"))
                .await
                .is_err()
        );
        assert!(
            keys.authenticate(&request("x-api-key", "new"))
                .await
                .is_ok()
        );
        assert!(keys.remove_client("importer"));
        assert!(
            keys.authenticate(&request("x-api-key", "new"))
                .await
                .is_err()
        );
    }

    #[test]
    fn bad_lines_are_errors_that_do_not_quote_them() {
        let error = ApiKeys::parse("ok:\nsecret-key-in-the-wrong-place\n").unwrap_err();
        assert!(
            matches!(error, ApiKeyError::Line { line: 1, .. }),
            "{error}"
        );
        let error = ApiKeys::parse("secret-key-in-the-wrong-place\n").unwrap_err();
        assert!(!error.to_string().contains("secret-key"), "{error}");
        assert!(matches!(
            ApiKeys::new().add_hash("a", "zz"),
            Err(ApiKeyError::InvalidHash)
        ));
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
