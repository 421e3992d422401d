//! Authorization from the metadata: whether a caller may run a use case,
//! decided the same way for every entry point that has a caller (HTTP
//! routes, WebSocket route keys, Lambda events).
//!
//! The rule is the metadata's [`Rule`] (`authorization:` of the use case
//! or of the trigger, see
//! [`ServiceMetadata::authorization_for`](bisslog_schema::ServiceMetadata::authorization_for));
//! the caller is the attributes its authenticator returned (a JWT's claims:
//! `sub`, `roles`, `scope`/`scp`); the input is the use case's input after
//! mapping, which `owner` reads. [`decide`] gives a [`Decision`]; an entry
//! point refuses the call with [`Decision::refusal`] (401 or 403) before the
//! use case runs, and logs it with [`Decision::log`].
//!
//! | rule | caller | decision |
//! |---|---|---|
//! | `public` | anyone, or no authentication | allow |
//! | any other | no attributes (nobody authenticated) | unauthenticated (401) |
//! | `roles` | has none of them | not allowed (403) |
//! | `scopes` | lacks one of them | not allowed (403) |
//! | `owner` | `sub` differs from the input field, or either is absent | not allowed (403) |
//! | otherwise | | allow |

use std::borrow::Cow;

use bisslog_core::{Error, TransactionId};
use serde_json::{Map, Value};

use crate::mapper::Mapped;

/// An authorization rule, as the metadata declares it.
pub use bisslog_schema::Authorization as Rule;

/// The claim listing the caller's roles.
pub const ROLES_CLAIM: &str = "roles";
/// The claim listing the caller's scopes as a space-separated string
/// (RFC 8693 §4.2).
pub const SCOPE_CLAIM: &str = "scope";
/// The claim listing the caller's scopes as a list (Microsoft, Okta).
pub const SCP_CLAIM: &str = "scp";
/// The claim naming the caller (RFC 7519 §4.1.2).
pub const SUBJECT_CLAIM: &str = "sub";

/// The refusal code of a call without an authenticated caller (401).
pub const UNAUTHENTICATED: &str = "unauthenticated";
/// The refusal code of a call whose caller is not allowed (403).
pub const FORBIDDEN: &str = "forbidden";

/// What [`decide`] concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The call may run.
    Allow,
    /// The rule needs a caller and none authenticated: 401.
    Unauthenticated,
    /// The caller is known but a requirement failed: 403.
    NotAllowed(Requirement),
}

/// The requirement of a rule a caller failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// None of these roles, of which one is required.
    Roles(Vec<String>),
    /// This required scope is missing.
    Scope(String),
    /// Not the owner of the input field `owner`.
    Owner,
}

/// Decides whether the caller may run the use case. `caller` is the
/// attributes the route's authenticator returned, `None` when no
/// authenticator ran; `input` is the mapped input.
///
/// ```
/// use bisslog_runtime::authorization::{Decision, Requirement, Rule, decide};
/// use bisslog_runtime::mapper::Mapped;
///
/// let rule = Rule { roles: vec!["admin".into()], ..Rule::default() };
/// let input = Mapped::object();
/// let caller = serde_json::json!({"sub": "ana", "roles": ["reader"]});
/// assert_eq!(
///     decide(&rule, caller.as_object(), &input),
///     Decision::NotAllowed(Requirement::Roles(vec!["admin".into()]))
/// );
/// assert_eq!(decide(&rule, None, &input), Decision::Unauthenticated);
/// ```
pub fn decide(rule: &Rule, caller: Option<&Map<String, Value>>, input: &Mapped<'_>) -> Decision {
    if rule.public {
        return Decision::Allow;
    }
    let Some(caller) = caller else {
        return Decision::Unauthenticated;
    };
    if !rule.roles.is_empty() {
        let held = names(caller.get(ROLES_CLAIM));
        if !rule.roles.iter().any(|role| held.contains(&role.as_str())) {
            return Decision::NotAllowed(Requirement::Roles(rule.roles.clone()));
        }
    }
    if !rule.scopes.is_empty() {
        let mut held = names(caller.get(SCOPE_CLAIM));
        held.extend(names(caller.get(SCP_CLAIM)));
        if let Some(missing) = rule.scopes.iter().find(|s| !held.contains(&s.as_str())) {
            return Decision::NotAllowed(Requirement::Scope(missing.clone()));
        }
    }
    if let Some(owner) = &rule.owner {
        let subject = caller.get(SUBJECT_CLAIM).and_then(json_text);
        let owned = field(input, owner);
        match (subject, owned) {
            (Some(subject), Some(owned)) if subject == owned => {}
            _ => return Decision::NotAllowed(Requirement::Owner),
        }
    }
    Decision::Allow
}

