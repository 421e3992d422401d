//! The service crate: the binary on the runner, the composition that
//! binds an adapter to every port, and the adapters (memory and SQL).

use super::domain::{module_list, one_line, ports_of};
use super::plan::{Plan, Port};

/// `src/main.rs`.
pub(crate) fn main_rs(crate_name: &str, metadata_file: &str) -> String {
    let lib = crate_name.replace('-', "_");
    let app = if metadata_file == "metadata.yml" {
        "bisslog::app!()".to_owned()
    } else {
        format!("bisslog::app!({metadata_file:?})")
    };
    format!(
        "//! `{crate_name}` serves on PORT (8080); `{crate_name} --help` lists its commands.

#[tokio::main]
async fn main() -> std::process::ExitCode {{
    {app}.run({lib}::compose).await
}}
"
    )
}

/// `src/lib.rs`.
pub(crate) fn lib_rs(crate_name: &str) -> String {
    format!(
        "//! The `{crate_name}` service: the domain's use cases bound to adapters, as
//! the metadata declares them. `compose` is what the runner calls.

pub mod adapters;
pub mod authenticators;
mod compose;

pub use compose::{{Adapters, compose, service}};
"
    )
}

/// `src/compose.rs`: the registration of every use case and adapter.
pub(crate) fn compose_rs(crate_name: &str, plan: &Plan, metadata_file: &str) -> String {
    let domain = format!("{}_domain", crate_name.replace('-', "_"));
    let all = all_generics(plan);
    let mut out = String::from(
        "//! The composition: every use case of the metadata registered with the
//! adapters of its ports, in memory or in the SQL database the runner
//! opened from DATABASE_URL. Generated from the metadata: `bisslog generate`
//! rewrites it when a use case or an interaction is added, and `service!`
//! checks it against the metadata file when the crate compiles.

",
    );
    let app = if plan.ports.is_empty() {
        "use bisslog::app::BoxError;\n"
    } else {
        "use bisslog::app::{BoxError, Store};\n"
    };
    out.push_str(app);
    out.push_str("use bisslog::messaging::UnitOfWork;\nuse bisslog::schema::ServiceMetadata;\n");
    out.push_str("use bisslog::{BuildError, Composition, Resources, Service};\n");
    out.push_str(&format!("use {domain} as domain;\n\n"));
    match (plan.ports.is_empty(), plan.authenticators.is_empty()) {
        (true, true) => {}
        (false, true) => out.push_str("use crate::adapters::{memory, sql};\n\n"),
        (true, false) => out.push_str("use crate::authenticators;\n\n"),
        (false, false) => {
            out.push_str("use crate::adapters::{memory, sql};\nuse crate::authenticators;\n\n");
        }
    }
    out.push_str(&format!(
        "/// One adapter per external interaction of the metadata.\n#[derive(Debug, Clone)]\npub struct Adapters{all} {{"
    ));
    out.push_str(if plan.ports.is_empty() { "}\n\n" } else { "\n" });
    for (index, port) in plan.ports.iter().enumerate() {
        out.push_str(&format!(
            "    /// `{}`.\n    pub {}: P{},\n",
            port.keyname,
            port.module,
            index + 1
        ));
    }
    if !plan.ports.is_empty() {
        out.push_str("}\n\n");
    }
    out.push_str(
        "/// The service, its adapters chosen by the runner's database: SQL for
/// `sqlite://...` or `postgres://...`, memory otherwise. Every call runs
/// in a unit of work of that database (SQL adapters join its transaction).
pub async fn compose(resources: Resources) -> Result<Composition, BoxError> {
    let metadata = resources.metadata();
",
    );
    if !plan.authenticators.is_empty() {
        out.push_str("    let name = metadata.name.clone();\n");
    }
    out.push_str("    let transactions = resources.transactions();\n");
    if plan.ports.is_empty() {
        out.push_str("    let service = service(metadata, Adapters {}, transactions)?;\n");
    } else {
        out.push_str("    let service = match resources.database() {\n        Store::Sql(db) => {\n            let adapters = Adapters {\n");
        for port in &plan.ports {
            out.push_str(&format!(
                "                {}: sql::{}::Sql{}::new(db.clone()).await?,\n",
                port.module, port.module, port.name
            ));
        }
        out.push_str("            };\n            service(metadata, adapters, transactions)?\n        }\n        _ => {\n            let adapters = Adapters {\n");
        for port in &plan.ports {
            out.push_str(&format!(
                "                {}: memory::{}::Memory{}::default(),\n",
                port.module, port.module, port.name
            ));
        }
        out.push_str("            };\n            service(metadata, adapters, transactions)?\n        }\n    };\n");
    }
    if plan.authenticators.is_empty() {
        out.push_str("    Ok(service.into())\n}\n\n");
    } else {
        // The HTTP server needs the authenticators its routes name.
        out.push_str("    Ok(Composition::new(service).http(name, |server| {\n        server\n");
        for (name, ident) in &plan.authenticators {
            out.push_str(&format!(
                "            .authenticator({name:?}, authenticators::{ident})\n"
            ));
        }
        out.push_str("    }))\n}\n\n");
    }
    out.push_str(&format!(
        "/// The use cases of `metadata`, each with its ports' adapters, every\n/// call in `unit_of_work`.\npub fn service{all}(\n    metadata: ServiceMetadata,\n    {adapters}: Adapters{all},\n    unit_of_work: impl UnitOfWork,\n) -> Result<Service, BuildError>",
        // Without ports there is nothing to bind (yet).
        adapters = if plan.ports.is_empty() { "_adapters" } else { "adapters" },
    ));
    if plan.ports.is_empty() {
        out.push_str(" {\n");
    } else {
        out.push_str("\nwhere\n");
        for (index, port) in plan.ports.iter().enumerate() {
            out.push_str(&format!(
                "    P{}: domain::ports::{}::{} + bisslog::Adapter + Clone,\n",
                index + 1,
                port.module,
                port.name
            ));
        }
        out.push_str("{\n");
    }
    // `service!` checks the registrations against the metadata file when
    // the crate compiles: a use case or interaction added to the metadata
    // without `bisslog generate` is a compile error naming its line.
    out.push_str(&format!(
        "    bisslog::service!({metadata_file:?}, metadata, {{\n        use_cases: {{\n"
    ));
    for use_case in &plan.use_cases {
        let path = format!("domain::use_cases::{}::{}", use_case.module, use_case.name);
        let keyname = format!("{:?}", use_case.keyname);
        let fields: Vec<String> = ports_of(plan, use_case)
            .map(|(_, port)| format!("                {0}: adapters.{0}.clone(),\n", port.module))
            .collect();
        if fields.is_empty() {
            out.push_str(&format!("            {keyname}: {path} {{}},\n"));
        } else {
            out.push_str(&format!(
                "            {keyname}: {path} {{\n{}            }},\n",
                fields.concat()
            ));
        }
    }
    out.push_str("        },\n");
    if !plan.ports.is_empty() {
        out.push_str("        adapters: {\n");
        for port in &plan.ports {
            out.push_str(&format!(
                "            {:?}: adapters.{},\n",
                port.keyname, port.module
            ));
        }
        out.push_str("        },\n");
    }
    out.push_str("    })\n");
    out.push_str("    .unit_of_work(unit_of_work)\n    .build()\n}\n");
    out
}

/// `<P1, P2, ...>`, one per port of the service.
fn all_generics(plan: &Plan) -> String {
    if plan.ports.is_empty() {
        return String::new();
    }
    let names: Vec<String> = (1..=plan.ports.len()).map(|i| format!("P{i}")).collect();
    format!("<{}>", names.join(", "))
}

/// `src/adapters/mod.rs`.
pub(crate) fn adapters_mod() -> String {
    "//! The adapters of the domain's ports: in memory (tests, trying the
//! service without a database) and SQL (SQLite or PostgreSQL).

pub mod memory;
pub mod sql;
"
    .to_owned()
}

/// `src/adapters/memory/mod.rs` or `src/adapters/sql/mod.rs`.
pub(crate) fn kind_mod(plan: &Plan, kind: &str) -> String {
    let header = format!("//! The {kind} adapters, one module per port.\n");
    module_list(
        &header,
        plan.ports.iter().map(|p| p.module.as_str()),
        "pub mod",
    )
}

/// `src/adapters/memory/PORT.rs`: a stub answering `NotSupported`.
pub(crate) fn memory_rs(crate_name: &str, port: &Port) -> String {
    let mut out = header(
        crate_name,
        port,
        "in memory",
        "Keep its data in fields\n//! shared by clones (`Arc<Mutex<..>>`).",
    );
    out.push_str(&format!(
        "/// `{}` in memory. Clones share the same data.\n#[derive(Debug, Clone, Default)]\npub struct Memory{} {{}}\n\nimpl Adapter for Memory{} {{}}\n\n",
        port.keyname, port.name, port.name
    ));
    out.push_str(&methods(port, "Memory"));
    out
}

/// `src/adapters/sql/PORT.rs`: a stub over the service's database.
pub(crate) fn sql_rs(crate_name: &str, port: &Port) -> String {
    let mut out = header(
        crate_name,
        port,
        "in SQL",
        "Run its statements on\n//! `self.db` (`bisslog::sql`: `on_engine!`, migrations, the unit of work).",
    );
    out.push_str(&format!(
        "/// `{0}` in the service's SQL database. Clones share the pool.
#[derive(Debug, Clone)]
pub struct Sql{1} {{
    db: Database,
}}

impl Sql{1} {{
    /// On `db`, already connected (and migrated with the service's tables).
    pub async fn new(db: Database) -> Result<Self, SqlError> {{
        Ok(Self {{ db }})
    }}
}}

impl Adapter for Sql{1} {{
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {{
        self.db.ready()
    }}
}}

",
        port.keyname, port.name
    ));
    out.push_str(&methods(port, "Sql"));
    out
}

fn header(crate_name: &str, port: &Port, kind: &str, advice: &str) -> String {
    let domain = format!("{}_domain", crate_name.replace('-', "_"));
    let what = port
        .description
        .as_deref()
        .map(|d| format!(" ({})", one_line(d)))
        .unwrap_or_default();
    let errors = match (kind, port.methods.is_empty()) {
        ("in memory", true) => "use bisslog::Adapter;\n",
        ("in memory", false) => "use bisslog::{Adapter, Error, ErrorKind};\n",
        (_, true) => {
            "use bisslog::sql::{Database, SqlError};\nuse bisslog::{Adapter, BoxFuture, Error};\n"
        }
        (_, false) => {
            "use bisslog::sql::{Database, SqlError};\nuse bisslog::{Adapter, BoxFuture, Error, ErrorKind};\n"
        }
    };
    let port_use = format!("use {domain}::ports::{}::{};\n\n", port.module, port.name);
    format!(
        "//! The `{}` port{what} {kind}.
//!
//! Generated as a stub: every operation answers `NotSupported` until
//! written. {advice}
//!
//! Once you edit this file, `bisslog generate` leaves it alone.

{errors}{port_use}",
        port.keyname
    )
}

fn methods(port: &Port, prefix: &str) -> String {
    let mut out = format!("impl {} for {prefix}{} {{\n", port.name, port.name);
    if port.methods.is_empty() {
        return format!("impl {} for {prefix}{} {{}}\n", port.name, port.name);
    }
    for (index, (method, operation)) in port.methods.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "    async fn {method}(&self) -> Result<(), Error> {{
        Err(Error::new(
            ErrorKind::NotSupported,
            \"not-written\",
            \"{} is not written yet\",
        ))
    }}
