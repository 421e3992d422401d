//! `docs/metadata.md` stays true: every diagnostic code has a section, and
//! every example output quoted there is what the validator prints for that
//! corpus file today.

use bisslog_schema::Code;

use super::golden::tests_dir;

fn reference() -> String {
    std::fs::read_to_string(tests_dir().join("../../../docs/metadata.md")).unwrap()
}

#[test]
fn every_code_is_documented() {
    let doc = reference();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|code| code.as_str())
        .filter(|code| !doc.contains(&format!("### {code}: ")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/metadata.md has no section for {missing:?}"
    );
}

#[test]
fn quoted_outputs_match_the_corpus() {
    let doc = reference();
    let mut lines = doc.lines();
    let mut checked = 0;
    let mut stale = Vec::new();
    while let Some(line) = lines.next() {
        let Some(rest) = line.split("*Example* (`corpus/").nth(1) else {
            continue;
        };
        let file = rest.split('`').next().unwrap();
        let expected_path = tests_dir()
            .join("corpus")
            .join(file)
            .with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path).unwrap();
        lines
            .by_ref()
            .find(|l| l.trim_start() == "```text")
            .unwrap();
        let quoted: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.trim_start() != "```")
            .collect();
        let quoted = quoted.join("\n");
        if !expected.contains(&quoted) {
            stale.push(file.to_owned());
        }
        checked += 1;
    }
    assert!(checked >= Code::ALL.len(), "only {checked} examples found");
    assert!(
        stale.is_empty(),
        "docs/metadata.md quotes stale output for {stale:?}; copy it from the .expected files"
    );
}

#[test]
fn the_built_in_values_table_is_the_model_s() {
    use bisslog_schema::{BulkheadSpec, CircuitBreakerSpec, ResiliencePolicy, RetrySpec};

    let doc = reference();
    let row = |block: &str| {
        let start = format!("| `{block}` | `");
        let line = doc.lines().find(|l| l.starts_with(&start)).unwrap();
        let values = line.trim_end_matches('|').rsplit('|').next().unwrap();
        values.replace('`', "")
    };
    // Each row, read as a block, is the built-in block.
    let yaml = format!(
        "name: s\ninteraction_defaults:\n  retry: {{{}}}\n  circuit_breaker: {{{}}}\n  bulkhead: {{{}}}\nuse_cases:\n  a:\n    name: a\n",
        row("retry"),
        row("circuit_breaker"),
        row("bulkhead")
    );
    let service = bisslog_schema::load_str("metadata.yml", &yaml).unwrap();
    assert_eq!(
        service.interaction_defaults,
        Some(ResiliencePolicy {
            retry: Some(RetrySpec::BUILT_IN),
            circuit_breaker: Some(CircuitBreakerSpec::BUILT_IN),
            bulkhead: Some(BulkheadSpec::BUILT_IN),
            ..ResiliencePolicy::default()
        })
    );
}
