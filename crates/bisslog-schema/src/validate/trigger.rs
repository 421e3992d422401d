//! Triggers: the list, each trigger's type, and the websocket, consumer
//! and schedule options (HTTP options live in `http.rs`).

use super::fields::{
    non_finite, opt_string, required_string, string, unsigned, unsigned32, wrong_type,
};
use super::mapper::{self, MapperRules};
use super::{Checker, Reported, authorization, entry, http, inner_span, keys};
use crate::code::Code;
use crate::cron::CronExpr;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{
    ConsumerTrigger, DeliverySemantic, MisfirePolicy, OverlapPolicy, QueueKind, ScheduleTrigger,
    TriggerKind, TriggerMetadata, WebSocketTrigger,
};
use crate::node::{Node, Value};
use crate::span::Span;
use crate::{suggest, timezone};

/// The `triggers` list of a use case; absent or `null` is no triggers.
pub(super) fn read_all(
    cx: &mut Checker,
    use_case: &str,
    entries: &[(Node, Node)],
) -> Result<Vec<TriggerMetadata>, Reported> {
    let Some((_, node)) = entry(entries, "triggers") else {
        return Ok(Vec::new());
    };
    cx.check(Severity::Error);
    let items = match &node.value {
        Value::Null => return Ok(Vec::new()),
        Value::Seq(items) => items,
        _ => return Err(cx.report(wrong_type(node, "triggers", "a list of triggers"))),
    };
    let mut triggers = Vec::with_capacity(items.len());
    let mut failed = false;
    for item in items {
        match read(cx, use_case, item) {
            Ok(Some(trigger)) => triggers.push(trigger),
            Ok(None) => {}
            Err(Reported) => failed = true,
        }
    }
    if failed { Err(Reported) } else { Ok(triggers) }
}

/// One trigger: `type` (default http), `keyname`, `options`.
fn read(
    cx: &mut Checker,
    use_case: &str,
    node: &Node,
) -> Result<Option<TriggerMetadata>, Reported> {
    cx.check(Severity::Error);
    let Value::Map(entries) = &node.value else {
        return Err(cx.report(
            wrong_type(node, "triggers", "a list of mappings")
                .with_hint("write each trigger as `- type: http` followed by its `options:`"),
        ));
    };
    cx.unknown_keys(entries, keys::TRIGGER, "a trigger");
    let keyname = opt_string(cx, entries, "keyname");
    let kind_name = trigger_type(cx, entries, node.span);
    cx.check(Severity::Error);
    let (options_span, options) = match entry(entries, "options") {
        None => (Span::point(node.span.start), Ok(&[][..])),
        Some((key, value)) if value.value == Value::Null => (key.span, Ok(&[][..])),
        Some((key, value)) => (key.span, cx.mapping(value, "`options`")),
    };
    let options: &[(Node, Node)] = match options {
        Ok(options) => options,
        Err(Reported) => {
            kind_name?;
            keyname?;
            return Err(Reported);
        }
    };
    let kind = match kind_name? {
        "http" => http::read(cx, use_case, options, options_span).map(TriggerKind::Http),
        "websocket" => websocket(cx, use_case, options, options_span).map(TriggerKind::WebSocket),
        "consumer" => consumer(cx, use_case, options, options_span).map(TriggerKind::Consumer),
        _ => schedule(cx, options, options_span).map(TriggerKind::Schedule),
    };
    Ok(Some(TriggerMetadata {
        keyname: keyname?,
        kind: kind?,
    }))
}

