//! The tests generated for each use case, kept in one place so that new
//! kinds of test (driving a use case through its trigger) are added here.
//!
//! Every use case gets `tests/use_cases/USE_CASE.rs`, a module of the one
//! `use_cases` test binary (one binary links faster than one per use
//! case): it runs the use case on in-memory adapters and asserts that a
//! stub answers `NotSupported`, which fails, as it should, once the body
//! is written and the test is not.

use std::collections::BTreeSet;

use bisslog_schema::{HttpTrigger, ServiceMetadata, SourcePart, TriggerKind};
use serde_json::{Value, json};

use super::domain::{MAX_WIDTH, module_list, ports_of};
use super::plan::{Plan, UseCasePlan, snake_case};

/// `tests/use_cases/main.rs`: one module per use case.
pub(crate) fn main_rs(plan: &Plan) -> String {
    let header = "//! A test module per use case, run on in-memory adapters.\n";
    module_list(
        header,
        plan.use_cases.iter().map(|u| u.module.as_str()),
        "mod",
    )
}

/// `tests/use_cases/USE_CASE.rs` for a stub.
pub(crate) fn use_case_test(crate_name: &str, plan: &Plan, use_case: &UseCasePlan) -> String {
    let lib = crate_name.replace('-', "_");
    let UseCasePlan {
        keyname,
        module,
        name,
        ..
    } = use_case;
    let (names, input) = if use_case.fields.is_empty() {
        (name.clone(), "bisslog::NoInput".to_owned())
    } else {
        (
            format!("{{{name}, {name}Input}}"),
            format!("{name}Input::default()"),
        )
    };
    let mut import = format!("use {lib}_domain::use_cases::{module}::{names};\n");
    if import.len() > MAX_WIDTH + 1 && !use_case.fields.is_empty() {
        // As rustfmt breaks a long `use`.
        import =
            format!("use {lib}_domain::use_cases::{module}::{{\n    {name}, {name}Input,\n}};\n");
    }
    let memory = if use_case.ports.is_empty() {
        ""
    } else {
        "use crate_lib::adapters::memory;\n"
    };
    let fields: Vec<String> = ports_of(plan, use_case)
        .map(|(_, port)| {
            format!(
                "        {}: memory::{}::Memory{}::default(),\n",
                port.module, port.module, port.name
            )
        })
        .collect();
    let construct = if fields.is_empty() {
        format!("{name} {{}}")
    } else {
        format!("{name} {{\n{}    }}", fields.concat())
    };
    format!(
        "//! `{keyname}` on in-memory adapters.

use bisslog::{{Ctx, ErrorKind, Trigger, UseCase, UseCaseError}};
{memory}{import}
#[tokio::test]
async fn {module}_answers_not_supported_until_written() {{
    let use_case = {construct};
    let ctx = Ctx::new({keyname:?}, Trigger::Direct);
    let input = {input};
    let outcome = use_case.run(&ctx, input).await;
    assert_eq!(
        outcome.err().map(|error| error.kind()),
        Some(ErrorKind::NotSupported),
        \"write the use case, then this test\"
    );
}}
",
    )
    .replace("crate_lib", &lib)
}

/// `tests/service.rs`: the service as the runner composes it, driven in
/// process by `bisslog::testkit` through each HTTP trigger (it must reach
/// its use case: a stub's `not-written` problem, or the stub
/// authenticator's 401), and the check that the domain crate depends on
/// `bisslog-core` alone.
pub(crate) fn service_test(crate_name: &str, service: &ServiceMetadata) -> String {
    let lib = crate_name.replace('-', "_");
    let mut out = service_test_head(&lib);
    let mut names = BTreeSet::new();
    for (keyname, use_case) in &service.use_cases {
        let module = snake_case(keyname);
        for trigger in &use_case.triggers {
            let TriggerKind::Http(http) = &trigger.kind else {
                continue;
            };
            out.push_str(&route_test(keyname, &module, http, &mut names));
        }
    }
    out
}

