//! One use case.

use super::fields::{extensions, opt_string, tags, wrong_type};
use super::{Checker, Reported, authorization, entry, interaction, keys, trigger};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Criticality, UseCaseMetadata};
use crate::node::{Node, Value};

pub(super) fn read(
    cx: &mut Checker,
    keyname: &str,
    key: &Node,
    node: &Node,
) -> Result<UseCaseMetadata, Reported> {
    let entries = cx.mapping(node, &format!("use case `{keyname}`"))?;
    cx.unknown_keys(entries, keys::USE_CASE, &format!("use case `{keyname}`"));
    let name = opt_string(cx, entries, "name");
    cx.check(Severity::Warning);
    if entry(entries, "name").is_none_or(|(_, name)| name.value == Value::Null) {
        cx.report(
            Diagnostic::new(
                Code::MissingUseCaseName,
                key.span,
                format!("use case `{keyname}` has no `name`"),
            )
            .with_hint("add a human-readable `name`; documentation falls back to the keyname"),
        );
    }
    let description = opt_string(cx, entries, "description");
    let actor = opt_string(cx, entries, "actor");
    let kind = opt_string(cx, entries, "type");
    let criticality = criticality(cx, entries);
    let tags = tags(cx, entries);
    let authorization = authorization::read(cx, entries);
    let triggers = trigger::read_all(cx, keyname, entries);
    if let Ok(triggers) = &triggers {
        authorization::check_owners(cx, keyname, entries, triggers);
        let inherited = authorization.as_ref().ok().and_then(Option::as_ref);
        authorization::check_public_authenticators(cx, inherited, entries, triggers);
    }
    let external_interactions = interaction::read_all(cx, keyname, entries);
    let extensions = extensions(cx, entries);
    Ok(UseCaseMetadata {
        keyname: keyname.to_owned(),
        name: name?,
        description: description?,
        actor: actor?,
        kind: kind?,
        authorization: authorization?,
        criticality: criticality?,
        tags: tags?.unwrap_or_default(),
        triggers: triggers?,
        external_interactions: external_interactions?,
        extensions,
    })
}

/// A level name in any case (`high`), its number (`70`), or the number as
/// a digit string (`"70"`); `medium` when absent.
fn criticality(cx: &mut Checker, entries: &[(Node, Node)]) -> Result<Criticality, Reported> {
    let Some((_, node)) = entry(entries, "criticality") else {
        return Ok(Criticality::default());
    };
    cx.check(Severity::Error);
    let number = |n: f64| {
        (n.fract() == 0.0 && n.abs() < 1e6)
            .then(|| Criticality::from_level(n as i64))
            .flatten()
    };
    let found = match &node.value {
        Value::Null => return Ok(Criticality::default()),
        Value::Str(s) => Criticality::from_name(s).or_else(|| {
            s.trim()
                .parse::<i64>()
                .ok()
                .and_then(Criticality::from_level)
        }),
        Value::Int(i) => Criticality::from_level(*i),
        Value::Float(f) => number(*f),
        _ => return Err(cx.report(wrong_type(node, "criticality", "a level name or number"))),
    };
    found.ok_or_else(|| {
        let levels: Vec<String> = Criticality::ALL
            .iter()
            .map(|c| format!("{} ({})", c.name(), c.level()))
            .collect();
        let hint = match &node.value {
            Value::Int(i) => {
                let nearest = Criticality::ALL
                    .into_iter()
                    .min_by_key(|c| (i64::from(c.level()) - i).abs())
                    .unwrap_or_default();
                format!(
                    "levels are exact; the nearest is {} ({})",
                    nearest.level(),
                    nearest.name()
                )
            }
            Value::Str(s) => {
                match crate::suggest::closest(s, Criticality::ALL.iter().map(|c| c.name())) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("use one of {}", levels.join(", ")),
                }
            }
            _ => format!("use one of {}", levels.join(", ")),
        };
        cx.report(
            Diagnostic::new(
                Code::InvalidCriticality,
                node.span,
                format!("{} is not a criticality level", node.display_scalar()),
            )
            .with_hint(hint),
        )
    })
}