",
            format!("{}.{operation}", port.keyname).escape_default()
        ));
    }
    out.push_str("}\n");
    out
}

/// `src/authenticators.rs`: one per name the HTTP triggers give, each
/// refusing every request until written.
pub(crate) fn authenticators_rs(plan: &Plan) -> String {
    let mut out = String::from(
        "//! The authenticators the HTTP triggers name (`authenticator: NAME`),
//! registered by `compose`. Each refuses every request (401) until written:
//! check the request's credentials and return the caller's attributes,
//! which mappers read as `context.<attribute>`. Once you edit this file,
//! `bisslog generate` leaves it alone.
",
    );
    if plan.authenticators.is_empty() {
        return out;
    }
    out.push_str(
        "
use bisslog::http::Authenticator;
use bisslog::{BoxFuture, Error};
use serde_json::{Map, Value};
",
    );
    for (name, ident) in &plan.authenticators {
        out.push_str(&format!(
            "
/// The `{name}` authenticator.
#[derive(Debug, Clone, Copy, Default)]
pub struct {ident};

impl Authenticator for {ident} {{
    fn authenticate<'a>(
        &'a self,
        _request: &'a http::request::Parts,
    ) -> BoxFuture<'a, Result<Map<String, Value>, Error>> {{
        Box::pin(async {{
            Err(Error::unauthenticated(
                \"not-written\",
                \"the `{}` authenticator is not written yet (src/authenticators.rs)\",
            ))
        }})
    }}
}}
",
            name.escape_default()
        ));
    }
    out
}