/// The part every `tests/service.rs` starts with (the starter's too).
pub(crate) fn service_test_head(lib: &str) -> String {
    format!(
        "//! The service as the runner composes it, driven through the triggers
//! of its metadata in process by `bisslog::testkit`: the real routes,
//! mappers and problem documents, and no socket.

use bisslog::testkit::{{TestService, assert_domain_depends_only_on_core}};

/// The service as `main` composes it (its authenticators included), on the
/// configuration's defaults (in memory) and resources private to the test.
async fn service() -> TestService {{
    bisslog::app!()
        .test_service({lib}::compose)
        .await
        .unwrap_or_else(|error| panic!(\"the service cannot be tested: {{error}}\"))
}}

#[test]
fn the_domain_depends_on_bisslog_core_alone() {{
    assert_domain_depends_only_on_core(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/domain\"));
}}
"
    )
}

/// One test: the route's request, filled as its mapper reads it, reaches
/// the use case.
fn route_test(
    keyname: &str,
    module: &str,
    http: &HttpTrigger,
    names: &mut BTreeSet<String>,
) -> String {
    let method = http.method.as_str().to_uppercase();
    let path = http.path.as_str();
    let entries = http
        .mapper
        .as_ref()
        .map(|m| m.entries.as_slice())
        .unwrap_or_default();
    let reads_context = entries.iter().any(|e| e.source.part == SourcePart::Context);
    if reads_context && http.authenticator.is_none() {
        // Nothing fills the context without an authenticator: the request
        // cannot be made complete from outside.
        return format!(
            "\n// `{method} {path}` reads the call context, which no authenticator fills: not driven here.\n"
        );
    }
    let mut uri: String = path
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    let mut query = Vec::new();
    let mut headers = Vec::new();
    let mut body: Option<Value> = None;
    for entry in entries {
        let source = &entry.source;
        match source.part {
            SourcePart::Params if !source.path.is_empty() => {
                query.push(format!("{}=x", source.path.join(".")));
            }
            SourcePart::Headers if !source.path.is_empty() => {
                headers.push(source.path.join("."));
            }
            SourcePart::Body => {
                let root = body.get_or_insert_with(|| json!({}));
                insert(root, &source.path);
            }
            _ => {}
        }
    }
    if entries.is_empty() && matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
        body = Some(json!({}));
    }
    if !query.is_empty() {
        uri = format!("{uri}?{}", query.join("&"));
    }
    let mut name = format!(
        "{}_{}_reaches_{module}",
        method.to_lowercase(),
        snake_case(path)
    );
    if !names.insert(name.clone()) {
        let mut n = 2;
        while !names.insert(format!("{name}_{n}")) {
            n += 1;
        }
        name = format!("{name}_{n}");
    }
    let mut request = format!(
        "    let request = http::Request::builder()\n        .method({method:?})\n        .uri({uri:?})\n"
    );
    for header in &headers {
        request.push_str(&format!("        .header({header:?}, \"x\")\n"));
    }
    let body_text = match &body {
        Some(value) => {
            request.push_str("        .header(\"content-type\", \"application/json\")\n");
            format!("{:?}", value.to_string())
        }
        None => "\"\"".to_owned(),
    };
    request.push_str(&format!(
        "        .body({body_text}.to_owned())\n        .unwrap_or_else(|error| panic!(\"{{error}}\"));\n"
    ));
    let (says, expect) = match &http.authenticator {
        Some(authenticator) => (
            format!("refused by the stub authenticator `{authenticator}` until it is written"),
            "    assert_eq!(answer.status(), 401, \"{}\", answer.text());\n".to_owned(),
        ),
        None => (
            format!("reaches `{keyname}`, which answers `not-written` until it is written"),
            "    let problem = answer\n        .problem()\n        .unwrap_or_else(|error| panic!(\"{error}: {}\", answer.text()));\n    assert_eq!(problem.code, \"not-written\", \"{}\", answer.text());\n".to_owned(),
        ),
    };
    format!(
        "
/// `{method} {path}`: {says}.
#[tokio::test]
async fn {name}() {{
    let kit = service().await;
{request}    let answer = kit
        .request(request)
        .await
        .unwrap_or_else(|error| panic!(\"{{error}}\"));
{expect}}}
"
    )
}

/// Puts `"x"` at `path` in `root` (`body.a.b` → `{"a": {"b": "x"}}`); an
/// empty path (the whole body) leaves the object as it is.
fn insert(root: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = root;
    for segment in parents {
        if !at.get(segment).is_some_and(Value::is_object) {
            at[segment.as_str()] = json!({});
        }
        at = &mut at[segment.as_str()];
    }
    if at.get(last).is_none() {
        at[last.as_str()] = json!("x");
    }
}
