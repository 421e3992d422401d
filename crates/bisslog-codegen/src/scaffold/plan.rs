//! What the scaffold generates for a service, decided once from its
//! metadata: a Rust name for every use case, port, operation and input
//! field, unique where they share a namespace, in metadata order.

use std::collections::BTreeSet;

use bisslog_schema::{Mapper, ServiceMetadata, SourcePart, TriggerKind};

/// Rust's reserved words, which identifiers made from keynames avoid.
pub(crate) const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// `name` as a snake_case Rust identifier: `getUser` → `get_user`,
/// `company data` → `company_data`, `1st` → `n1st`, `type` → `type_`.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            previous_lower = false;
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        }
    }
    let mut out = out.trim_end_matches('_').to_owned();
    if out.is_empty() {
        out.push('x');
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// A snake_case identifier in PascalCase: `get_user` → `GetUser`.
pub(crate) fn pascal_of_snake(snake: &str) -> String {
    let mut out = String::new();
    for word in snake.split('_') {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, 'N');
    }
    out
}

/// Hands out identifiers unique within one namespace: the second `x` is `x_2`.
#[derive(Debug, Default)]
struct Unique(BTreeSet<String>);

impl Unique {
    fn claim(&mut self, base: String) -> String {
        let mut candidate = base.clone();
        let mut n = 1u32;
        while !self.0.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{base}_{n}");
        }
        candidate
    }
}

/// The Rust type of an input field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// Text: a path variable, a query parameter, a header, a context value.
    Text,
    /// Any JSON: a body, a message payload, an object of parameters.
    Json,
}

/// One field of a use case's input: a mapper target (its first segment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    /// The name in the request, as the mapper's target says.
    pub(crate) wire: String,
    /// The Rust field name.
    pub(crate) ident: String,
    /// Its type.
    pub(crate) ty: FieldType,
    /// Whether every trigger fills it (else it is an `Option`).
    pub(crate) required: bool,
}

/// One port: an external interaction, shared by the use cases declaring it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Port {
    /// The interaction's keyname.
    pub(crate) keyname: String,
    /// The module name (`users_division`).
    pub(crate) module: String,
    /// The trait name (`UsersDivision`).
    pub(crate) name: String,
    /// The operations, as method names, with the operation they come from.
    pub(crate) methods: Vec<(String, String)>,
    /// Free text from the metadata.
    pub(crate) description: Option<String>,
}

/// One use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UseCasePlan {
    /// The keyname.
    pub(crate) keyname: String,
    /// The module name (`register_user`).
    pub(crate) module: String,
    /// The struct name (`RegisterUser`).
    pub(crate) name: String,
    /// What it does, from the metadata.
    pub(crate) description: Option<String>,
    /// Its input's fields; empty means `NoInput`.
    pub(crate) fields: Vec<Field>,
    /// The ports it uses, as indices into [`Plan::ports`].
    pub(crate) ports: Vec<usize>,
}

/// Everything the scaffold names, for one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The use cases, in metadata order.
    pub(crate) use_cases: Vec<UseCasePlan>,
    /// The ports, in the order use cases first declare them.
    pub(crate) ports: Vec<Port>,
    /// The authenticators HTTP triggers name: the name, and its type.
    pub(crate) authenticators: Vec<(String, String)>,
}

impl Plan {
    /// The plan of `service`.
    pub(crate) fn of(service: &ServiceMetadata) -> Plan {
        let mut ports: Vec<Port> = Vec::new();
        let mut port_modules = Unique::default();
        let mut use_case_modules = Unique::default();
        let mut use_cases = Vec::new();
        let mut authenticators: Vec<(String, String)> = Vec::new();
        let mut authenticator_types = Unique::default();
        for (keyname, use_case) in &service.use_cases {
            for trigger in &use_case.triggers {
                if let TriggerKind::Http(http) = &trigger.kind
                    && let Some(name) = &http.authenticator
                    && !authenticators.iter().any(|(n, _)| n == name)
                {
                    let ident = authenticator_types.claim(snake_case(name));
                    authenticators.push((name.clone(), pascal_of_snake(&ident)));
                }
            }
            let module = use_case_modules.claim(snake_case(keyname));
            let mut used = Vec::new();
            for interaction in &use_case.external_interactions {
                let index = match ports.iter().position(|p| p.keyname == interaction.keyname) {
                    Some(index) => index,
                    None => {
                        let module = port_modules.claim(snake_case(&interaction.keyname));
                        ports.push(Port {
                            keyname: interaction.keyname.clone(),
                            name: pascal_of_snake(&module),
                            module,
                            methods: Vec::new(),
                            description: interaction.description.clone(),
                        });
                        ports.len() - 1
                    }
                };
                let port = &mut ports[index];
                for operation in &interaction.operation {
                    if !port.methods.iter().any(|(_, op)| op == operation) {
                        let mut taken =
                            Unique(port.methods.iter().map(|(m, _)| m.clone()).collect());
                        let method = taken.claim(snake_case(operation));
                        port.methods.push((method, operation.clone()));
                    }
                }
                if !used.contains(&index) {
                    used.push(index);
                }
            }
            use_cases.push(UseCasePlan {
                keyname: keyname.clone(),
                name: pascal_of_snake(&module),
                module,
                description: use_case.description.clone(),
                fields: fields(use_case.triggers.iter().map(|t| &t.kind)),
                ports: used,
            });
        }
        Plan {
            use_cases,
            ports,
            authenticators,
        }
    }
}

