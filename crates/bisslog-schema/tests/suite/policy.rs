//! Resilience policies: the keys of external interactions (list and map
//! form) and `interaction_defaults`, their merging, `policy_for`, every
//! diagnostic at its place, the canonical form, and files without
//! policies loading as before.

use std::time::Duration;

use bisslog_schema::{
    BulkheadSpec, CircuitBreakerSpec, Code, Report, ResiliencePolicy, RetrySpec, ServiceMetadata,
    to_yaml, validate_str,
};
use serde_json::json;

use super::golden::tests_dir;

fn ms(n: u64) -> Option<Duration> {
    Some(Duration::from_millis(n))
}

fn load(yaml: &str) -> ServiceMetadata {
    let report = validate_str("metadata.yml", yaml);
    assert_eq!(report.error_count(), 0, "{:?}", report.diagnostics());
    report.into_service().unwrap()
}

/// The contract's example: every key, in the list form and in the map
/// form, with the same values.
const EVERY_KEY: &str = "
timeout: 2s
idempotent: true
retry:
  max_attempts: 3
  initial_delay: 100ms
  max_delay: 2s
  multiplier: 2.0
  jitter: 0.2
circuit_breaker:
  failure_ratio: 0.5
  minimum_calls: 10
  window: 30s
  open_for: 15s
  half_open_calls: 2
bulkhead:
  max_concurrent: 16
  max_waiting: 32
";

fn indented(text: &str, spaces: usize) -> String {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| format!("{}{l}\n", " ".repeat(spaces)))
        .collect()
}

fn every_key() -> ResiliencePolicy {
    ResiliencePolicy {
        timeout: ms(2_000),
        idempotent: Some(true),
        retry: Some(RetrySpec {
            max_attempts: Some(3),
            initial_delay: ms(100),
            max_delay: ms(2_000),
            multiplier: Some(2.0),
            jitter: Some(0.2),
        }),
        circuit_breaker: Some(CircuitBreakerSpec {
            failure_ratio: Some(0.5),
            minimum_calls: Some(10),
            window: ms(30_000),
            open_for: ms(15_000),
            half_open_calls: Some(2),
        }),
        bulkhead: Some(BulkheadSpec {
            max_concurrent: Some(16),
            max_waiting: Some(32),
        }),
    }
}

#[test]
fn every_key_is_read_in_the_list_form_and_the_map_form() {
    let list = format!(
        "name: s\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      - keyname: company registry data\n        type_interaction: external_system\n        operation: get_all_schemas\n{}",
        indented(EVERY_KEY, 8)
    );
    let map = format!(
        "name: s\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      company registry data:\n        type_interaction: external_system\n        operation: get_all_schemas\n{}",
        indented(EVERY_KEY, 8)
    );
    for yaml in [list, map] {
        let service = load(&yaml);
        let entry = &service.use_cases["a"].external_interactions[0];
        assert_eq!(entry.keyname, "company registry data");
        assert_eq!(entry.operation, ["get_all_schemas"]);
        assert_eq!(entry.policy, every_key());
        assert_eq!(service.interaction_defaults, None);
    }
}

#[test]
fn interaction_defaults_hold_the_same_keys() {
    let yaml = format!(
        "name: s\ninteraction_defaults:\n{}use_cases:\n  a:\n    name: a\n",
        indented(EVERY_KEY, 2)
    );
    let report = validate_str("metadata.yml", &yaml);
    assert_eq!(report.error_count(), 0, "{:?}", report.diagnostics());
    let service = report.service().unwrap();
    assert_eq!(service.interaction_defaults, Some(every_key()));
}

#[test]
fn files_without_policies_have_empty_ones() {
    let service = load(
        "name: s\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      - keyname: db\n  b:\n    name: b\n    external_interactions:\n      events: {type_interaction: publisher, operation: x.y}\n",
    );
    assert_eq!(service.interaction_defaults, None);
    for use_case in service.use_cases.values() {
        let entry = &use_case.external_interactions[0];
        assert!(entry.policy.is_empty(), "{entry:?}");
    }
    // `null` is absent, as everywhere in the format; `{}` is a block with
    // every field left to the built-in values.
    let service = load(
        "name: s\ninteraction_defaults: null\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      - keyname: db\n        retry: null\n        bulkhead: {}\n",
    );
    assert_eq!(service.interaction_defaults, None);
    let policy = &service.use_cases["a"].external_interactions[0].policy;
    assert_eq!(policy.retry, None);
    assert_eq!(policy.bulkhead, Some(BulkheadSpec::default()));
}

