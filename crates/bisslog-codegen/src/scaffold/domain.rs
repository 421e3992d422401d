//! The domain crate (`NAME-domain`): a module per use case with its input
//! and output types, a trait per port. It depends on `bisslog-core`,
//! serde, serde_json and schemars, never on a transport or a database.

use super::plan::{FieldType, Plan, Port, UseCasePlan};

/// `domain/src/lib.rs`.
pub(crate) fn lib_rs(crate_name: &str) -> String {
    format!(
        "//! The domain of `{crate_name}`: its use cases and the ports they reach the
//! outside through, with no framework, transport or database crate (the
//! compiler keeps the hexagon's rule: this crate depends on `bisslog-core`).

pub mod ports;
pub mod use_cases;
"
    )
}

/// `domain/src/use_cases/mod.rs`: one module per use case.
pub(crate) fn use_cases_mod(plan: &Plan) -> String {
    let header = "//! One module per use case of the metadata, named after its keyname.\n";
    module_list(
        header,
        plan.use_cases.iter().map(|u| u.module.as_str()),
        "pub mod",
    )
}

/// `domain/src/ports/mod.rs`: one module per port.
pub(crate) fn ports_mod(plan: &Plan) -> String {
    let header = "//! One module per external interaction of the metadata: the port, a
//! trait the service's adapters implement.\n";
    module_list(
        header,
        plan.ports.iter().map(|p| p.module.as_str()),
        "pub mod",
    )
}

/// `domain/src/ports/PORT.rs`: the trait, a method per operation.
pub(crate) fn port_rs(port: &Port) -> String {
    let mut out = format!("//! The `{}` port", port.keyname);
    match &port.description {
        Some(description) => out.push_str(&format!(": {}\n", one_line(description))),
        None => out.push_str(".\n"),
    }
    out.push_str(
        "//!\n//! Generated as a stub: give each operation the arguments and result it\n//! needs. Once you edit this file, `bisslog generate` leaves it alone.\n\n",
    );
    if !port.methods.is_empty() {
        out.push_str("use std::future::Future;\n\nuse bisslog_core::Error;\n\n");
    }
    out.push_str(&format!(
        "/// How the domain reaches `{}`. The service implements it in memory\n/// and in SQL (`src/adapters`).\npub trait {}: Send + Sync + 'static {{\n",
        port.keyname, port.name
    ));
    for (index, (method, operation)) in port.methods.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "    /// The `{operation}` operation.\n    fn {method}(&self) -> impl Future<Output = Result<(), Error>> + Send;\n"
        ));
    }
    out.push_str("}\n");
    out
}

