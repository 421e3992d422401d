//! Authorization: who may call a use case, from its `authorization` key.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Who may call a use case, or one HTTP or WebSocket trigger of it (a
/// trigger's own rule replaces the use case's).
///
/// Written either `authorization: public` (anyone, credentials or not) or
/// as a mapping whose requirements must all hold:
///
/// - `roles`: the caller has at least one of them (claim `roles`);
/// - `scopes`: the caller has every one of them (claim `scope` or `scp`);
/// - `owner`: the input field it names (after mapping) equals the
///   caller's `sub`.
///
/// An empty mapping requires an authenticated caller and nothing more.
/// Consumer and schedule triggers run as the service itself and are never
/// checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Authorization {
    /// `authorization: public`: no authentication and no check, even when
    /// the service authenticates every route. The lists are then empty.
    pub public: bool,
    /// Roles of which the caller needs at least one.
    pub roles: Vec<String>,
    /// Scopes the caller needs all of.
    pub scopes: Vec<String>,
    /// The input field (dots nest: `owner.id`) that must equal the
    /// caller's `sub`.
    pub owner: Option<String>,
}

impl Authorization {
    /// The `public` rule.
    pub fn public() -> Self {
        Self {
            public: true,
            ..Self::default()
        }
    }

    /// The rule in words, one sentence per requirement, names in
    /// backticks (Markdown code): what the OpenAPI document and the docs
    /// site say of who may call.
    ///
    /// ```
    /// use bisslog_schema::Authorization;
    ///
    /// let rule = Authorization { roles: vec!["schema-manager".into()], ..Authorization::default() };
    /// assert_eq!(rule.in_words(), "Requires one of the roles `schema-manager`.");
    /// assert_eq!(Authorization::default().in_words(), "Any authenticated caller.");
    /// assert_eq!(Authorization::public().in_words(), "Public: anyone, without credentials.");
    /// ```
    pub fn in_words(&self) -> String {
        if self.public {
            return "Public: anyone, without credentials.".to_owned();
        }
        let mut sentences = Vec::new();
        if !self.roles.is_empty() {
            sentences.push(format!(
                "Requires one of the roles {}.",
                code_list(&self.roles)
            ));
        }
        if !self.scopes.is_empty() {
            let noun = if self.scopes.len() == 1 {
                "the scope"
            } else {
                "all of the scopes"
            };
            sentences.push(format!("Requires {noun} {}.", code_list(&self.scopes)));
        }
        if let Some(owner) = &self.owner {
            sentences.push(format!(
                "Only the owner: the caller's `sub` must equal the input's `{owner}`."
            ));
        }
        if sentences.is_empty() {
            return "Any authenticated caller.".to_owned();
        }
        sentences.join(" ")
    }
}

/// `a`, `b`: each name in backticks, comma-separated.
fn code_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Serialize for Authorization {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.public {
            return serializer.serialize_str("public");
        }
        let mut map = serializer.serialize_map(None)?;
        if !self.roles.is_empty() {
            map.serialize_entry("roles", &self.roles)?;
        }
        if !self.scopes.is_empty() {
            map.serialize_entry("scopes", &self.scopes)?;
        }
        if let Some(owner) = &self.owner {
            map.serialize_entry("owner", owner)?;
        }
        map.end()
    }
}

impl JsonSchema for Authorization {
    fn schema_name() -> Cow<'static, str> {
        "Authorization".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut names = |description: &str| {
            let mut names = crate::json_schema::one_or_many_strings(generator).to_value();
            names["description"] = description.into();
            names
        };
        let roles = names("The caller has at least one of these roles (claim `roles`).");
        let scopes = names("The caller has all of these scopes (claim `scope` or `scp`).");
        json_schema!({
            "description": "Who may call: `public`, or requirements that must all hold (an empty mapping: any authenticated caller).",
            "anyOf": [
                {"const": "public", "description": "Anyone, with or without credentials."},
                {
                    "type": "object",
                    "properties": {
                        "roles": roles,
                        "scopes": scopes,
                        "owner": {
                            "type": "string",
                            "description": "The input field (after mapping) that must equal the caller's `sub`."
                        }
                    }
                }
            ]
        })
    }
}
