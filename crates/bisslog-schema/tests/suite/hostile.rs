//! Hostile input never panics or hangs: it gets a located diagnostic.

use bisslog_schema::{Code, Limits, Loader, Position, validate_str};

fn codes(text: &str) -> Vec<Code> {
    validate_str("hostile.yml", text)
        .diagnostics()
        .iter()
        .map(|d| d.code)
        .collect()
}

const VALID: &str = "name: svc\nuse_cases:\n  getThing:\n    name: get thing\n    triggers:\n      - type: http\n        options:\n          method: get\n          path: /things/{id}\n";

#[test]
fn crlf_line_endings_load_with_the_same_positions() {
    let crlf = VALID
        .replace('\n', "\r\n")
        .replace("method: get", "method: got");
    let report = validate_str("crlf.yml", &crlf);
    let problem = &report.diagnostics()[0];
    assert_eq!(problem.code, Code::InvalidHttpMethod);
    assert_eq!(problem.span.start, Position::new(8, 19));
    assert_eq!(report.source().line(8), Some("          method: got"));
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let report = validate_str("bom.yml", &format!("\u{feff}{VALID}"));
    assert_eq!(report.diagnostics(), []);
    let json = format!(
        "\u{feff}{}",
        r#"{"name": "svc", "use_cases": {"a": {"name": "a"}}}"#
    );
    assert_eq!(validate_str("bom.json", &json).diagnostics(), []);
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused_at_the_limit() {
    for text in [
        format!(
            "name: svc\nx-deep: {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
        format!(
            "name: svc\nx-deep: {}{}\n",
            "{a: ".repeat(10_000),
            "}".repeat(10_000)
        ),
        format!(
            "{{\"name\": \"svc\", \"x\": {}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
    ] {
        let path = if text.starts_with('{') {
            "deep.json"
        } else {
            "deep.yml"
        };
        let report = validate_str(path, &text);
        assert_eq!(report.diagnostics().len(), 1, "{:?}", report.diagnostics());
        assert_eq!(report.diagnostics()[0].code, Code::NestingTooDeep);
    }
}

#[test]
fn deep_block_nesting_is_refused_too() {
    let mut text = String::from("name: svc\nx-deep:\n");
    for depth in 1..200 {
        text.push_str(&" ".repeat(depth));
        text.push_str("a:\n");
    }
    assert_eq!(codes(&text), [Code::NestingTooDeep]);
}

#[test]
fn an_alias_bomb_stops_at_the_node_budget() {
    let mut text =
        String::from("name: svc\nx-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let mut previous = 'a';
    for name in 'b'..='z' {
        let refs = vec![format!("*{previous}"); 10].join(", ");
        text.push_str(&format!("x-{name}: &{name} [{refs}]\n"));
        previous = name;
    }
    let report = validate_str("bomb.yml", &text);
    assert_eq!(report.diagnostics().len(), 1);
    assert_eq!(report.diagnostics()[0].code, Code::TooManyNodes);
}

#[test]
fn a_fifty_megabyte_file_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("bisslog-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.yml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    let report = Loader::new().validate_file(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(report.diagnostics().len(), 1);
    let problem = &report.diagnostics()[0];
    assert_eq!(
        (problem.code, problem.span.start),
        (Code::FileTooLarge, Position::START)
    );
    assert!(
        problem.message.contains("52428800 bytes"),
        "{}",
        problem.message
    );
}

#[test]
fn a_large_valid_file_under_the_limit_loads() {
    let mut text = String::from("name: svc\nuse_cases:\n");
    for i in 0..2_000 {
        text.push_str(&format!(
            "  uc{i}:\n    name: use case {i}\n    triggers:\n      - type: http\n        options: {{method: post, path: \"/things/{i}/{{id}}\"}}\n"
        ));
    }
    let report = Loader::new()
        .limits(Limits::DEFAULT)
        .validate_str("big.yml", &text);
    assert_eq!(report.diagnostics(), []);
    assert_eq!(report.service().unwrap().use_cases.len(), 2_000);
}

#[test]
fn structural_problems_are_located() {
    assert_eq!(codes(""), [Code::EmptyDocument]);
    assert_eq!(codes("- a\n- b\n"), [Code::TopLevelNotMapping]);
    assert_eq!(codes("name: [unclosed\n"), [Code::Syntax]);
    assert_eq!(
        codes("name: svc\nuse_cases:\n\tx: 1\n"),
        [Code::TabIndentation]
    );
    let report = validate_str("x.yml", "name: svc\nuse_cases: {a: {name: \"x}}\n");
    assert_eq!(report.diagnostics()[0].code, Code::Syntax);
    assert_eq!(report.diagnostics()[0].span.start, Position::new(2, 23));
}
