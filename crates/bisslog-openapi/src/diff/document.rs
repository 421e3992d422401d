//! One OpenAPI document: its operations, and the references inside it.

use bisslog_schema::diff::{Change, ChangeKind};
use serde_json::{Map, Value};

use super::{DiffError, Operations, Side};

/// How many `$ref` hops are followed before a reference is taken as it is
/// (a cycle, or a chain no real document has).
const MAX_HOPS: usize = 16;

/// The HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A document checked to hold `openapi` and `paths`.
pub(super) struct Document<'a> {
    root: &'a Value,
}

impl<'a> Document<'a> {
    pub(super) fn new(root: &'a Value, side: Side) -> Result<Self, DiffError> {
        let not = |reason| DiffError::NotOpenApi { side, reason };
        let object = root.as_object().ok_or(not("it is not a JSON object"))?;
        match object.get("openapi").and_then(Value::as_str) {
            Some(version) if version.starts_with('3') => {}
            Some(_) => return Err(not("its `openapi` version is not 3.x")),
            None => return Err(not("it has no `openapi` version")),
        }
        if !object.get("paths").is_none_or(Value::is_object) {
            return Err(not("its `paths` is not an object"));
        }
        Ok(Self { root })
    }

    /// `value` with its `$ref` (a local one, `#/...`) followed.
    pub(super) fn resolve(&self, mut value: &'a Value) -> &'a Value {
        for _ in 0..MAX_HOPS {
            let Some(target) = value
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|pointer| self.root.pointer(pointer))
            else {
                return value;
            };
            value = target;
        }
        value
    }

    pub(super) fn operations(&self) -> Operations<'a> {
        let mut operations = Operations::new();
        let Some(paths) = self.root.get("paths").and_then(Value::as_object) else {
            return operations;
        };
        for (path, item) in paths {
            let item = self.resolve(item);
            let shared = item.get("parameters").and_then(Value::as_array);
            for method in METHODS {
                let Some(op) = item.get(method).filter(|op| op.is_object()) else {
                    continue;
                };
                let route = format!("{} {path}", method.to_uppercase());
                let key = format!("{} {}", method.to_uppercase(), shape(path));
                let use_case = op
                    .get("x-bisslog-use-case")
                    .or_else(|| op.get("operationId"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                operations.insert(
                    key,
                    Operation {
                        route,
                        use_case,
                        value: op,
                        shared_parameters: shared,
                    },
                );
            }
        }
        operations
    }
}

/// `/users/{id}/posts/{post}` as `/users/{}/posts/{}`.
fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_variable = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_variable = true;
                out.push('{');
            }
            '}' => {
                in_variable = false;
                out.push('}');
            }
            _ if in_variable => {}
            _ => out.push(c),
        }
    }
    out
}

/// One operation (a method on a path).
pub(super) struct Operation<'a> {
    /// `POST /users/{id}`, as the document writes the path.
    pub(super) route: String,
    pub(super) use_case: Option<String>,
    pub(super) value: &'a Value,
    /// The path item's `parameters`, shared by its operations.
    pub(super) shared_parameters: Option<&'a Vec<Value>>,
}

impl<'a> Operation<'a> {
    /// A change of this operation; `detail` locates it inside (a field, a
    /// parameter), `says` is the sentence after the route.
    pub(super) fn change(&self, kind: ChangeKind, detail: String, says: String) -> Change {
        let detail = if detail.is_empty() {
            self.route.clone()
        } else {
            format!("{}: {detail}", self.route)
        };
        let message = match &self.use_case {
            Some(use_case) => format!("use case `{use_case}`: `{}` {says}", self.route),
            None => format!("`{}` {says}", self.route),
        };
        Change::new(kind, self.use_case.as_deref(), detail, message)
    }

    /// The operation's parameters, the path item's shared ones first and
    /// replaced by the operation's own of the same name and location.
    pub(super) fn parameters(&self, doc: &Document<'a>) -> Vec<&'a Map<String, Value>> {
        let own = self.value.get("parameters").and_then(Value::as_array);
        let mut all: Vec<&'a Map<String, Value>> = Vec::new();
        for list in [self.shared_parameters, own].into_iter().flatten() {
            for parameter in list {
                let Some(parameter) = doc.resolve(parameter).as_object() else {
                    continue;
                };
                let id = identity(parameter);
                all.retain(|p| identity(p) != id);
                all.push(parameter);
            }
        }
        all
    }
}

/// A parameter's location and name.
pub(super) fn identity(parameter: &Map<String, Value>) -> (String, String) {
    let text = |key| {
        parameter
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (text("in"), text("name"))
}
