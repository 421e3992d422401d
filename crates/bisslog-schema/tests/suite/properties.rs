//! Property tests: valid models survive write → load unchanged, in JSON
//! and in YAML; arbitrary bytes, YAML-like text and mutated real files
//! never panic and only produce diagnostics located inside the file.

use bisslog_schema::cron::CronExpr;
use std::time::Duration;

use bisslog_schema::{
    Authorization, BulkheadSpec, CircuitBreakerSpec, ConsumerTrigger, Criticality,
    DeliverySemantic, ExternalInteraction, HttpPath, HttpTrigger, InteractionType, Loader, Mapper,
    MapperEntry, MapperSource, Method, MisfirePolicy, OverlapPolicy, QueueKind, RateLimit,
    RatePeriod, Report, ResiliencePolicy, RetrySpec, ScheduleTrigger, ServiceMetadata, SourcePart,
    TriggerKind, TriggerMetadata, UseCaseMetadata, WebSocketTrigger, to_yaml,
};
use indexmap::IndexMap;
use proptest::prelude::*;
use proptest::sample::select;

/// Printable text that is not blank (blank strings are rejected).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_ -]{0,12}",
        "[^\\p{C}\\s][^\\p{C}]{0,16}",
        select(vec![
            "yes",
            "null",
            "0 0 ? * 1 *",
            "- dash",
            "a: b",
            "#hash",
            "'quoted'",
            "\"dq\"",
            "123",
            "1.5",
            "~",
            "é ü ñ",
            "@at",
            "trailing "
        ])
        .prop_map(str::to_owned),
    ]
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,10}"
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        text().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(ident(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn mapper(parts: &'static [SourcePart]) -> impl Strategy<Value = Option<Mapper>> {
    let entry = (select(parts), prop::collection::vec(ident(), 0..3), ident());
    prop::option::of(prop::collection::vec(entry, 0..4)).prop_map(|entries| {
        entries.map(|entries| {
            let mut seen = std::collections::HashSet::new();
            let entries = entries
                .into_iter()
                .map(|(part, mut path, target)| {
                    if matches!(part, SourcePart::ConnectionId | SourcePart::RouteKey) {
                        path.clear();
                    }
                    MapperEntry {
                        source: MapperSource { part, path },
                        target,
                    }
                })
                .filter(|e| seen.insert(e.source.to_string()))
                .collect();
            Mapper { entries }
        })
    })
}

const HTTP_PARTS: &[SourcePart] = &[
    SourcePart::Params,
    SourcePart::Body,
    SourcePart::Headers,
    SourcePart::Context,
];
const WS_PARTS: &[SourcePart] = &[
    SourcePart::ConnectionId,
    SourcePart::RouteKey,
    SourcePart::Body,
    SourcePart::Headers,
];
const CONSUMER_PARTS: &[SourcePart] = &[SourcePart::Event, SourcePart::Context];

/// A trigger; `unique` makes routes and route keys distinct.
fn trigger(unique: String) -> impl Strategy<Value = TriggerMetadata> {
    let http = (
        select(Method::ALL.to_vec()),
        mapper(HTTP_PARTS),
        prop::option::of(text()),
        any::<bool>(),
        prop::collection::vec(
            select(vec![
                "*",
                "https://app.example.com",
                "http://localhost:3000",
            ]),
            0..3,
        ),
        prop::option::of(select(vec![
            "application/json",
            "text/plain; charset=utf-8",
        ])),
        prop::option::of(1u64..=86_400_000),
        prop::option::of((1u32..10_000, any::<bool>())),
    )
        .prop_map({
            let unique = unique.clone();
            move |(
                method,
                mapper,
                authenticator,
                cacheable,
                origins,
                content_type,
                timeout_ms,
                rate,
            )| {
                TriggerKind::Http(HttpTrigger {
                    method,
                    path: HttpPath::parse(&format!("/r/{unique}/{{id}}")).unwrap(),
                    mapper,
                    authenticator,
                    authorization: None,
                    apigw: Some("internal".to_owned()),
                    cacheable,
                    allow_cors: !origins.is_empty(),
                    allowed_origins: origins.into_iter().map(str::to_owned).collect(),
                    content_type: content_type.map(str::to_owned),
                    timeout_ms,
                    rate_limit: rate.map(|(requests, per_second)| RateLimit {
                        requests,
                        per: if per_second {
                            RatePeriod::Second
                        } else {
                            RatePeriod::Minute
                        },
                    }),
                    retry_policy: None,
                })
            }
        });
    let websocket = mapper(WS_PARTS).prop_map({
        let unique = unique.clone();
        move |mapper| {
            TriggerKind::WebSocket(WebSocketTrigger {
                route_key: format!("route_{unique}"),
                mapper,
                authorization: None,
            })
        }
    });
    let consumer = (
        ident(),
        prop::option::of(text()),
        select(DeliverySemantic::ALL.to_vec()),
        prop::option::of(0u32..100),
        prop::option::of(0u32..3600),
        prop::option::of(1u32..1000),
        mapper(CONSUMER_PARTS),
        select(QueueKind::ALL.to_vec()),
    )
        .prop_map(
            |(
                queue,
                partition,
                delivery_semantic,
                max_retries,
                retry_delay,
                batch_size,
                mapper,
                queue_kind,
            )| {
                TriggerKind::Consumer(ConsumerTrigger {
                    dead_letter_queue: Some(format!("{queue}.dlq")),
                    queue,
                    queue_kind,
                    partition,
                    delivery_semantic,
                    max_retries,
                    retry_delay,
                    batch_size,
                    timeout_ms: None,
                    mapper,
                })
            },
        );
    let crons = vec![
        "*/5 * * * *",
        "0 0 ? * 1 *",
        "0 12 L * ? *",
        "30 8 * * MON-FRI",
        "@daily",
        "cron(0 10 ? * 6L *)",
    ];
    let zones = vec!["UTC", "Europe/Madrid", "America/New_York", "Asia/Kolkata"];
    let schedule = (
        select(crons),
        prop::option::of(select(zones)),
        prop::option::of(json_value()),
        prop::option::of(text()),
        prop::option::of(1u32..10),
        select(OverlapPolicy::ALL.to_vec()),
        select(MisfirePolicy::ALL.to_vec()),
    )
        .prop_map(
            |(cron, timezone, event, description, max_attempts, overlap, misfire)| {
                TriggerKind::Schedule(ScheduleTrigger {
                    cronjob: CronExpr::parse(cron).unwrap(),
                    timezone: timezone.map(str::to_owned),
                    event: event.filter(|e| !e.is_null()),
                    description,
                    retry_policy: None,
                    max_attempts,
                    overlap_policy: overlap,
                    misfire_policy: misfire,
                })
            },
        );
    (
        prop::option::of(ident()),
        prop_oneof![http, websocket, consumer, schedule],
    )
        .prop_map(|(keyname, kind)| TriggerMetadata { keyname, kind })
}

/// A duration of whole milliseconds in `range`.
fn duration(range: std::ops::RangeInclusive<u64>) -> impl Strategy<Value = Option<Duration>> {
    prop::option::of(range.prop_map(Duration::from_millis))
}

/// A valid policy. Initial delays are at most the built-in initial delay
/// and maximum delays at least the built-in maximum, so however entries
/// and defaults combine, delays never shrink.
fn policy() -> impl Strategy<Value = ResiliencePolicy> {
    let retry = (
        prop::option::of(1u32..10),
        duration(1..=100),
        duration(10_000..=86_400_000),
        prop::option::of(1.0f64..100.0),
        prop::option::of(0.0f64..=1.0),
    )
        .prop_map(
            |(max_attempts, initial_delay, max_delay, multiplier, jitter)| RetrySpec {
                max_attempts,
                initial_delay,
                max_delay,
                multiplier,
                jitter,
            },
        );
    let circuit_breaker = (
        prop::option::of(0.001f64..=1.0),
        prop::option::of(1u32..100),
        duration(1..=86_400_000),
        duration(1..=86_400_000),
        prop::option::of(1u32..10),
    )
        .prop_map(
            |(failure_ratio, minimum_calls, window, open_for, half_open_calls)| {
                CircuitBreakerSpec {
                    failure_ratio,
                    minimum_calls,
                    window,
                    open_for,
                    half_open_calls,
                }
            },
        );
    let bulkhead = (prop::option::of(1u32..100), prop::option::of(0u32..100)).prop_map(
        |(max_concurrent, max_waiting)| BulkheadSpec {
            max_concurrent,
            max_waiting,
        },
    );
    (
        duration(1..=86_400_000),
        prop::option::of(any::<bool>()),
        prop::option::of(retry),
        prop::option::of(circuit_breaker),
        prop::option::of(bulkhead),
    )
        .prop_map(
            |(timeout, idempotent, retry, circuit_breaker, bulkhead)| ResiliencePolicy {
                timeout,
                idempotent,
                retry,
                circuit_breaker,
                bulkhead,
            },
        )
}

fn interaction() -> impl Strategy<Value = ExternalInteraction> {
    let kinds = vec![
        InteractionType::Database,
        InteractionType::Publisher,
        InteractionType::Notifier,
        InteractionType::ExternalFileSystem,
        InteractionType::ExternalSystem,
        InteractionType::Unknown,
        InteractionType::Custom("cache".to_owned()),
    ];
    (
        ident(),
        prop::option::of(select(kinds)),
        prop::collection::vec(ident(), 0..3),
        prop::option::of(text()),
        prop_oneof![Just(ResiliencePolicy::default()), policy()],
        select(QueueKind::ALL.to_vec()),
    )
        .prop_map(
            |(keyname, type_interaction, operation, description, policy, queue_kind)| {
                ExternalInteraction {
                    keyname,
                    type_interaction,
                    operation,
                    queue_kind,
                    description,
                    policy,
                }
            },
        )
}

fn tags() -> impl Strategy<Value = IndexMap<String, String>> {
    prop::collection::vec((ident(), text()), 0..3).prop_map(|pairs| pairs.into_iter().collect())
}

fn authorization() -> impl Strategy<Value = Option<Authorization>> {
    prop_oneof![
        Just(None),
        Just(Some(Authorization::public())),
        (
            prop::collection::vec(text(), 0..3),
            prop::collection::vec(text(), 0..3),
        )
            .prop_map(|(roles, scopes)| Some(Authorization {
                roles,
                scopes,
                ..Authorization::default()
            })),
    ]
}

fn use_case(index: usize) -> impl Strategy<Value = UseCaseMetadata> {
    let triggers = (0..3usize)
        .map(|t| trigger(format!("u{index}t{t}")))
        .collect::<Vec<_>>();
    (
        prop::option::of(text()),
        prop::option::of(text()),
        select(Criticality::ALL.to_vec()),
        tags(),
        triggers,
        0..=3usize,
        prop::collection::vec(interaction(), 0..3),
        prop::option::of(json_value()),
        authorization(),
    )
        .prop_map(
            move |(
                name,
                actor,
                criticality,
                tags,
                triggers,
                count,
                external_interactions,
                extension,
                authorization,
            )| UseCaseMetadata {
                keyname: format!("useCase{index}"),
                name,
                description: None,
                actor,
                kind: Some("read functional data".to_owned()),
                criticality,
                authorization,
                tags,
                triggers: triggers.into_iter().take(count).collect(),
                external_interactions,
                extensions: extension
                    .into_iter()
                    .map(|e| ("x-extra".to_owned(), e))
                    .collect(),
            },
        )
}

fn service() -> impl Strategy<Value = ServiceMetadata> {
    let use_cases = (0..4usize).map(use_case).collect::<Vec<_>>();
    (
        text(),
        prop::option::of(text()),
        prop::option::of(text()),
        tags(),
        use_cases,
        1..=4usize,
        prop::option::of(policy()),
    )
        .prop_map(
            |(name, description, team, tags, use_cases, count, interaction_defaults)| {
                ServiceMetadata {
                    name,
                    description,
                    kind: Some("microservice".to_owned()),
                    service_type: None,
                    team,
                    tags,
                    interaction_defaults,
                    use_cases: use_cases
                        .into_iter()
                        .take(count)
                        .map(|u| (u.keyname.clone(), u))
                        .collect(),
                    extensions: IndexMap::new(),
                }
            },
        )
}

/// Diagnostics are inside the file: a line of it, or just past its end.
fn assert_located_inside(report: &Report) {
    let lines = report.source().line_count() as u32;
    for diagnostic in report.diagnostics() {
        let start = diagnostic.span.start;
        assert!(start.line >= 1 && start.column >= 1, "{diagnostic:?}");
        assert!(start.line <= lines + 1, "{diagnostic:?} past line {lines}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn valid_models_survive_a_json_round_trip(service in service()) {
        let json = serde_json::to_string_pretty(&service).unwrap();
        let report = Loader::new().validate_str("generated.json", &json);
        prop_assert!(report.error_count() == 0, "{json}\n{:?}", report.diagnostics());
        prop_assert_eq!(report.service().unwrap(), &service);
    }

    #[test]
    fn valid_models_survive_a_yaml_round_trip(service in service()) {
        let yaml = to_yaml(&serde_json::to_value(&service).unwrap());
        let report = Loader::new().validate_str("generated.yml", &yaml);
        prop_assert!(report.error_count() == 0, "{yaml}\n{:?}", report.diagnostics());
        prop_assert_eq!(report.service().unwrap(), &service);
    }
}

/// YAML-looking lines made of the format's own keys and awkward values.
fn yamlish() -> impl Strategy<Value = String> {
    let keys = select(vec![
        "name",
        "use_cases",
        "triggers",
        "type",
        "options",
        "method",
        "path",
        "route",
        "mapper",
        "queue",
        "cronjob",
        "timezone",
        "event",
        "criticality",
        "external_interactions",
        "keyname",
        "tags",
        "body",
        "path_query.id",
        "<<",
        "x-ext",
        "- type",
        "-",
        "? a",
        "routeKey",
    ]);
    let values = select(vec![
        "",
        "http",
        "consumer",
        "schedule",
        "websocket",
        "get",
        "/a/{x}",
        "\"/a/{x}\"",
        "[1, 2",
        "{a: 1}",
        "&anc",
        "*anc",
        "!!str 5",
        "!custom x",
        "|",
        ">-",
        "'x'",
        "\"\\u00e9\"",
        "~",
        "yes",
        "90",
        "-1",
        "0 0 ? * 1 *",
        "\"0 0 ? * 8 *\"",
        "[",
        "]",
        "{",
        "}",
        "\t",
        "#c",
        "@",
        "`",
        "%YAML 1.2",
        "---",
        "...",
        "\u{feff}",
    ]);
    prop::collection::vec((0..10usize, keys, values), 0..40).prop_map(|lines| {
        lines
            .into_iter()
            .map(|(indent, key, value)| format!("{}{key}: {value}\n", " ".repeat(indent)))
            .collect()
    })
}

fn conformance_text() -> impl Strategy<Value = Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let files: Vec<Vec<u8>> = [
        "company-data-registry.yml",
        "webhook-wrong.yml",
        "user-management.yml",
    ]
    .iter()
    .map(|f| std::fs::read(dir.join(f)).unwrap())
    .collect();
    select(files)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for name in ["x.yml", "x.json"] {
            assert_located_inside(&Loader::new().validate_bytes(name, &bytes));
        }
    }

    #[test]
    fn yaml_like_text_never_panics(text in yamlish()) {
        let report = Loader::new().validate_str("x.yml", &text);
        assert_located_inside(&report);
        let _ = bisslog_schema::render_report(&report, bisslog_schema::RenderOptions::default());
    }

    #[test]
    fn mutated_real_files_never_panic(
        original in conformance_text(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<u8>()), 1..8),
    ) {
        let mut bytes = original;
        for (at, kind, byte) in edits {
            let i = at.index(bytes.len().max(1)).min(bytes.len());
            match kind {
                0 => bytes.insert(i, byte),
                1 if i < bytes.len() => { bytes.remove(i); }
                _ if i < bytes.len() => bytes[i] = byte,
                _ => {}
            }
        }
        let report = Loader::new().validate_bytes("mutated.yml", &bytes);
        assert_located_inside(&report);
        let _ = bisslog_schema::render_report(&report, bisslog_schema::RenderOptions::default());
    }
}
