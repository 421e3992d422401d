//! The invalid-file corpus: `tests/corpus/NNN-CODE-what.{yml,json}`, each
//! with exactly one problem, whose code is in the file name, and a golden
//! rendering next to it (`.expected`). A first line `# limits: key=value`
//! tightens a [`Limits`] field for that file.

use std::collections::BTreeSet;
use std::path::PathBuf;

use bisslog_schema::{Code, Limits, Loader};

use super::golden::{assert_golden, render, tests_dir, validate_with};

struct Fixture {
    path: PathBuf,
    relative: String,
    code: Code,
}

fn fixtures() -> Vec<Fixture> {
    let dir = tests_dir().join("corpus");
    let mut fixtures: Vec<Fixture> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml" || e == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let code = name.split('-').nth(1).unwrap().parse().unwrap();
            Fixture {
                relative: format!("corpus/{name}"),
                path,
                code,
            }
        })
        .collect();
    fixtures.sort_by(|a, b| a.relative.cmp(&b.relative));
    fixtures
}

fn limits_for(bytes: &[u8]) -> Limits {
    let mut limits = Limits::default();
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    if let Some(spec) = std::str::from_utf8(first)
        .ok()
        .and_then(|l| l.strip_prefix("# limits: "))
    {
        for setting in spec.split(',') {
            let (key, value) = setting.trim().split_once('=').unwrap();
            let value: usize = value.parse().unwrap();
            match key {
                "max_file_bytes" => limits.max_file_bytes = value,
                "max_depth" => limits.max_depth = value,
                "max_nodes" => limits.max_nodes = value,
                other => panic!("unknown limit {other}"),
            }
        }
    }
    limits
}

#[test]
fn each_fixture_has_exactly_its_one_problem() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 60,
        "the corpus has {} files",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let bytes = std::fs::read(&fixture.path).unwrap();
        let report = validate_with(Loader::new().limits(limits_for(&bytes)), &fixture.relative);
        let codes: Vec<Code> = report.diagnostics().iter().map(|d| d.code).collect();
        if codes != [fixture.code] {
            failures.push(format!(
                "{}: expected [{}], found {codes:?}",
                fixture.relative, fixture.code
            ));
            continue;
        }
        let golden = fixture.path.with_extension("expected");
        assert_golden(&golden, &render(&report));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_code_has_a_fixture() {
    let covered: BTreeSet<Code> = fixtures().iter().map(|f| f.code).collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| !covered.contains(code))
        .map(|code| code.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a corpus file: {missing:?}"
    );
}
