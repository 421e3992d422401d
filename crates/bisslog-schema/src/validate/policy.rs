//! Resilience policies: the `timeout`, `idempotent`, `retry`,
//! `circuit_breaker` and `bulkhead` keys of an external interaction and of
//! the service's `interaction_defaults`, and the check that the use cases
//! sharing an interaction agree on its breaker and bulkhead.

use std::collections::HashMap;
use std::time::Duration;

use super::fields::{boolean, unsigned32, wrong_type};
use super::{Checker, Field, Reported, entry, inner_span, keys};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::duration::{self, DurationErrorKind};
use crate::model::{BulkheadSpec, CircuitBreakerSpec, ResiliencePolicy, RetrySpec};
use crate::node::{Node, Value};
use crate::span::Span;
use crate::suggest;

/// The longest duration accepted: one day, as for an HTTP `timeout`.
const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// What the use cases read so far declared about their interactions.
#[derive(Default)]
pub(super) struct Policies {
    /// `interaction_defaults`, once read without errors.
    defaults: Option<ResiliencePolicy>,
    /// Whether `interaction_defaults` had errors: then no entry is
    /// compared with another, since their effective policies are unknown.
    defaults_failed: bool,
    /// The first declaration of each interaction keyname.
    first: HashMap<String, Declaration>,
}

/// An interaction's shared parts as first declared, with the built-in
/// values filled in so equal settings compare equal however written.
struct Declaration {
    use_case: String,
    circuit_breaker: Shared<CircuitBreakerSpec>,
    bulkhead: Shared<BulkheadSpec>,
}

/// One shared block of a declaration: its effective value, and where it
/// is written (the block, or the entry when it is inherited or absent).
struct Shared<T> {
    value: Option<T>,
    span: Span,
}

/// The service's `interaction_defaults`.
pub(super) fn read_defaults(cx: &mut Checker, entries: &[(Node, Node)]) -> Field<ResiliencePolicy> {
    let Some((_, node)) = entry(entries, "interaction_defaults") else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let fields = match &node.value {
        Value::Null => return Ok(None),
        Value::Map(fields) => fields,
        _ => {
            cx.policies.defaults_failed = true;
            let hint = format!("its keys are {}", suggest::one_of(keys::POLICY));
            return Err(
                cx.report(wrong_type(node, "interaction_defaults", "a mapping").with_hint(hint))
            );
        }
    };
    cx.unknown_keys(fields, keys::POLICY, "`interaction_defaults`");
    match read(cx, fields, Base::BuiltIn) {
        Ok(policy) => {
            cx.policies.defaults = Some(policy.clone());
            Ok(Some(policy))
        }
        Err(Reported) => {
            cx.policies.defaults_failed = true;
            Err(Reported)
        }
    }
}

/// The policy keys of an external interaction entry (their unknown
/// siblings are the entry's business).
pub(super) fn read_entry(
    cx: &mut Checker,
    fields: &[(Node, Node)],
) -> Result<ResiliencePolicy, Reported> {
    let defaults = cx.policies.defaults.clone();
    let base = match &defaults {
        _ if cx.policies.defaults_failed => Base::Unknown,
        Some(defaults) => Base::Defaults(defaults),
        None => Base::BuiltIn,
    };
    read(cx, fields, base)
}

/// What a policy is merged over, which the check of its retry delays
/// needs.
#[derive(Clone, Copy)]
enum Base<'a> {
    /// Nothing but the built-in values: the defaults themselves, or an
    /// entry of a service without defaults.
    BuiltIn,
    /// The service's `interaction_defaults`, then the built-in values.
    Defaults(&'a ResiliencePolicy),
    /// Defaults that had errors: what an entry inherits is unknown.
    Unknown,
}

/// The five policy keys among `fields`.
fn read(
    cx: &mut Checker,
    fields: &[(Node, Node)],
    base: Base<'_>,
) -> Result<ResiliencePolicy, Reported> {
    let timeout = duration_field(cx, fields, "timeout");
    let idempotent = boolean(cx, fields, "idempotent");
    let retry = retry(cx, fields, base);
    let circuit_breaker = circuit_breaker(cx, fields);
    let bulkhead = bulkhead(cx, fields);
    Ok(ResiliencePolicy {
        timeout: timeout?,
        idempotent: idempotent?,
        retry: retry?,
        circuit_breaker: circuit_breaker?,
        bulkhead: bulkhead?,
    })
}