/// The trigger's `type`: one of the four kinds, `http` when absent (with
/// a warning, as the Python analyzer gives).
fn trigger_type(
    cx: &mut Checker,
    entries: &[(Node, Node)],
    trigger: Span,
) -> Result<&'static str, Reported> {
    cx.check(Severity::Warning);
    let declared = entry(entries, "type").filter(|(_, node)| node.value != Value::Null);
    let Some((_, node)) = declared else {
        cx.report(
            Diagnostic::new(
                Code::MissingTriggerType,
                Span::point(trigger.start),
                "this trigger has no `type`; it is read as `http`",
            )
            .with_hint("write `type: http` to say so"),
        );
        return Ok("http");
    };
    let Some(name) = string(cx, node, "type")? else {
        return Ok("http");
    };
    if let Some(kind) = TriggerKind::NAMES.into_iter().find(|k| *k == name) {
        return Ok(kind);
    }
    let hint = match suggest::closest(name, TriggerKind::NAMES) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!(
            "the trigger types are {}",
            suggest::one_of(&TriggerKind::NAMES)
        ),
    };
    Err(cx.report(
        Diagnostic::new(
            Code::UnknownTriggerType,
            node.span,
            format!("`{name}` is not a trigger type"),
        )
        .with_hint(hint),
    ))
}

fn websocket(
    cx: &mut Checker,
    use_case: &str,
    options: &[(Node, Node)],
    owner: Span,
) -> Result<WebSocketTrigger, Reported> {
    cx.unknown_keys(options, keys::WEBSOCKET, "websocket trigger options");
    let key = if entry(options, "route_key").is_some() && entry(options, "routeKey").is_none() {
        "route_key"
    } else {
        "routeKey"
    };
    if key == "routeKey"
        && let Some((alias, _)) = entry(options, "route_key")
    {
        cx.report(
            Diagnostic::new(
                Code::DeprecatedKey,
                alias.span,
                "both `routeKey` and `route_key` are given; `route_key` is ignored",
            )
            .with_hint("keep one of them"),
        );
    }
    let route_key = required_string(cx, options, key, owner, "websocket trigger options");
    let mapper = mapper::read(cx, options, &MapperRules::websocket());
    let authorization = authorization::read(cx, options);
    let (node, route_key) = route_key?;
    cx.claim_websocket_route(route_key, node.span, use_case);
    Ok(WebSocketTrigger {
        route_key: route_key.to_owned(),
        mapper: mapper?,
        authorization: authorization?,
    })
}

fn consumer(
    cx: &mut Checker,
    use_case: &str,
    options: &[(Node, Node)],
    owner: Span,
) -> Result<ConsumerTrigger, Reported> {
    authorization::unchecked(cx, options, "consumer");
    cx.unknown_keys(
        options,
        &keys::unchecked(keys::CONSUMER),
        "consumer trigger options",
    );
    let queue = required_string(cx, options, "queue", owner, "consumer trigger options");
    let queue_kind = queue_kind(cx, options);
    let partition = partition(cx, options);
    let delivery_semantic = delivery_semantic(cx, options);
    let max_retries = unsigned32(cx, options, "max_retries", 0);
    let retry_delay = unsigned32(cx, options, "retry_delay", 0);
    let batch_size = unsigned32(cx, options, "batch_size", 1);
    let timeout_ms = unsigned(cx, options, "timeout", 1, http::MAX_TIMEOUT_MS);
    let dead_letter_queue = opt_string(cx, options, "dead_letter_queue");
    let mapper = mapper::read(cx, options, &MapperRules::consumer());
    let (queue_node, queue) = queue?;
    if let Ok(kind) = queue_kind {
        cx.use_queue(queue, use_case, true, kind, queue_node.span);
    }
    let dead_letter_queue = dead_letter_queue?;
    cx.check(Severity::Error);
    if dead_letter_queue.as_deref() == Some(queue) {
        let span = entry(options, "dead_letter_queue").map_or(queue_node.span, |(_, v)| v.span);
        let message =
            format!("the dead-letter queue is `{queue}`, the queue this trigger consumes");
        let hint =
            "failed messages would come straight back; name a separate queue such as `<queue>.dlq`";
        return Err(
            cx.report(Diagnostic::new(Code::DeadLetterQueueLoop, span, message).with_hint(hint))
        );
    }
    let delivery_semantic = delivery_semantic?;
    let max_retries = max_retries?;
    cx.check(Severity::Warning);
    if delivery_semantic == DeliverySemantic::AtMostOnce
        && max_retries.is_some_and(|n| n > 0)
        && let Some((key, _)) = entry(options, "max_retries")
    {
        let message = "`max_retries` has no effect on an at-most-once consumer";
        let hint =
            "at-most-once acknowledges before running the use case, so a failure is never retried";
        cx.report(Diagnostic::new(Code::RetriesAtMostOnce, key.span, message).with_hint(hint));
    }
    Ok(ConsumerTrigger {
        queue: queue.to_owned(),
        queue_kind: queue_kind?,
        partition: partition?,
        delivery_semantic,
        max_retries,
        retry_delay: retry_delay?,
        batch_size: batch_size?,
        timeout_ms: timeout_ms?,
        dead_letter_queue,
        mapper: mapper?,
    })
}