const MERGED: &str = "
name: registry
interaction_defaults:
  timeout: 2s
  retry:
    max_attempts: 3
    initial_delay: 100ms
    max_delay: 2s
  circuit_breaker:
    failure_ratio: 0.5
    window: 30s
use_cases:
  getAll:
    name: get all
    external_interactions:
      - keyname: registry
        idempotent: true
        retry: {max_attempts: 5, jitter: 0.1}
        circuit_breaker: {open_for: 15s}
      - keyname: db
  insert:
    name: insert
    external_interactions:
      registry:
        timeout: 500ms
        circuit_breaker: {open_for: 15s}
        bulkhead: {max_concurrent: 4}
";

#[test]
fn policy_for_merges_the_entry_over_the_defaults_field_by_field() {
    let service = load(MERGED);
    let defaults = service.interaction_defaults.clone().unwrap();

    let get_all = service.policy_for("getAll", "registry");
    assert_eq!(get_all.timeout, ms(2_000));
    assert_eq!(get_all.idempotent, Some(true));
    assert_eq!(
        get_all.retry,
        Some(RetrySpec {
            max_attempts: Some(5),
            initial_delay: ms(100),
            max_delay: ms(2_000),
            multiplier: None,
            jitter: Some(0.1),
        })
    );
    assert_eq!(
        get_all.circuit_breaker,
        Some(CircuitBreakerSpec {
            failure_ratio: Some(0.5),
            window: ms(30_000),
            open_for: ms(15_000),
            ..CircuitBreakerSpec::default()
        })
    );
    assert_eq!(get_all.bulkhead, None);

    let insert = service.policy_for("insert", "registry");
    assert_eq!(insert.timeout, ms(500));
    assert_eq!(insert.idempotent, None);
    assert_eq!(insert.retry, defaults.retry);
    assert_eq!(insert.circuit_breaker, get_all.circuit_breaker);
    assert_eq!(
        insert.bulkhead,
        Some(BulkheadSpec {
            max_concurrent: Some(4),
            max_waiting: None,
        })
    );

    // An entry without policy keys, an interaction the use case does not
    // declare, and a use case that does not exist: the defaults alone.
    assert_eq!(service.policy_for("getAll", "db"), defaults);
    assert_eq!(service.policy_for("insert", "db"), defaults);
    assert_eq!(service.policy_for("nope", "registry"), defaults);
}

#[test]
fn policy_for_without_defaults_is_the_entry_or_nothing() {
    let service = load(
        "name: s\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      - keyname: r\n        timeout: 1m30s\n",
    );
    let policy = service.policy_for("a", "r");
    assert_eq!(
        policy,
        ResiliencePolicy {
            timeout: ms(90_000),
            ..ResiliencePolicy::default()
        }
    );
    assert!(service.policy_for("a", "other").is_empty());
}

#[test]
fn the_canonical_form_writes_durations_as_text_and_loads_back() {
    let service = load(MERGED);
    let json = serde_json::to_value(&service).unwrap();
    assert_eq!(
        json["interaction_defaults"],
        json!({
            "timeout": "2s",
            "retry": {"max_attempts": 3, "initial_delay": "100ms", "max_delay": "2s"},
            "circuit_breaker": {"failure_ratio": 0.5, "window": "30s"}
        })
    );
    // The policy keys sit in the entry, next to its other keys.
    assert_eq!(
        json["use_cases"]["insert"]["external_interactions"][0],
        json!({
            "keyname": "registry",
            "timeout": "500ms",
            "circuit_breaker": {"open_for": "15s"},
            "bulkhead": {"max_concurrent": 4}
        })
    );
    assert_eq!(
        json["use_cases"]["getAll"]["external_interactions"][1],
        json!({"keyname": "db"})
    );
    let yaml = to_yaml(&json);
    assert!(yaml.contains("timeout: \"2s\"\n"), "{yaml}");
    assert_eq!(load(&yaml), service);
    assert_eq!(load(&json.to_string()), service);

    let odd = load(
        "name: s\ninteraction_defaults: {timeout: 90000ms, circuit_breaker: {window: 3600s, open_for: 1h1m1s1ms}}\nuse_cases:\n  a:\n    name: a\n",
    );
    let json = serde_json::to_value(&odd).unwrap();
    assert_eq!(
        json["interaction_defaults"],
        json!({"timeout": "1m30s", "circuit_breaker": {"window": "1h", "open_for": "1h1m1s1ms"}})
    );
}

