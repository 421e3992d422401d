//! Mappers: `source: target` lines whose sources must suit the trigger.

use std::collections::HashMap;

use super::fields::wrong_type;
use super::{Checker, Field, Reported, entry, inner_span};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Mapper, MapperEntry, MapperSource, SourcePart};
use crate::node::{Node, Value};
use crate::span::Span;
use crate::suggest;

/// What a trigger kind's mapper may read.
pub(super) struct MapperRules {
    trigger: &'static str,
    sources: &'static [SourcePart],
    /// The HTTP path's variables, to check `path_query.<name>` sources.
    path_variables: Option<Vec<String>>,
}

impl MapperRules {
    pub(super) fn http(path_variables: Option<Vec<String>>) -> Self {
        Self {
            trigger: "HTTP",
            sources: &[
                SourcePart::PathQuery,
                SourcePart::Params,
                SourcePart::Body,
                SourcePart::Headers,
                SourcePart::Context,
            ],
            path_variables,
        }
    }

    pub(super) fn websocket() -> Self {
        Self {
            trigger: "websocket",
            sources: &[
                SourcePart::ConnectionId,
                SourcePart::RouteKey,
                SourcePart::Body,
                SourcePart::Headers,
            ],
            path_variables: None,
        }
    }

    pub(super) fn consumer() -> Self {
        Self {
            trigger: "consumer",
            sources: &[SourcePart::Event, SourcePart::Context],
            path_variables: None,
        }
    }

    fn prefixes(&self) -> Vec<&'static str> {
        self.sources.iter().map(|p| p.prefix()).collect()
    }
}

/// Words people use for a part, mapped to the prefix the format uses.
const SYNONYMS: &[(&str, &str)] = &[
    ("path", "path_query"),
    ("path_params", "path_query"),
    ("query", "params"),
    ("querystring", "params"),
    ("query_params", "params"),
    ("header", "headers"),
    ("payload", "body"),
    ("message", "event"),
    ("ctx", "context"),
];

/// The `mapper` of trigger options; absent means "use the default mapping".
pub(super) fn read(
    cx: &mut Checker,
    options: &[(Node, Node)],
    rules: &MapperRules,
) -> Field<Mapper> {
    let Some((_, node)) = entry(options, "mapper") else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let pairs = match &node.value {
        Value::Null => return Ok(None),
        Value::Map(pairs) => pairs,
        _ => {
            return Err(cx.report(wrong_type(
                node,
                "mapper",
                "a mapping from sources to argument names",
            )));
        }
    };
    let mut entries = Vec::with_capacity(pairs.len());
    let mut targets: HashMap<&str, Span> = HashMap::new();
    let mut failed = false;
    for (key, value) in pairs {
        let source = source(cx, key, rules);
        let target = target(cx, value);
        match (source, target) {
            (Ok(source), Ok(target)) => {
                cx.check(Severity::Warning);
                if let Some(first) = targets.get(target) {
                    let message = format!("`{target}` is filled by two sources");
                    let hint = format!(
                        "it is also the target at line {}, column {}; map each argument from one source",
                        first.start.line, first.start.column
                    );
                    cx.report(
                        Diagnostic::new(Code::DuplicateMapperTarget, value.span, message)
                            .with_hint(hint),
                    );
                } else {
                    targets.insert(target, value.span);
                }
                entries.push(MapperEntry {
                    source,
                    target: target.to_owned(),
                });
            }
            _ => failed = true,
        }
    }
    if failed {
        Err(Reported)
    } else {
        Ok(Some(Mapper { entries }))
    }
}

/// A source such as `body.a.b`: a prefix this trigger provides, then keys.
fn source(cx: &mut Checker, key: &Node, rules: &MapperRules) -> Result<MapperSource, Reported> {
    cx.check(Severity::Error);
    let Some(text) = key.as_str() else {
        return Err(cx.report(wrong_type(
            key,
            "mapper source",
            "a string such as `body.name`",
        )));
    };
    let mut parts = text.split('.');
    let prefix = parts.next().unwrap_or_default();
    let path: Vec<String> = parts.map(str::to_owned).collect();
    let allowed = rules.prefixes();
    let part = SourcePart::from_prefix(prefix).filter(|p| rules.sources.contains(p));
    let Some(part) = part else {
        let span = inner_span(key, text, 0, prefix.len());
        let known_elsewhere = SourcePart::from_prefix(prefix).is_some();
        let message = if known_elsewhere {
            format!("{} triggers have no `{prefix}` to map from", rules.trigger)
        } else {
            format!("`{prefix}` is not a mapper source")
        };
        let synonym = SYNONYMS
            .iter()
            .find(|(word, canonical)| {
                word.eq_ignore_ascii_case(prefix) && allowed.contains(canonical)
            })
            .map(|(_, canonical)| *canonical);
        let hint = match synonym.or_else(|| suggest::closest(prefix, allowed.iter().copied())) {
            Some(close) => format!(
                "did you mean `{close}`? {} triggers map from {}",
                rules.trigger,
                suggest::one_of(&allowed)
            ),
            None => format!(
                "{} triggers map from {}",
                rules.trigger,
                suggest::one_of(&allowed)
            ),
        };
        return Err(
            cx.report(Diagnostic::new(Code::InvalidMapperSource, span, message).with_hint(hint))
        );
    };
    if path.iter().any(String::is_empty) {
        return Err(cx.report(
            Diagnostic::new(
                Code::InvalidMapperSource,
                key.span,
                format!("`{text}` has an empty key between dots"),
            )
            .with_hint("write sources as `body` or `body.key.subkey`"),
        ));
    }
    if matches!(part, SourcePart::ConnectionId | SourcePart::RouteKey) && !path.is_empty() {
        return Err(cx.report(
            Diagnostic::new(
                Code::InvalidMapperSource,
                key.span,
                format!("`{prefix}` is a single value; it has no keys"),
            )
            .with_hint(format!("write `{prefix}` alone")),
        ));
    }
    cx.check(Severity::Warning);
    if let (SourcePart::PathQuery, Some(variables), Some(name)) =
        (part, &rules.path_variables, path.first())
        && !variables.iter().any(|v| v == name)
    {
        let hint = match variables.as_slice() {
            [] => "the path has no variables; add `{name}` segments to it".to_owned(),
            vars => {
                let names: Vec<&str> = vars.iter().map(String::as_str).collect();
                format!("the path's variables are {}", suggest::one_of(&names))
            }
        };
        cx.report(
            Diagnostic::new(
                Code::UnknownPathVariable,
                key.span,
                format!("the path has no variable `{{{name}}}`"),
            )
            .with_hint(hint),
        );
    }
    Ok(MapperSource { part, path })
}

/// A target: the argument name, non-empty, dots nesting.
fn target<'n>(cx: &mut Checker, value: &'n Node) -> Result<&'n str, Reported> {
    cx.check(Severity::Error);
    let Some(target) = value.as_str() else {
        return Err(cx.report(
            Diagnostic::new(
                Code::InvalidMapperTarget,
                value.span,
                format!(
                    "a mapper target must be the name of an argument, found {}",
                    super::describe(value)
                ),
            )
            .with_hint("write the argument name as text, e.g. `body: data`"),
        ));
    };
    if target.trim().is_empty() || target.split('.').any(|part| part.trim().is_empty()) {
        return Err(cx.report(
            Diagnostic::new(
                Code::InvalidMapperTarget,
                value.span,
                format!("{} is not an argument name", value.display_scalar()),
            )
            .with_hint("targets are names such as `user_id`; dots nest them (`address.city`)"),
        ));
    }
    Ok(target)
}