/// `partition`: a name, or `event.<path>` with no empty key.
fn partition(cx: &mut Checker, options: &[(Node, Node)]) -> Result<Option<String>, Reported> {
    let partition = opt_string(cx, options, "partition")?;
    if let Some(text) = partition.as_deref()
        && crate::model::partition_key_path(text).is_some_and(|path| path.contains(&""))
        && let Some((_, node)) = entry(options, "partition")
    {
        cx.check(Severity::Error);
        return Err(cx.report(
            Diagnostic::new(
                Code::InvalidMapperSource,
                node.span,
                format!("`{text}` has an empty key between dots"),
            )
            .with_hint(
                "write `event.key` or `event.key.subkey` to take the key from the payload, or a name without the `event.` prefix",
            ),
        ));
    }
    Ok(partition)
}

/// A `queue_kind` (of consumer options or a publisher interaction):
/// `command` when not given.
pub(super) fn queue_kind(cx: &mut Checker, fields: &[(Node, Node)]) -> Result<QueueKind, Reported> {
    let Some((_, node)) = entry(fields, "queue_kind") else {
        return Ok(QueueKind::default());
    };
    let Some(name) = string(cx, node, "queue_kind")? else {
        return Ok(QueueKind::default());
    };
    QueueKind::parse(name).ok_or_else(|| {
        let names: Vec<&str> = QueueKind::ALL.iter().map(|s| s.as_str()).collect();
        let hint = match suggest::closest(name, names.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "use {}: `event` when every consuming service gets each message, `command` (the default) when one service does the work",
                suggest::one_of(&names)
            ),
        };
        cx.report(
            Diagnostic::new(
                Code::InvalidQueueKind,
                node.span,
                format!("`{name}` is not a queue kind"),
            )
            .with_hint(hint),
        )
    })
}

fn delivery_semantic(
    cx: &mut Checker,
    options: &[(Node, Node)],
) -> Result<DeliverySemantic, Reported> {
    let Some((_, node)) = entry(options, "delivery_semantic") else {
        return Ok(DeliverySemantic::default());
    };
    let Some(name) = string(cx, node, "delivery_semantic")? else {
        return Ok(DeliverySemantic::default());
    };
    DeliverySemantic::parse(name).ok_or_else(|| {
        let names: Vec<&str> = DeliverySemantic::ALL.iter().map(|s| s.as_str()).collect();
        let hint = match suggest::closest(name, names.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("use {}", suggest::one_of(&names)),
        };
        cx.report(
            Diagnostic::new(
                Code::InvalidDeliverySemantic,
                node.span,
                format!("`{name}` is not a delivery semantic"),
            )
            .with_hint(hint),
        )
    })
}