/// (code, line, column, the hint or a part of it) of every diagnostic.
fn found(report: &Report) -> Vec<(Code, u32, u32, String)> {
    report
        .diagnostics()
        .iter()
        .map(|d| {
            let hint = d.hint.clone().unwrap_or_default();
            (d.code, d.span.start.line, d.span.start.column, hint)
        })
        .collect()
}

/// A file with a use case, ending with `interaction_defaults:` (line 5)
/// for its keys to follow from line 6.
const DEFAULTS: &str = "name: s\nuse_cases:\n  a:\n    name: a\ninteraction_defaults:\n";

/// A file whose only interaction, at line 6, has `key: value` at line 7,
/// column 9 (its value from column 9 + key length + 2).
fn entry_with(key_value: &str) -> String {
    format!(
        "name: s\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      - keyname: r\n        {key_value}\n"
    )
}

/// Asserts the file has exactly one diagnostic, with this code, at this
/// line and column, and a hint containing `hint`.
#[track_caller]
fn assert_one(yaml: &str, code: Code, line: u32, column: u32, hint: &str) {
    let report = validate_str("metadata.yml", yaml);
    let found = found(&report);
    assert_eq!(found.len(), 1, "{yaml}\n{found:?}");
    let (c, l, col, h) = &found[0];
    assert_eq!((*c, *l, *col), (code, line, column), "{yaml}\n{found:?}");
    assert!(h.contains(hint), "{yaml}\nhint {h:?} lacks {hint:?}");
}

#[test]
fn unreadable_durations_are_e046_at_the_offending_part() {
    use Code::InvalidDuration as E046;
    // The value starts at column 18 (`timeout: ` at column 9).
    for (value, column, hint) in [
        ("250", 18, "write \"250ms\" or \"250s\""),
        ("\"250\"", 19, "write \"250ms\" or \"250s\""),
        ("1.5", 18, "write \"250ms\" or \"2s\""),
        ("2sec", 19, "write `2s`"),
        ("5min", 19, "write `5m`"),
        ("1d", 19, "`24h` is a day"),
        ("10us", 20, "the smallest unit is `ms`"),
        ("1m1.5s", 20, "write `1s500ms`"),
        ("30s1m", 21, "from hours down to milliseconds"),
        ("\"2 s\"", 20, "without spaces"),
        ("s", 18, "a number followed by its unit"),
        ("2S", 19, "write `2s`"),
    ] {
        assert_one(
            &entry_with(&format!("timeout: {value}")),
            E046,
            7,
            column,
            hint,
        );
    }
    // Inside blocks and in the defaults too.
    let nested = format!("{DEFAULTS}  circuit_breaker:\n    window: 30 s\n");
    assert_one(&nested, E046, 7, 15, "without spaces");
}

#[test]
fn values_out_of_range_are_e023_at_the_value() {
    use Code::OutOfRange as E023;
    let block = |key: &str, field: &str| entry_with(&format!("{key}: {{{field}}}"));
    for (yaml, column, hint) in [
        (entry_with("timeout: 0s"), 18, "positive"),
        (entry_with("timeout: 0"), 18, "positive"),
        (entry_with("timeout: -1s"), 18, "positive"),
        (entry_with("timeout: -5"), 18, "positive"),
        (entry_with("timeout: 25h"), 18, ""),
        (entry_with("timeout: 99999999999999999999h"), 18, ""),
        (block("retry", "max_attempts: 0"), 31, ""),
        (block("retry", "multiplier: 0.5"), 29, "2 doubles them"),
        (block("retry", "jitter: 1.5"), 25, "0.2 is ±20%"),
        (
            block("circuit_breaker", "failure_ratio: 50"),
            42,
            "write 0.5",
        ),
        (block("retry", "jitter: 20"), 25, "write 0.2"),
        (block("retry", "jitter: -0.1"), 25, ""),
        (block("retry", "jitter: .nan"), 25, ""),
        (
            block("circuit_breaker", "failure_ratio: 0"),
            42,
            "0.5 is half",
        ),
        (block("circuit_breaker", "failure_ratio: 1.01"), 42, ""),
        (block("circuit_breaker", "minimum_calls: 0"), 42, ""),
        (block("circuit_breaker", "half_open_calls: 0"), 44, ""),
        (block("bulkhead", "max_concurrent: 0"), 36, ""),
        (block("bulkhead", "max_waiting: -3"), 33, ""),
    ] {
        assert_one(&yaml, E023, 7, column, hint);
    }
}

