//! The tests generated for each use case, kept in one place so that new
//! kinds of test (driving a use case through its trigger) are added here.
//!
//! Every use case gets `tests/use_cases/USE_CASE.rs`, a module of the one
//! `use_cases` test binary (one binary links faster than one per use
//! case): it runs the use case on in-memory adapters and asserts that a
//! stub answers `NotSupported`, which fails, as it should, once the body
//! is written and the test is not.

use super::domain::{MAX_WIDTH, module_list, ports_of};
use super::plan::{Plan, UseCasePlan};

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