fn schedule(
    cx: &mut Checker,
    options: &[(Node, Node)],
    owner: Span,
) -> Result<ScheduleTrigger, Reported> {
    authorization::unchecked(cx, options, "schedule");
    cx.unknown_keys(
        options,
        &keys::unchecked(keys::SCHEDULE),
        "schedule trigger options",
    );
    let cronjob = required_string(cx, options, "cronjob", owner, "schedule trigger options")
        .and_then(|(node, text)| {
            CronExpr::parse(text).map_err(|error| {
                let span = inner_span(node, text, error.span.start, error.span.end);
                cx.report(
                    Diagnostic::new(
                        Code::InvalidCron,
                        span,
                        format!("invalid cron expression: {}", error.kind),
                    )
                    .with_optional_hint(error.hint.clone()),
                )
            })
        });
    let timezone = timezone_field(cx, options);
    let description = opt_string(cx, options, "description");
    let retry_policy = opt_string(cx, options, "retry_policy");
    let max_attempts = unsigned32(cx, options, "max_attempts", 1);
    let overlap_policy = policy(cx, options, "overlap_policy", OverlapPolicy::ALL, |p| {
        p.as_str()
    });
    let misfire_policy = policy(cx, options, "misfire_policy", MisfirePolicy::ALL, |p| {
        p.as_str()
    });
    cx.check(Severity::Error);
    let event = match entry(options, "event") {
        None => Ok(None),
        Some((_, node)) if node.value == Value::Null => Ok(None),
        Some((_, node)) => match node.non_finite() {
            Some(bad) => Err(cx.report(non_finite(bad, "event"))),
            None => Ok(node.to_json()),
        },
    };
    Ok(ScheduleTrigger {
        cronjob: cronjob?,
        timezone: timezone?,
        event: event?,
        description: description?,
        retry_policy: retry_policy?,
        max_attempts: max_attempts?,
        overlap_policy: overlap_policy?,
        misfire_policy: misfire_policy?,
    })
}

/// `an overlap policy`, `a misfire policy`.
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

/// A schedule policy: one of `all`, by its exact name; the default when
/// absent.
fn policy<P: Copy + Default>(
    cx: &mut Checker,
    options: &[(Node, Node)],
    key: &str,
    all: &[P],
    name_of: fn(P) -> &'static str,
) -> Result<P, Reported> {
    let Some((_, node)) = entry(options, key) else {
        return Ok(P::default());
    };
    let Some(name) = string(cx, node, key)? else {
        return Ok(P::default());
    };
    if let Some(found) = all.iter().copied().find(|p| name_of(*p) == name) {
        return Ok(found);
    }
    let names: Vec<&str> = all.iter().map(|p| name_of(*p)).collect();
    let hint = match suggest::closest(name, names.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("use {}", suggest::one_of(&names)),
    };
    Err(cx.report(
        Diagnostic::new(
            Code::InvalidSchedulePolicy,
            node.span,
            format!("`{name}` is not {}", with_article(&key.replace('_', " "))),
        )
        .with_hint(hint),
    ))
}

/// An IANA time zone name from the bundled database; the Python tools'
/// `GMT+5`-style spellings are accepted and normalised.
fn timezone_field(cx: &mut Checker, options: &[(Node, Node)]) -> Result<Option<String>, Reported> {
    let Some((_, node)) = entry(options, "timezone") else {
        return Ok(None);
    };
    let Some(name) = string(cx, node, "timezone")? else {
        return Ok(None);
    };
    cx.check(Severity::Warning);
    match timezone::resolve(name) {
        timezone::Resolved::Exact(canonical) => Ok(Some(canonical)),
        timezone::Resolved::CaseDiffers(canonical) => {
            cx.report(
                Diagnostic::new(
                    Code::NonCanonicalTimeZone,
                    node.span,
                    format!("time zone `{name}` is spelled `{canonical}` in the IANA database"),
                )
                .with_hint(format!(
                    "write `{canonical}`; other tools compare names exactly"
                )),
            );
            Ok(Some(canonical))
        }
        timezone::Resolved::Unknown(suggestion) => {
            let hint = match suggestion {
                Some(close) => format!("did you mean `{close}`?"),
                None => "use an IANA name such as `UTC`, `Europe/Madrid` or `America/New_York`"
                    .to_owned(),
            };
            Err(cx.report(
                Diagnostic::new(
                    Code::UnknownTimeZone,
                    node.span,
                    format!("`{name}` is not a time zone in the IANA database"),
                )
                .with_hint(hint),
            ))
        }
    }
}