#[test]
fn delays_that_shrink_are_e023_at_a_delay_of_the_block() {
    use Code::OutOfRange as E023;
    // Both in the block: at `max_delay`.
    let yaml = entry_with("retry: {initial_delay: 2s, max_delay: 1s}");
    assert_one(&yaml, E023, 7, 47, "at least 2s");
    let report = validate_str("metadata.yml", &yaml);
    assert_eq!(
        report.diagnostics()[0].message,
        "`max_delay` (1s) is shorter than `initial_delay` (2s)"
    );
    // Longer than the built-in maximum (10s): at `initial_delay`.
    let yaml = entry_with("retry: {initial_delay: 20s}");
    assert_one(&yaml, E023, 7, 32, "give `max_delay` too, at least 20s");
    let report = validate_str("metadata.yml", &yaml);
    assert_eq!(
        report.diagnostics()[0].message,
        "`initial_delay` (20s) is longer than the built-in `max_delay` (10s)"
    );
    // Shorter than the built-in initial delay (100ms).
    assert_one(
        &entry_with("retry: {max_delay: 50ms}"),
        E023,
        7,
        28,
        "at least 100ms",
    );
    // The defaults are checked against the built-in values too.
    assert_one(
        &format!("{DEFAULTS}  retry: {{initial_delay: 1m}}\n"),
        E023,
        6,
        26,
        "at least 1m",
    );
    // An entry completed by the defaults is fine when they fit together.
    let fine = "name: s\ninteraction_defaults:\n  retry: {initial_delay: 1s, max_delay: 1m}\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      - keyname: r\n        retry: {initial_delay: 30s}\n";
    assert_eq!(found(&validate_str("metadata.yml", fine)), []);
    // Defaults with errors: an entry's delays are not compared with
    // guesses, so the only error is the defaults'.
    let broken = fine.replace("initial_delay: 1s", "initial_delay: 1 s");
    let found = found(&validate_str("metadata.yml", &broken));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (Code::InvalidDuration, 3));
}

#[test]
fn wrong_types_are_e021() {
    use Code::WrongType as E021;
    for (key_value, column, hint) in [
        ("retry: 3", 16, "write `retry: {max_attempts: 3}`"),
        ("circuit_breaker: true", 26, "`circuit_breaker: {}`"),
        ("bulkhead: [1, 2]", 19, "`max_concurrent` or `max_waiting`"),
        ("timeout: [2s]", 18, "a number and its unit"),
        ("timeout: true", 18, ""),
        ("idempotent: \"true\"", 21, ""),
        ("idempotent: 1", 21, ""),
        ("retry: {multiplier: \"2\"}", 29, "without quotes"),
        ("retry: {multiplier: fast}", 29, ""),
        ("retry: {max_attempts: 2.5}", 31, ""),
        ("bulkhead: {max_concurrent: many}", 36, ""),
    ] {
        assert_one(&entry_with(key_value), E021, 7, column, hint);
    }
    assert_one(
        "name: s\nuse_cases:\n  a:\n    name: a\ninteraction_defaults: 5s\n",
        E021,
        5,
        23,
        "`timeout`, `idempotent`",
    );
    assert_one(&entry_with("timeout: \"\""), Code::EmptyValue, 7, 18, "");
}

