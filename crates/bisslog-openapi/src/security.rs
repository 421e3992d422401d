//! Who may call each operation: the security schemes of the
//! authenticators that guard routes, each operation's `security`
//! requirement, and its authorization rule in words and as
//! `x-bisslog-authorization`.

use std::collections::{BTreeMap, BTreeSet};

use bisslog_schema::{Authorization, ServiceMetadata};
use serde_json::{Map, Value, json};

use crate::api_doc::safe_id;

/// How a server guards its routes, for the document's `security`: what
/// [`typed_document`](crate::typed_document) documents when
/// [`Typed::authentication`](crate::Typed::authentication) is set
/// (`bisslog-http` fills it from the authenticators it registered).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Authentication {
    /// The Security Scheme Object of each authenticator, by the name it
    /// is registered under. An authenticator missing here is documented
    /// with [`undescribed_scheme`].
    pub schemes: BTreeMap<String, Value>,
    /// The authenticator that guards every route naming none of its own
    /// (`HttpServerBuilder::authenticate_all_with`).
    pub default: Option<String>,
}

impl Authentication {
    /// What the metadata alone says: the authenticators its routes name,
    /// each an [`undescribed_scheme`] (the metadata names an
    /// authenticator, the code decides what it checks), and no default.
    pub fn from_metadata(service: &ServiceMetadata) -> Self {
        let schemes = service
            .use_cases
            .values()
            .flat_map(|use_case| use_case.http_triggers())
            .filter_map(|http| http.authenticator.as_deref())
            .map(|name| (name.to_owned(), undescribed_scheme(name)))
            .collect();
        Self {
            schemes,
            default: None,
        }
    }

    /// The scheme of the authenticator `name`.
    fn scheme(&self, name: &str) -> Value {
        self.schemes
            .get(name)
            .cloned()
            .unwrap_or_else(|| undescribed_scheme(name))
    }
}

/// The Security Scheme Object of an authenticator whose scheme nothing
/// describes (the metadata only names it, or a service's own
/// authenticator does not say): a bearer token in `Authorization`, the
/// most common case, saying that it is assumed.
///
/// ```
/// let scheme = bisslog_openapi::undescribed_scheme("staff");
/// assert_eq!(scheme["type"], "http");
/// assert_eq!(scheme["scheme"], "bearer");
/// ```
pub fn undescribed_scheme(name: &str) -> Value {
    json!({
        "type": "http",
        "scheme": "bearer",
        "description": format!(
            "the credentials the `{name}` authenticator checks; nothing describes its scheme, so it is documented as a bearer token"
        ),
    })
}

/// Who guards one route and by which rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Guard<'a> {
    /// The authenticator that runs on the route: its own, else the
    /// server's default.
    pub(crate) authenticator: Option<&'a str>,
    /// The trigger's rule, else the use case's.
    pub(crate) rule: Option<&'a Authorization>,
}

impl<'a> Guard<'a> {
    /// The guard of one route of the service.
    pub(crate) fn of(
        route_authenticator: Option<&'a str>,
        rule: Option<&'a Authorization>,
        authentication: &'a Authentication,
    ) -> Self {
        Self {
            authenticator: route_authenticator.or(authentication.default.as_deref()),
            rule,
        }
    }

    /// Whether the route is public (no authentication even when an
    /// authenticator guards it).
    fn public(&self) -> bool {
        self.rule.is_some_and(|rule| rule.public)
    }

    /// The authenticator that actually checks callers: none on a public
    /// route.
    pub(crate) fn checking(&self) -> Option<&'a str> {
        self.authenticator.filter(|_| !self.public())
    }
}

/// The security schemes the operations require, by component key.
#[derive(Debug, Default)]
pub(crate) struct UsedSchemes {
    schemes: BTreeMap<String, Value>,
    keys: BTreeSet<String>,
}

impl UsedSchemes {
    /// The component key of the authenticator `name`, recording its scheme.
    fn claim(&mut self, name: &str, authentication: &Authentication) -> String {
        let key = safe_id(name);
        if self.keys.insert(key.clone()) {
            self.schemes
                .insert(key.clone(), authentication.scheme(name));
        }
        key
    }

    /// `components.securitySchemes`, when any operation requires one.
    pub(crate) fn into_components(self) -> Option<Value> {
        (!self.schemes.is_empty()).then(|| Value::Object(self.schemes.into_iter().collect()))
    }
}

/// Adds the operation's `security` and `x-bisslog-authorization`.
pub(crate) fn apply(
    op: &mut Map<String, Value>,
    guard: Guard<'_>,
    authentication: &Authentication,
    used: &mut UsedSchemes,
) {
    match (guard.checking(), guard.authenticator) {
        (Some(name), _) => {
            let key = used.claim(name, authentication);
            // Scopes are all required, as the names of a requirement are;
            // roles are any-of, so they stay in the extension.
            let scopes = guard
                .rule
                .map(|rule| rule.scopes.clone())
                .unwrap_or_default();
            op.insert("security".into(), json!([{ key: scopes }]));
        }
        // A public route the server would otherwise guard.
        (None, Some(_)) => {
            op.insert("security".into(), json!([]));
        }
        (None, None) => {}
    }
    if let Some(rule) = guard.rule {
        op.insert(
            "x-bisslog-authorization".into(),
            serde_json::to_value(rule).unwrap_or(Value::Null),
        );
    }
}

/// The operation's description: the use case's, then who may call when
/// the route has a rule.
pub(crate) fn description(use_case: Option<&str>, guard: Guard<'_>) -> Option<String> {
    let Some(rule) = guard.rule else {
        return use_case.map(str::to_owned);
    };
    let mut words = format!("Who may call: {}", rule.in_words());
    if !rule.public && guard.authenticator.is_none() {
        words.push_str(
            " (Checked only where an authenticator guards the route: none does in this document.)",
        );
    }
    Some(match use_case {
        Some(before) => format!("{before}\n\n{words}"),
        None => words,
    })
}