/// `domain/src/use_cases/USE_CASE.rs`: input, output and a use case whose
/// body answers `NotSupported` until written.
pub(crate) fn use_case_rs(plan: &Plan, use_case: &UseCasePlan) -> String {
    let UseCasePlan {
        keyname,
        module,
        name,
        ..
    } = use_case;
    let description = use_case
        .description
        .as_deref()
        .map(one_line)
        .unwrap_or_else(|| format!("The `{keyname}` use case."));
    let mut out = format!(
        "//! `{keyname}`: {description}
//!
//! Generated as a stub by `bisslog generate`: write the body of `run` and
//! the fields of the output. Once you edit this file, `bisslog generate`
//! leaves it alone.

"
    );
    let input = if use_case.fields.is_empty() {
        out.push_str("use bisslog_core::{Ctx, Error, ErrorKind, NoInput, UseCase};\nuse serde::Serialize;\n\n");
        "NoInput".to_owned()
    } else {
        out.push_str("use bisslog_core::{Ctx, Error, ErrorKind, UseCase};\nuse serde::{Deserialize, Serialize};\n\n");
        out.push_str(&format!(
            "/// What `{keyname}` needs, as its triggers fill it.\n#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]\npub struct {name}Input {{\n"
        ));
        for field in &use_case.fields {
            let ty = match field.ty {
                FieldType::Text => "String",
                FieldType::Json => "serde_json::Value",
            };
            let ty = if field.required {
                ty.to_owned()
            } else {
                format!("Option<{ty}>")
            };
            out.push_str(&format!(
                "    /// `{}` in the request or message.\n",
                field.wire
            ));
            if field.ident != field.wire {
                out.push_str(&format!("    #[serde(rename = {:?})]\n", field.wire));
            }
            out.push_str(&format!("    pub {}: {ty},\n", field.ident));
        }
        out.push_str("}\n\n");
        format!("{name}Input")
    };
    out.push_str(&format!(
        "/// What `{keyname}` returns.\n#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]\npub struct {name}Output {{}}\n\n"
    ));
    let generics = generics(use_case);
    if use_case.ports.is_empty() {
        out.push_str(&format!("/// {description}\npub struct {name} {{}}\n\n"));
    } else {
        out.push_str(&format!(
            "/// {description}\npub struct {name}{generics} {{\n"
        ));
        for (index, port) in ports_of(plan, use_case) {
            out.push_str(&format!(
                "    /// The `{}` port.\n    pub {}: P{index},\n",
                port.keyname, port.module
            ));
        }
        out.push_str("}\n\n");
    }
    out.push_str(&format!("impl{generics} UseCase for {name}{generics}"));
    if use_case.ports.is_empty() {
        out.push_str(" {\n");
    } else {
        out.push_str("\nwhere\n");
        for (index, port) in ports_of(plan, use_case) {
            out.push_str(&format!(
                "    P{index}: crate::ports::{}::{},\n",
                port.module, port.name
            ));
        }
        out.push_str("{\n");
    }
    let one_line = format!(
        "    async fn run(&self, _ctx: &Ctx, _input: {input}) -> Result<{name}Output, Error> {{"
    );
    let signature = if one_line.len() <= MAX_WIDTH {
        one_line
    } else {
        format!(
            "    async fn run(\n        &self,\n        _ctx: &Ctx,\n        _input: {input},\n    ) -> Result<{name}Output, Error> {{"
        )
    };
    out.push_str(&format!(
        "    type Input = {input};
    type Output = {name}Output;
    type Error = Error;

{signature}
        Err(Error::new(
            ErrorKind::NotSupported,
            \"not-written\",
            \"{} is not written yet (domain/src/use_cases/{module}.rs)\",
        ))
    }}
}}
",
        keyname.escape_default()
    ));
    out
}

/// `<P1, P2>` for a use case with two ports, empty with none.
pub(crate) fn generics(use_case: &UseCasePlan) -> String {
    if use_case.ports.is_empty() {
        return String::new();
    }
    let names: Vec<String> = (1..=use_case.ports.len())
        .map(|i| format!("P{i}"))
        .collect();
    format!("<{}>", names.join(", "))
}

/// The use case's ports, numbered from 1 as its generic parameters are.
pub(crate) fn ports_of<'a>(
    plan: &'a Plan,
    use_case: &'a UseCasePlan,
) -> impl Iterator<Item = (usize, &'a Port)> + 'a {
    use_case
        .ports
        .iter()
        .enumerate()
        .map(|(i, &port)| (i + 1, &plan.ports[port]))
}

/// `header`, then a `pub mod` (or `mod`) line per module in the order
/// rustfmt keeps them (sorted), so that the file is already formatted.
pub(crate) fn module_list<'a>(
    header: &str,
    modules: impl Iterator<Item = &'a str>,
    keyword: &str,
) -> String {
    let mut modules: Vec<&str> = modules.collect();
    modules.sort_unstable();
    let mut out = header.to_owned();
    if !modules.is_empty() {
        out.push('\n');
    }
    for module in modules {
        out.push_str(&format!("{keyword} {module};\n"));
    }
    out
}

/// The longest line rustfmt keeps on one line (its default `max_width`).
pub(crate) const MAX_WIDTH: usize = 100;

/// Free text on one line, for a doc comment.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