/// The input fields the triggers fill: each mapper target's first
/// segment; path variables for an HTTP trigger without a mapper.
fn fields<'a>(triggers: impl Iterator<Item = &'a TriggerKind>) -> Vec<Field> {
    let mut per_trigger: Vec<Vec<(String, FieldType)>> = Vec::new();
    for trigger in triggers {
        let filled = match trigger {
            TriggerKind::Http(http) => match &http.mapper {
                Some(mapper) => mapped(mapper),
                None => http
                    .path
                    .variables()
                    .map(|v| (v.to_owned(), FieldType::Text))
                    .collect(),
            },
            TriggerKind::WebSocket(ws) => ws.mapper.as_ref().map(mapped).unwrap_or_default(),
            TriggerKind::Consumer(consumer) => {
                consumer.mapper.as_ref().map(mapped).unwrap_or_default()
            }
            TriggerKind::Schedule(_) => Vec::new(),
        };
        per_trigger.push(filled);
    }
    let mut fields: Vec<Field> = Vec::new();
    let mut idents = Unique::default();
    for (wire, ty) in per_trigger.iter().flatten() {
        match fields.iter_mut().find(|f| &f.wire == wire) {
            Some(field) if field.ty != *ty => field.ty = FieldType::Json,
            Some(_) => {}
            None => fields.push(Field {
                wire: wire.clone(),
                ident: idents.claim(snake_case(wire)),
                ty: *ty,
                required: false,
            }),
        }
    }
    for field in &mut fields {
        field.required = field.ty == FieldType::Text
            && per_trigger
                .iter()
                .all(|filled| filled.iter().any(|(wire, _)| wire == &field.wire));
    }
    fields
}

fn mapped(mapper: &Mapper) -> Vec<(String, FieldType)> {
    mapper
        .entries
        .iter()
        .map(|entry| {
            let (first, nested) = match entry.target.split_once('.') {
                Some((first, _)) => (first, true),
                None => (entry.target.as_str(), false),
            };
            let text = !nested
                && match entry.source.part {
                    SourcePart::Body | SourcePart::Event => false,
                    SourcePart::Params => !entry.source.path.is_empty(),
                    _ => true,
                };
            let ty = if text {
                FieldType::Text
            } else {
                FieldType::Json
            };
            (first.to_owned(), ty)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keynames_become_snake_case_identifiers() {
        assert_eq!(snake_case("getUser"), "get_user");
        assert_eq!(snake_case("insert_company_data"), "insert_company_data");
        assert_eq!(snake_case("company data.queue"), "company_data_queue");
        assert_eq!(snake_case("1st"), "n1st");
        assert_eq!(snake_case("type"), "type_");
        assert_eq!(snake_case("ñ"), "x");
        assert_eq!(pascal_of_snake("get_user"), "GetUser");
        assert_eq!(pascal_of_snake("type_"), "Type");
    }

    #[test]
    fn targets_shared_by_every_trigger_are_required() {
        let service = bisslog_schema::validate_str(
            "metadata.yml",
            "
name: s
use_cases:
  getUser:
    triggers:
      - {type: http, options: {method: get, path: '/u/{id}', mapper: {path_query.id: id, body: data}}}
      - {type: http, options: {method: get, path: '/v/{id}'}}
    external_interactions:
      - {keyname: users, operation: [get_user, get_user]}
  get_user:
    external_interactions: [{keyname: users, operation: put}]
",
        )
        .into_service()
        .unwrap_or_else(|report| panic!("{report:?}"));
        let plan = Plan::of(&service);
        assert_eq!(plan.use_cases[0].module, "get_user");
        assert_eq!(plan.use_cases[1].module, "get_user_2");
        let fields = &plan.use_cases[0].fields;
        assert_eq!(fields[0].ident, "id");
        assert!(fields[0].required);
        assert_eq!(fields[1].ty, FieldType::Json);
        assert!(!fields[1].required);
        assert_eq!(plan.ports.len(), 1);
        let methods: Vec<&str> = plan.ports[0]
            .methods
            .iter()
            .map(|(m, _)| m.as_str())
            .collect();
        assert_eq!(methods, ["get_user", "put"]);
        assert_eq!(plan.use_cases[1].ports, [0]);
    }
}