/// The entries of a block (`retry: {...}`); `null` is absent.
fn block<'n>(
    cx: &mut Checker,
    fields: &'n [(Node, Node)],
    key: &str,
    known: &[&str],
) -> Field<&'n [(Node, Node)]> {
    let Some((_, node)) = entry(fields, key) else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    match &node.value {
        Value::Null => Ok(None),
        Value::Map(entries) => {
            cx.unknown_keys(entries, known, &format!("`{key}`"));
            Ok(Some(entries))
        }
        value => {
            let hint = match value {
                Value::Int(n) if key == "retry" => format!("write `retry: {{max_attempts: {n}}}`"),
                Value::Bool(true) => {
                    format!("write `{key}: {{}}` to get the built-in settings")
                }
                _ => format!("the keys of `{key}` are {}", suggest::one_of(known)),
            };
            Err(cx.report(wrong_type(node, key, "a mapping").with_hint(hint)))
        }
    }
}

fn retry(cx: &mut Checker, fields: &[(Node, Node)], base: Base<'_>) -> Field<RetrySpec> {
    let Some(entries) = block(cx, fields, "retry", keys::RETRY)? else {
        return Ok(None);
    };
    let max_attempts = unsigned32(cx, entries, "max_attempts", 1);
    let initial_delay = duration_field(cx, entries, "initial_delay");
    let max_delay = duration_field(cx, entries, "max_delay");
    let multiplier = number(cx, entries, "multiplier", Range::AtLeastOne);
    let jitter = number(cx, entries, "jitter", Range::Fraction);
    let delays = match (initial_delay, max_delay) {
        (Ok(initial), Ok(max)) => delays(cx, entries, initial, max, base),
        _ => Err(Reported),
    };
    let (initial_delay, max_delay) = delays?;
    Ok(Some(RetrySpec {
        max_attempts: max_attempts?,
        initial_delay,
        max_delay,
        multiplier: multiplier?,
        jitter: jitter?,
    }))
}

/// Checks that the delays, completed from the defaults and the built-in
/// values as the runtime will complete them, do not shrink: `max_delay`
/// must be at least `initial_delay`. Reported at a delay written in this
/// block: `max_delay` when given, else `initial_delay`.
fn delays(
    cx: &mut Checker,
    entries: &[(Node, Node)],
    initial: Option<Duration>,
    max: Option<Duration>,
    base: Base<'_>,
) -> Result<(Option<Duration>, Option<Duration>), Reported> {
    let inherited = match base {
        _ if initial.is_none() && max.is_none() => return Ok((initial, max)),
        Base::Unknown => return Ok((initial, max)),
        Base::BuiltIn => None,
        Base::Defaults(defaults) => defaults.retry.as_ref(),
    };
    cx.check(Severity::Error);
    let complete = |own: Option<Duration>, of: fn(&RetrySpec) -> Option<Duration>, name: &str| {
        let show = |d: Duration| duration::format(d);
        if let Some(own) = own {
            return (own, format!("`{name}` ({})", show(own)));
        }
        if let Some(from_defaults) = inherited.and_then(of) {
            let text = format!(
                "the `{name}` of `interaction_defaults` ({})",
                show(from_defaults)
            );
            return (from_defaults, text);
        }
        let built_in = of(&RetrySpec::BUILT_IN).unwrap_or_default();
        (
            built_in,
            format!("the built-in `{name}` ({})", show(built_in)),
        )
    };
    let (initial_value, initial_text) = complete(initial, |r| r.initial_delay, "initial_delay");
    let (max_value, max_text) = complete(max, |r| r.max_delay, "max_delay");
    if max_value >= initial_value {
        return Ok((initial, max));
    }
    let at_least = duration::format(initial_value);
    let (key, message, hint) = if max.is_some() {
        (
            "max_delay",
            format!("{max_text} is shorter than {initial_text}"),
            format!(
                "delays grow from `initial_delay` up to `max_delay`: make `max_delay` at least {at_least}"
            ),
        )
    } else {
        (
            "initial_delay",
            format!("{initial_text} is longer than {max_text}"),
            format!(
                "delays grow from `initial_delay` up to `max_delay`: give `max_delay` too, at least {at_least}"
            ),
        )
    };
    let Some((_, node)) = entry(entries, key) else {
        return Ok((initial, max));
    };
    Err(cx.report(Diagnostic::new(Code::OutOfRange, node.span, message).with_hint(hint)))
}

fn circuit_breaker(cx: &mut Checker, fields: &[(Node, Node)]) -> Field<CircuitBreakerSpec> {
    let Some(entries) = block(cx, fields, "circuit_breaker", keys::CIRCUIT_BREAKER)? else {
        return Ok(None);
    };
    let failure_ratio = number(cx, entries, "failure_ratio", Range::Ratio);
    let minimum_calls = unsigned32(cx, entries, "minimum_calls", 1);
    let window = duration_field(cx, entries, "window");
    let open_for = duration_field(cx, entries, "open_for");
    let half_open_calls = unsigned32(cx, entries, "half_open_calls", 1);
    Ok(Some(CircuitBreakerSpec {
        failure_ratio: failure_ratio?,
        minimum_calls: minimum_calls?,
        window: window?,
        open_for: open_for?,
        half_open_calls: half_open_calls?,
    }))
}