#[test]
fn unknown_keys_in_blocks_are_w001_with_a_suggestion() {
    use Code::UnknownKey as W001;
    assert_one(
        &entry_with("retry: {max_attempt: 3}"),
        W001,
        7,
        17,
        "did you mean `max_attempts`?",
    );
    assert_one(
        &entry_with("circuit_breaker: {failure_rate: 0.5}"),
        W001,
        7,
        27,
        "did you mean `failure_ratio`?",
    );
    assert_one(
        &entry_with("bulkhead: {queue: 3}"),
        W001,
        7,
        20,
        "the keys of `bulkhead` are `max_concurrent` or `max_waiting`",
    );
    assert_one(
        &entry_with("retyr: {max_attempts: 3}"),
        W001,
        7,
        9,
        "did you mean `retry`?",
    );
    assert_one(
        &format!("{DEFAULTS}  time_out: 2s\n"),
        W001,
        6,
        3,
        "did you mean `timeout`?",
    );
    // Extensions are allowed in blocks as everywhere.
    assert_eq!(
        found(&validate_str(
            "metadata.yml",
            &entry_with("retry: {x-note: slow remote}")
        )),
        []
    );
}

/// Two use cases declaring `registry`, the second in the map form, with
/// the given extra keys.
fn shared(first: &str, second: &str) -> String {
    format!(
        "name: s\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      - keyname: registry\n        {first}\n  b:\n    name: b\n    external_interactions:\n      registry:\n        {second}\n"
    )
}

#[test]
fn use_cases_disagreeing_on_a_breaker_or_bulkhead_get_w015() {
    use Code::ConflictingInteractionPolicy as W015;
    let breaker = "circuit_breaker: {failure_ratio: 0.5}";
    assert_one(
        &shared(breaker, "circuit_breaker: {failure_ratio: 0.2}"),
        W015,
        12,
        26,
        "first at line 7, column 26",
    );
    assert_one(
        &shared(
            "bulkhead: {max_concurrent: 4}",
            "bulkhead: {max_concurrent: 8}",
        ),
        W015,
        12,
        19,
        "declare the same `bulkhead`",
    );
    // One declares a breaker, the other none: at the other's entry.
    let report = validate_str("metadata.yml", &shared(breaker, "timeout: 2s"));
    assert_eq!(found(&report).len(), 1);
    let diagnostic = &report.diagnostics()[0];
    assert_eq!(
        (
            diagnostic.code,
            diagnostic.span.start.line,
            diagnostic.span.start.column
        ),
        (W015, 11, 7)
    );
    assert_eq!(
        diagnostic.message,
        "`registry` has no circuit breaker here, but has one in use case `a`"
    );
    // A warning: the model is built.
    assert!(report.service().is_some());
}

#[test]
fn equal_breakers_however_written_and_per_use_case_retries_are_fine() {
    let quiet = |yaml: &str| {
        let report = validate_str("metadata.yml", yaml);
        assert_eq!(found(&report), [], "{yaml}");
    };
    // The built-in values written out or left out.
    quiet(&shared(
        "circuit_breaker: {}",
        "circuit_breaker: {failure_ratio: 0.5, minimum_calls: 10, window: 1m, open_for: 30s, half_open_calls: 1}",
    ));
    quiet(&shared(
        "bulkhead: {max_waiting: 0}",
        "bulkhead: {max_concurrent: 10}",
    ));
    // Retries and timeouts may differ per use case.
    quiet(&shared(
        "retry: {max_attempts: 5}",
        "{timeout: 1s, retry: {max_attempts: 1}}",
    ));
    // A breaker from the defaults is the same for everyone.
    let defaults = "name: s\ninteraction_defaults:\n  circuit_breaker: {failure_ratio: 0.3}\nuse_cases:\n  a:\n    name: a\n    external_interactions:\n      - keyname: registry\n  b:\n    name: b\n    external_interactions:\n      - keyname: registry\n        circuit_breaker: {failure_ratio: 0.3}\n";
    quiet(defaults);
}

