//! HTTP triggers.

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use super::authorization::Authorization;
use super::mapper::Mapper;

/// The options of an `http` trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct HttpTrigger {
    /// The HTTP method; `GET` when not given.
    #[schemars(default)]
    pub method: Method,
    /// The route, with `{name}` path variables.
    pub path: HttpPath,
    /// Which request parts fill which arguments; `None` means the
    /// runtime's default mapping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapper: Option<Mapper>,
    /// The name of the authenticator the service registers for this route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticator: Option<String>,
    /// Who may call this route, replacing the use case's `authorization`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// The API gateway the route belongs to (`public`, `internal`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apigw: Option<String>,
    /// Whether responses may be cached (GET only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(default)]
    pub cacheable: bool,
    /// Whether browsers from other origins may call the route.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schemars(default)]
    pub allow_cors: bool,
    /// The origins allowed when `allow_cors` is set; empty means any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(default, schema_with = "crate::json_schema::origins")]
    pub allowed_origins: Vec<String>,
    /// The request media type the route expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The request timeout in milliseconds.
    #[serde(rename = "timeout", skip_serializing_if = "Option::is_none")]
    #[schemars(default, schema_with = "crate::json_schema::positive_integer")]
    pub timeout_ms: Option<u64>,
    /// The most requests the route accepts per period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// A named retry policy, for the gateway in front of the service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<String>,
}

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Method {
    /// GET, the default.
    #[default]
    Get,
    /// HEAD.
    Head,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
    /// CONNECT.
    Connect,
    /// OPTIONS.
    Options,
    /// TRACE.
    Trace,
    /// PATCH.
    Patch,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 9] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Connect,
        Method::Options,
        Method::Trace,
        Method::Patch,
    ];

    /// The upper-case name (`GET`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
        }
    }

    /// The method with this name, in any case.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Method {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A route such as `/company/data/{schema_keyname}`: it starts with `/`,
/// and each `{name}` segment is a path variable (`{name+}`, last, matches
/// the rest of the path, as in API Gateway).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct HttpPath(#[schemars(regex(pattern = "^/"))] String);

impl HttpPath {
    /// Checks and wraps a path. The error says what is wrong and the byte
    /// offset of the offending character.
    pub fn parse(path: &str) -> Result<Self, (usize, String)> {
        if !path.starts_with('/') {
            return Err((0, "a path must start with `/`".to_owned()));
        }
        let mut names: Vec<&str> = Vec::new();
        let mut offset = 0;
        let segments: Vec<&str> = path.split('/').collect();
        for (index, segment) in segments.iter().enumerate() {
            let at = offset;
            offset += segment.len() + 1;
            if let Some(bad) = segment.find(|c: char| c.is_whitespace() || c == '?' || c == '#') {
                return Err((
                    at + bad,
                    format!("a path cannot contain {:?}", &segment[bad..=bad]),
                ));
            }
            let opens = segment.matches('{').count();
            let closes = segment.matches('}').count();
            if opens == 0 && closes == 0 {
                continue;
            }
            let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                return Err((
                    at,
                    format!("`{segment}`: a path variable must be a whole segment, like `{{id}}`"),
                ));
            };
            let (name, greedy) = match inner.strip_suffix('+') {
                Some(name) => (name, true),
                None => (inner, false),
            };
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err((
                    at,
                    format!(
                        "`{segment}` is not a valid path variable; use letters, digits, `_` and `-`"
                    ),
                ));
            }
            if greedy && index + 1 != segments.len() {
                return Err((
                    at,
                    format!("the greedy variable `{segment}` must be the last segment"),
                ));
            }
            if names.contains(&name) {
                return Err((at, format!("the path variable `{name}` appears twice")));
            }
            names.push(name);
        }
        Ok(HttpPath(path.to_owned()))
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The names of the path variables, in order (without braces or `+`).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter_map(|segment| {
            let inner = segment.strip_prefix('{')?.strip_suffix('}')?;
            Some(inner.strip_suffix('+').unwrap_or(inner))
        })
    }

    /// The path with every variable replaced by `{}`: two routes with the
    /// same shape match the same requests (`/a/{x}` and `/a/{y}`).
    pub fn shape(&self) -> String {
        self.0
            .split('/')
            .map(|segment| match segment.strip_prefix('{') {
                Some(inner) if inner.ends_with("+}") => "{+}",
                Some(_) => "{}",
                None => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl std::fmt::Display for HttpPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rate limit such as `100r/s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// How many requests.
    pub requests: u32,
    /// Per which period.
    pub per: RatePeriod,
}

/// The period of a [`RateLimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RatePeriod {
    /// `r/s`.
    Second,
    /// `r/m`.
    Minute,
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per {
            RatePeriod::Second => 's',
            RatePeriod::Minute => 'm',
        };
        write!(f, "{}r/{unit}", self.requests)
    }
}

impl Serialize for RateLimit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_their_shapes() {
        let path = HttpPath::parse("/a/{x}/b/{rest+}").map_err(|e| e.1);
        let path = path.as_ref().map(HttpPath::shape);
        assert_eq!(path.as_deref(), Ok("/a/{}/b/{+}"));
        let vars: Vec<String> = HttpPath::parse("/u/{user_id}/{k}")
            .map(|p| p.variables().map(str::to_owned).collect())
            .unwrap_or_default();
        assert_eq!(vars, ["user_id", "k"]);
    }

    #[test]
    fn bad_paths_say_where() {
        assert_eq!(HttpPath::parse("a").map_err(|e| e.0), Err(0));
        assert_eq!(HttpPath::parse("/a/b{x}").map_err(|e| e.0), Err(3));
        assert_eq!(HttpPath::parse("/a/{x}/{x}").map_err(|e| e.0), Err(7));
        assert_eq!(HttpPath::parse("/{p+}/x").map_err(|e| e.0), Err(1));
        assert_eq!(HttpPath::parse("/a b").map_err(|e| e.0), Err(2));
        assert!(HttpPath::parse("/").is_ok());
    }
}
