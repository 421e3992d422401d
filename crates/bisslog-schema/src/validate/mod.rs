//! The validator: one walk over the [`Node`] tree that builds the typed
//! model and reports every problem it meets, without stopping at the first.
//!
//! Each reader returns a [`Field`]: absent, present and valid, or
//! [`Reported`] (a diagnostic was emitted). Readers read every field of an
//! object before combining them, so one bad field never hides another.

mod authorization;
mod fields;
mod http;
mod interaction;
pub(crate) mod keys;
mod mapper;
mod policy;
mod queues;
mod routes;
mod service;
mod trigger;
mod use_case;

use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::ServiceMetadata;
use crate::node::{Node, Style, Value};
use crate::span::Span;
use crate::suggest;

/// How many rules the validator evaluated, by the severity of what they
/// would report. `bisslog analyze` prints these the way the Python
/// analyzer prints its validation counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checks {
    /// Rules that report errors.
    pub errors: usize,
    /// Rules that report warnings.
    pub warnings: usize,
}

/// Marks a value whose problem has already been reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reported;

/// The outcome of reading one optional field.
pub(crate) type Field<T> = Result<Option<T>, Reported>;

/// Validates a parsed document and builds the model when it has no errors.
pub(crate) fn validate(root: &Node) -> (Option<ServiceMetadata>, Vec<Diagnostic>, Checks) {
    let mut cx = Checker::default();
    let service = service::read(&mut cx, root);
    cx.check_queues();
    let has_errors = cx.diagnostics.iter().any(Diagnostic::is_error);
    let service = if has_errors { None } else { service.ok() };
    (service, cx.diagnostics, cx.checks)
}

/// The state of one validation: what has been found so far.
#[derive(Default)]
pub(crate) struct Checker {
    diagnostics: Vec<Diagnostic>,
    checks: Checks,
    routes: routes::Routes,
    policies: policy::Policies,
    queues: queues::Queues,
}

impl Checker {
    /// Records a diagnostic.
    pub(crate) fn report(&mut self, diagnostic: Diagnostic) -> Reported {
        self.diagnostics.push(diagnostic);
        Reported
    }

    /// Counts one evaluated rule of the given severity.
    pub(crate) fn check(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.checks.errors += 1,
            Severity::Warning => self.checks.warnings += 1,
        }
    }

    /// The entries of a mapping, or a wrong-type error naming `what`.
    pub(crate) fn mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
    ) -> Result<&'n [(Node, Node)], Reported> {
        self.check(Severity::Error);
        match &node.value {
            Value::Map(entries) => Ok(entries),
            _ => Err(self.report(Diagnostic::new(
                Code::WrongType,
                node.span,
                format!("{what} must be a mapping, found {}", describe(node)),
            ))),
        }
    }

    /// Warns about keys outside `known`, suggesting the closest known key.
    /// Keys starting with `x-` are extensions and always allowed.
    pub(crate) fn unknown_keys(&mut self, entries: &[(Node, Node)], known: &[&str], within: &str) {
        for (key, _) in entries {
            self.check(Severity::Warning);
            let name = match &key.value {
                Value::Str(name) => name.as_str(),
                _ => {
                    self.report(
                        Diagnostic::new(
                            Code::UnknownKey,
                            key.span,
                            format!("unknown key {} in {within}", key.display_scalar()),
                        )
                        .with_hint(format!(
                            "the keys of {within} are {}",
                            suggest::one_of(known)
                        )),
                    );
                    continue;
                }
            };
            if known.contains(&name) || name.starts_with("x-") {
                continue;
            }
            let hint = match suggest::closest(name, known.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!(
                    "the keys of {within} are {}; extensions go under keys starting with `x-`",
                    suggest::one_of(known)
                ),
            };
            self.report(
                Diagnostic::new(
                    Code::UnknownKey,
                    key.span,
                    format!("unknown key `{name}` in {within}"),
                )
                .with_hint(hint),
            );
        }
    }
}

/// The entry of a mapping with a given string key.
pub(crate) fn entry<'n>(entries: &'n [(Node, Node)], key: &str) -> Option<(&'n Node, &'n Node)> {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(k, v)| (k, v))
}

/// "a number (245)" — the type and, for scalars, the value, for messages.
pub(crate) fn describe(node: &Node) -> String {
    match &node.value {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
            format!("{} ({})", node.kind_name(), node.display_scalar())
        }
        _ => node.kind_name().to_owned(),
    }
}

/// The span of the characters `start..end` (byte offsets into the string
/// value) of a scalar, when the scalar is written on one line without
/// escapes so its text is its value; the whole scalar otherwise.
pub(crate) fn inner_span(node: &Node, value: &str, start: usize, end: usize) -> Span {
    let chars = |s: &str| u32::try_from(s.chars().count()).unwrap_or(u32::MAX);
    let quote = match node.style {
        Style::Plain => 0,
        Style::Quoted => 1,
        Style::Other => return node.span,
    };
    let one_line = node.span.start.line == node.span.end.line;
    let width = node.span.end.column.saturating_sub(node.span.start.column);
    let (Some(before), Some(inside)) = (value.get(..start), value.get(start..end.max(start)))
    else {
        return node.span;
    };
    if !one_line || width != chars(value) + 2 * quote {
        return node.span;
    }
    node.span.sub(quote + chars(before), chars(inside).max(1))
}