fn bulkhead(cx: &mut Checker, fields: &[(Node, Node)]) -> Field<BulkheadSpec> {
    let Some(entries) = block(cx, fields, "bulkhead", keys::BULKHEAD)? else {
        return Ok(None);
    };
    let max_concurrent = unsigned32(cx, entries, "max_concurrent", 1);
    let max_waiting = unsigned32(cx, entries, "max_waiting", 0);
    Ok(Some(BulkheadSpec {
        max_concurrent: max_concurrent?,
        max_waiting: max_waiting?,
    }))
}

/// A duration written as text (`250ms`, `2s`, `1m30s`), longer than zero
/// and at most a day.
fn duration_field(cx: &mut Checker, entries: &[(Node, Node)], key: &str) -> Field<Duration> {
    let Some((_, node)) = entry(entries, key) else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let positive = || {
        Diagnostic::new(
            Code::OutOfRange,
            node.span,
            format!(
                "`{key}` must be longer than 0, found {}",
                node.display_scalar()
            ),
        )
        .with_hint(DurationErrorKind::Negative.hint())
    };
    let text = match &node.value {
        Value::Null => return Ok(None),
        Value::Str(text) => text,
        Value::Int(n) if *n <= 0 => return Err(cx.report(positive())),
        Value::Int(_) | Value::Float(_) => {
            let number = node.display_scalar();
            let hint = match &node.value {
                Value::Int(_) => duration::unit_hint(&number),
                _ => {
                    "durations are whole numbers with a unit: write \"250ms\" or \"2s\"".to_owned()
                }
            };
            let message = format!("`{key}` needs a unit, found the number {number}");
            return Err(cx.report(
                Diagnostic::new(Code::InvalidDuration, node.span, message).with_hint(hint),
            ));
        }
        _ => {
            return Err(cx.report(
                wrong_type(node, key, "a duration such as \"2s\"")
                    .with_hint("write a number and its unit: \"250ms\", \"2s\", \"1m30s\""),
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(cx.report(
            Diagnostic::new(Code::EmptyValue, node.span, format!("`{key}` is empty"))
                .with_hint(format!("give `{key}` a value, or remove the key")),
        ));
    }
    match duration::parse(text) {
        Ok(value) if value.is_zero() => Err(cx.report(positive())),
        Ok(value) if value > MAX_DURATION => Err(cx.report(too_long(node, key))),
        Ok(value) => Ok(Some(value)),
        Err(error) => match error.kind {
            DurationErrorKind::Negative => Err(cx.report(positive())),
            DurationErrorKind::Overflow => Err(cx.report(too_long(node, key))),
            kind => {
                let span = inner_span(node, text, error.start, error.end);
                let message = format!("`{key}` is not a duration: {kind}");
                Err(cx.report(
                    Diagnostic::new(Code::InvalidDuration, span, message).with_hint(kind.hint()),
                ))
            }
        },
    }
}

fn too_long(node: &Node, key: &str) -> Diagnostic {
    Diagnostic::new(
        Code::OutOfRange,
        node.span,
        format!(
            "`{key}` must be at most {}, found {}",
            duration::format(MAX_DURATION),
            node.display_scalar()
        ),
    )
}

/// The ranges of the fractional fields.
#[derive(Clone, Copy)]
enum Range {
    /// `multiplier`: 1 or more.
    AtLeastOne,
    /// `jitter`: 0 to 1.
    Fraction,
    /// `failure_ratio`: more than 0, at most 1.
    Ratio,
}

impl Range {
    fn contains(self, value: f64) -> bool {
        match self {
            Range::AtLeastOne => value >= 1.0 && value.is_finite(),
            Range::Fraction => (0.0..=1.0).contains(&value),
            Range::Ratio => value > 0.0 && value <= 1.0,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Range::AtLeastOne => "at least 1",
            Range::Fraction => "between 0 and 1",
            Range::Ratio => "more than 0 and at most 1",
        }
    }

    fn hint(self, value: f64) -> String {
        match self {
            Range::AtLeastOne => {
                "each delay is the previous one times `multiplier`: 1 keeps them equal, 2 doubles them"
                    .to_owned()
            }
            Range::Fraction | Range::Ratio
                if value.fract() == 0.0 && (2.0..=100.0).contains(&value) =>
            {
                format!("it is a fraction, not a percentage: write {}", value / 100.0)
            }
            Range::Fraction => "the share of each delay added or taken away at random: 0.2 is ±20%".to_owned(),
            Range::Ratio => "the share of failed calls that opens the breaker: 0.5 is half".to_owned(),
        }
    }
}

/// A number (whole or not) in `range`.
fn number(cx: &mut Checker, entries: &[(Node, Node)], key: &str, range: Range) -> Field<f64> {
    let Some((_, node)) = entry(entries, key) else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let value = match &node.value {
        Value::Null => return Ok(None),
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        Value::Str(s) if s.trim().parse::<f64>().is_ok() => {
            return Err(
                cx.report(wrong_type(node, key, "a number").with_hint("write it without quotes"))
            );
        }
        _ => return Err(cx.report(wrong_type(node, key, "a number"))),
    };
    if range.contains(value) {
        return Ok(Some(value));
    }
    let message = format!(
        "`{key}` must be {}, found {}",
        range.describe(),
        node.display_scalar()
    );
    Err(cx
        .report(Diagnostic::new(Code::OutOfRange, node.span, message).with_hint(range.hint(value))))
}

impl Checker {
    /// Records that `use_case` declares `keyname` with `policy`, and warns
    /// when its circuit breaker or bulkhead differs from the first
    /// declaration's: those are per interaction, shared by every use case
    /// calling through it. Nothing is counted or compared for
    /// interactions without either, so files without policies are
    /// checked exactly as before.
    pub(super) fn declare_interaction(
        &mut self,
        use_case: &str,
        keyname: &str,
        owner: Span,
        fields: &[(Node, Node)],
        policy: &ResiliencePolicy,
    ) {
        if self.policies.defaults_failed {
            return;
        }
        let defaults = self.policies.defaults.clone().unwrap_or_default();
        let effective = policy.merged_over(&defaults);
        let at = |key: &str| {
            entry(fields, key).map_or(owner, |(k, v)| {
                if v.value == Value::Null {
                    k.span
                } else {
                    v.span
                }
            })
        };
        let circuit_breaker = Shared {
            value: effective
                .circuit_breaker
                .map(|b| b.merged_over(&CircuitBreakerSpec::BUILT_IN)),
            span: at("circuit_breaker"),
        };
        let bulkhead = Shared {
            value: effective
                .bulkhead
                .map(|b| b.merged_over(&BulkheadSpec::BUILT_IN)),
            span: at("bulkhead"),
        };
        let Some(first) = self.policies.first.get(keyname) else {
            let declaration = Declaration {
                use_case: use_case.to_owned(),
                circuit_breaker,
                bulkhead,
            };
            self.policies.first.insert(keyname.to_owned(), declaration);
            return;
        };
        let whose = if first.use_case == use_case {
            "another entry of this use case".to_owned()
        } else {
            format!("use case `{}`", first.use_case)
        };
        let breaker = compare(
            keyname,
            &whose,
            ("circuit breaker", "circuit_breaker"),
            &first.circuit_breaker,
            &circuit_breaker,
        );
        let bulkhead = compare(
            keyname,
            &whose,
            ("bulkhead", "bulkhead"),
            &first.bulkhead,
            &bulkhead,
        );
        for outcome in [breaker, bulkhead].into_iter().flatten() {
            self.check(Severity::Warning);
            if let Some(diagnostic) = outcome {
                self.report(diagnostic);
            }
        }
    }
}

/// `None` when the rule does not apply (neither side has the block);
/// otherwise the warning when the two declarations differ.
fn compare<T: PartialEq>(
    keyname: &str,
    whose: &str,
    (noun, key): (&str, &str),
    first: &Shared<T>,
    this: &Shared<T>,
) -> Option<Option<Diagnostic>> {
    if first.value.is_none() && this.value.is_none() {
        return None;
    }
    if first.value == this.value {
        return Some(None);
    }
    let message = match (&first.value, &this.value) {
        (Some(_), None) => format!("`{keyname}` has no {noun} here, but has one in {whose}"),
        (None, Some(_)) => format!("`{keyname}` has a {noun} here, but none in {whose}"),
        _ => format!("`{keyname}` has a different {noun} here than in {whose}"),
    };
    let hint = format!(
        "one {noun} guards every call to `{keyname}`, whichever use case makes it: declare the same `{key}` wherever `{keyname}` is declared (first at line {}, column {})",
        first.span.start.line, first.span.start.column
    );
    let diagnostic =
        Diagnostic::new(Code::ConflictingInteractionPolicy, this.span, message).with_hint(hint);
    Some(Some(diagnostic))
}