/// The names a claim holds: a list of strings, or one space-separated
/// string. Anything else holds none.
fn names(claim: Option<&Value>) -> Vec<&str> {
    match claim {
        Some(Value::String(text)) => text.split_ascii_whitespace().collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A string or number as text, for comparing ids (`42` equals `"42"`).
fn json_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(text) => Some(Cow::Borrowed(text)),
        Value::Number(number) => Some(Cow::Owned(number.to_string())),
        _ => None,
    }
}

/// The text of the input field at a dotted path, when it is a string or
/// a number.
fn field<'m>(input: &'m Mapped<'_>, path: &str) -> Option<Cow<'m, str>> {
    let mut node = input;
    let mut segments = path.split('.');
    for segment in segments.by_ref() {
        match node {
            Mapped::Object(entries) => {
                node = &entries.iter().find(|(key, _)| key == segment)?.1;
            }
            _ => {
                // Raw or parsed JSON: follow the rest of the path in it.
                let json = node.to_json();
                let mut value = json.get(segment)?;
                for rest in segments {
                    value = value.get(rest)?;
                }
                return json_text(value).map(|text| Cow::Owned(text.into_owned()));
            }
        }
    }
    match node {
        Mapped::Text(text) => Some(Cow::Borrowed(text)),
        Mapped::Object(_) => None,
        other => json_text(&other.to_json()).map(|text| Cow::Owned(text.into_owned())),
    }
}

impl Decision {
    /// Whether the call may run.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// The error a refused call is answered with: kind `Unauthenticated`
    /// (401, code `unauthenticated`) or `NotAllowed` (403, code
    /// `forbidden`), with a detail naming the failed requirement from the
    /// metadata and nothing from the caller's credentials. `None` when
    /// allowed.
    pub fn refusal(&self) -> Option<Error> {
        match self {
            Decision::Allow => None,
            Decision::Unauthenticated => Some(Error::unauthenticated(
                UNAUTHENTICATED,
                "this operation requires an authenticated caller",
            )),
            Decision::NotAllowed(requirement) => {
                Some(Error::not_allowed(FORBIDDEN, requirement.detail()))
            }
        }
    }

    /// Logs the decision under the call's transaction id: DEBUG when
    /// allowed, INFO (checkpoint `authorization-refused`) when refused.
    pub fn log(&self, transaction: &TransactionId, use_case: &str) {
        let transaction_id = transaction.text();
        let transaction_id = transaction_id.as_ref();
        match self {
            Decision::Allow => tracing::debug!(
                transaction_id,
                checkpoint_id = "authorization-allowed",
                use_case,
                "caller allowed"
            ),
            Decision::Unauthenticated => tracing::info!(
                transaction_id,
                checkpoint_id = "authorization-refused",
                use_case,
                "refused: no authenticated caller"
            ),
            Decision::NotAllowed(requirement) => tracing::info!(
                transaction_id,
                checkpoint_id = "authorization-refused",
                use_case,
                "refused: {}",
                requirement.detail()
            ),
        }
    }
}

impl Requirement {
    /// What the caller lacks, in words safe to send back.
    pub fn detail(&self) -> String {
        match self {
            Requirement::Roles(roles) => {
                let roles: Vec<String> = roles.iter().map(|r| format!("`{r}`")).collect();
                format!(
                    "this operation requires one of the roles {}",
                    roles.join(", ")
                )
            }
            Requirement::Scope(scope) => format!("this operation requires the scope `{scope}`"),
            Requirement::Owner => "only the owner of this resource may call this operation".into(),
        }
    }
}

#[cfg(test)]
mod tests;