#[test]
fn the_json_schema_accepts_policies_and_rejects_what_the_loader_rejects() {
    let schema = bisslog_schema::json_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let every_key = serde_json::to_value(every_key()).unwrap();
    let mut entry = every_key.clone();
    entry["keyname"] = json!("registry");
    let file = |entry: serde_json::Value, defaults: serde_json::Value| {
        json!({
            "name": "s",
            "interaction_defaults": defaults,
            "use_cases": {
                "a": {"external_interactions": [entry.clone()]},
                "b": {"external_interactions": {"registry": entry}}
            }
        })
    };
    let valid = file(entry.clone(), every_key.clone());
    assert!(validator.is_valid(&valid), "{valid}");
    assert!(validator.is_valid(&serde_json::to_value(load(MERGED)).unwrap()));
    for text in ["250ms", "2s", "1m", "1h", "1m30s", "1h2m3s4ms", "90000ms"] {
        let with = file(json!({"keyname": "r", "timeout": text}), json!(null));
        assert!(validator.is_valid(&with), "{text}");
    }
    for (pointer, bad) in [
        ("/timeout", json!("250")),
        ("/timeout", json!(250)),
        ("/timeout", json!("5min")),
        ("/timeout", json!("30s1m")),
        ("/timeout", json!("2 s")),
        ("/timeout", json!("")),
        ("/idempotent", json!("yes")),
        ("/retry", json!(3)),
        ("/retry/max_attempts", json!(0)),
        ("/retry/multiplier", json!(0.5)),
        ("/retry/jitter", json!(1.5)),
        ("/circuit_breaker/failure_ratio", json!(0)),
        ("/circuit_breaker/window", json!("1.5s")),
        ("/bulkhead/max_concurrent", json!(0)),
        ("/bulkhead/max_waiting", json!(-1)),
    ] {
        for in_defaults in [false, true] {
            let mut policy = every_key.clone();
            *policy.pointer_mut(pointer).unwrap() = bad.clone();
            let instance = if in_defaults {
                file(json!({"keyname": "r"}), policy)
            } else {
                policy["keyname"] = json!("r");
                file(policy, json!(null))
            };
            assert!(
                !validator.is_valid(&instance),
                "{pointer} = {bad} accepted (in defaults: {in_defaults})"
            );
        }
    }
}

/// Metadata files of the repository: the examples, the benchmarks' and the
/// conformance files shared with the Python tools.
fn repository_metadata() -> Vec<std::path::PathBuf> {
    let root = tests_dir().join("../../..");
    let mut files = Vec::new();
    for dir in ["examples", "bench"] {
        for project in std::fs::read_dir(root.join(dir)).unwrap() {
            let project = project.unwrap().path();
            let Ok(entries) = std::fs::read_dir(&project) else {
                continue;
            };
            for file in entries {
                let file = file.unwrap().path();
                if file.extension().is_some_and(|e| e == "yml") {
                    files.push(file);
                }
            }
        }
    }
    for file in std::fs::read_dir(tests_dir().join("conformance")).unwrap() {
        let file = file.unwrap().path();
        if file.extension().is_some_and(|e| e == "yml") {
            files.push(file);
        }
    }
    files.sort();
    files
}

#[test]
fn repository_metadata_without_policies_loads_as_before() {
    let files = repository_metadata();
    assert!(files.len() >= 9, "{files:?}");
    let policy_keys = [
        "interaction_defaults",
        "idempotent",
        "circuit_breaker",
        "bulkhead",
    ];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if policy_keys.iter().any(|key| text.contains(key)) {
            // Once the examples declare policies, they are not "without".
            continue;
        }
        let report = validate_str(file.display().to_string(), &text);
        let codes: Vec<Code> = report.diagnostics().iter().map(|d| d.code).collect();
        assert!(
            !codes.iter().any(|c| matches!(
                c,
                Code::InvalidDuration | Code::ConflictingInteractionPolicy
            )),
            "{}: {codes:?}",
            file.display()
        );
        let Some(service) = report.service() else {
            continue;
        };
        assert_eq!(service.interaction_defaults, None, "{}", file.display());
        for use_case in service.use_cases.values() {
            for entry in &use_case.external_interactions {
                assert!(entry.policy.is_empty(), "{}: {entry:?}", file.display());
                assert!(
                    service
                        .policy_for(&use_case.keyname, &entry.keyname)
                        .is_empty()
                );
            }
        }
        let json = serde_json::to_string(service).unwrap();
        assert!(
            !policy_keys
                .iter()
                .any(|key| json.contains(&format!("\"{key}\""))),
            "{}",
            file.display()
        );
    }
}
