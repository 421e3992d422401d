//! `authorization`: who may call a use case or one of its HTTP and
//! WebSocket triggers.

use super::fields::{string, wrong_type};
use super::{Checker, Field, Reported, entry, keys};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Authorization, Mapper, TriggerKind, TriggerMetadata};
use crate::node::{Node, Value};

/// The `authorization` key of `entries`, when present: `public`, or a
/// mapping of `roles`, `scopes` and `owner`.
pub(super) fn read(cx: &mut Checker, entries: &[(Node, Node)]) -> Field<Authorization> {
    let Some((_, node)) = entry(entries, "authorization") else {
        return Ok(None);
    };
    cx.check(Severity::Error);
    let rule = match &node.value {
        Value::Null => return Ok(None),
        Value::Str(word) if word == "public" => return Ok(Some(Authorization::public())),
        Value::Map(rule) => rule,
        _ => {
            let found = node.display_scalar();
            let message = match &node.value {
                Value::Str(_) => {
                    format!("`authorization` is {found}; the only word it takes is `public`")
                }
                _ => format!(
                    "`authorization` must be `public` or a mapping, found {}",
                    super::describe(node)
                ),
            };
            return Err(cx.report(
                Diagnostic::new(Code::InvalidAuthorization, node.span, message).with_hint(
                    "write `authorization: public`, or a mapping such as `{roles: [admin], scopes: [items:write], owner: user_id}`",
                ),
            ));
        }
    };
    cx.unknown_keys(rule, keys::AUTHORIZATION, "`authorization`");
    let roles = names(cx, rule, "roles");
    let scopes = names(cx, rule, "scopes");
    let owner = match entry(rule, "owner") {
        None => Ok(None),
        Some((_, node)) => string(cx, node, "owner").map(|o| o.map(str::to_owned)),
    };
    Ok(Some(Authorization {
        public: false,
        roles: roles?,
        scopes: scopes?,
        owner: owner?,
    }))
}

/// `roles` or `scopes`: one name or a list of names, none of them empty.
fn names(cx: &mut Checker, rule: &[(Node, Node)], key: &str) -> Result<Vec<String>, Reported> {
    let Some((_, node)) = entry(rule, key) else {
        return Ok(Vec::new());
    };
    cx.check(Severity::Error);
    let items: Vec<&Node> = match &node.value {
        Value::Null => return Ok(Vec::new()),
        Value::Str(_) => vec![node],
        Value::Seq(items) => items.iter().collect(),
        _ => return Err(cx.report(wrong_type(node, key, "a name or a list of names"))),
    };
    let mut names = Vec::with_capacity(items.len());
    let mut failed = false;
    let singular = key.trim_end_matches('s');
    for item in items {
        cx.check(Severity::Error);
        match &item.value {
            Value::Str(name) if !name.trim().is_empty() => names.push(name.clone()),
            Value::Str(_) | Value::Null => {
                cx.report(
                    Diagnostic::new(
                        Code::InvalidAuthorization,
                        item.span,
                        format!("an empty {singular} name in `{key}`"),
                    )
                    .with_hint(format!("name the {singular}, or remove the entry")),
                );
                failed = true;
            }
            _ => {
                cx.report(wrong_type(item, singular, "a string"));
                failed = true;
            }
        }
    }
    if failed { Err(Reported) } else { Ok(names) }
}

/// Warns when a rule's `owner` names a field none of the `mappers` of the
/// triggers it applies to fills. A trigger without a mapper takes the
/// request's fields as they come, so any name may be filled: no warning
/// then.
fn check_owner(cx: &mut Checker, use_case: &str, owner: &Node, mappers: &[Option<&Mapper>]) {
    let Value::Str(owner_name) = &owner.value else {
        return;
    };
    cx.check(Severity::Warning);
    let mut targets = Vec::new();
    for mapper in mappers {
        let Some(mapper) = mapper else {
            return;
        };
        targets.extend(mapper.entries.iter().map(|e| e.target.as_str()));
    }
    if mappers.is_empty() {
        return;
    }
    let filled = targets.iter().any(|target| {
        *target == owner_name
            || owner_name
                .strip_prefix(*target)
                .is_some_and(|rest| rest.starts_with('.'))
    });
    if filled {
        return;
    }
    let hint = match crate::suggest::closest(owner_name, targets.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("map the owner's id to it, e.g. `path_query.{owner_name}: {owner_name}`"),
    };
    cx.report(
        Diagnostic::new(
            Code::UnknownOwnerField,
            owner.span,
            format!(
                "`owner: {owner_name}` names no field the mappers of use case `{use_case}` fill, so every caller would be refused"
            ),
        )
        .with_hint(hint),
    );
}

/// The `owner` node of the `authorization` in `entries`, if any.
fn owner_node(entries: &[(Node, Node)]) -> Option<&Node> {
    let (_, rule) = entry(entries, "authorization")?;
    let Value::Map(rule) = &rule.value else {
        return None;
    };
    entry(rule, "owner").map(|(_, owner)| owner)
}

/// Checks the `owner` of the use case's rule against the mappers of the
/// triggers it applies to, and each trigger's own `owner` against its
/// mapper. `entries` are the use case's, `triggers` what was read from
/// them.
pub(super) fn check_owners(
    cx: &mut Checker,
    use_case: &str,
    entries: &[(Node, Node)],
    triggers: &[TriggerMetadata],
) {
    let trigger_nodes: &[Node] = match entry(entries, "triggers").map(|(_, n)| &n.value) {
        Some(Value::Seq(items)) if items.len() == triggers.len() => items,
        _ => &[],
    };
    let mut inherited = Vec::new();
    for (index, trigger) in triggers.iter().enumerate() {
        let (own, mapper) = match &trigger.kind {
            TriggerKind::Http(http) => (http.authorization.is_some(), http.mapper.as_ref()),
            TriggerKind::WebSocket(ws) => (ws.authorization.is_some(), ws.mapper.as_ref()),
            TriggerKind::Consumer(_) | TriggerKind::Schedule(_) => continue,
        };
        if !own {
            inherited.push(mapper);
            continue;
        }
        let options = trigger_nodes.get(index).and_then(|node| match &node.value {
            Value::Map(trigger) => match entry(trigger, "options").map(|(_, o)| &o.value) {
                Some(Value::Map(options)) => Some(options.as_slice()),
                _ => None,
            },
            _ => None,
        });
        if let Some(owner) = options.and_then(owner_node) {
            check_owner(cx, use_case, owner, &[mapper]);
        }
    }
    if let Some(owner) = owner_node(entries) {
        check_owner(cx, use_case, owner, &inherited);
    }
}

/// Warns about HTTP triggers that name an `authenticator` while their
/// rule (their own, else the use case's `inherited` one) is `public`: a
/// public route reads no credentials, so the authenticator never runs.
pub(super) fn check_public_authenticators(
    cx: &mut Checker,
    inherited: Option<&Authorization>,
    entries: &[(Node, Node)],
    triggers: &[TriggerMetadata],
) {
    let trigger_nodes: &[Node] = match entry(entries, "triggers").map(|(_, n)| &n.value) {
        Some(Value::Seq(items)) if items.len() == triggers.len() => items,
        _ => return,
    };
    for (trigger, node) in triggers.iter().zip(trigger_nodes) {
        let TriggerKind::Http(http) = &trigger.kind else {
            continue;
        };
        cx.check(Severity::Warning);
        let (Some(authenticator), Some(rule)) = (
            &http.authenticator,
            http.authorization.as_ref().or(inherited),
        ) else {
            continue;
        };
        if !rule.public {
            continue;
        }
        let key = match &node.value {
            Value::Map(trigger) => match entry(trigger, "options").map(|(_, o)| &o.value) {
                Some(Value::Map(options)) => entry(options, "authenticator").map(|(key, _)| key),
                _ => None,
            },
            _ => None,
        };
        let Some(key) = key else { continue };
        let whose = if http.authorization.is_some() {
            "this trigger"
        } else {
            "its use case"
        };
        cx.report(
            Diagnostic::new(
                Code::PublicWithAuthenticator,
                key.span,
                format!(
                    "authenticator `{authenticator}` never runs: {whose} is `authorization: public`, and a public route reads no credentials"
                ),
            )
            .with_hint(
                "remove the `authenticator`, or replace `public` with the rule the caller must meet",
            ),
        );
    }
}

/// Warns about `authorization` in the options of a trigger that runs as
/// the service itself.
pub(super) fn unchecked(cx: &mut Checker, options: &[(Node, Node)], kind: &str) {
    cx.check(Severity::Warning);
    if let Some((key, _)) = entry(options, "authorization") {
        cx.report(
            Diagnostic::new(
                Code::UncheckedAuthorization,
                key.span,
                format!("`authorization` has no effect on a {kind} trigger"),
            )
            .with_hint(format!(
                "{kind} triggers run as the service itself, with no caller to check; remove the key"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::code::Code;

    fn warnings(text: &str) -> Vec<(Code, u32)> {
        crate::validate_str("metadata.yml", text)
            .diagnostics()
            .iter()
            .map(|d| (d.code, d.span.start.line))
            .collect()
    }

    const ROUTE: &str = "name: s\nuse_cases:\n  get:\n    name: get\n    triggers:\n      - type: http\n        options:\n          method: get\n          path: /items\n          authenticator: user\n";

    #[test]
    fn a_public_trigger_with_an_authenticator_is_flagged_at_the_authenticator() {
        let text = format!("{ROUTE}          authorization: public\n");
        assert_eq!(warnings(&text), vec![(Code::PublicWithAuthenticator, 10)]);
    }

    #[test]
    fn a_trigger_rule_replaces_a_public_use_case() {
        let text = ROUTE.replace(
            "    name: get\n",
            "    name: get\n    authorization: public\n",
        );
        assert_eq!(warnings(&text), vec![(Code::PublicWithAuthenticator, 11)]);
        let text = format!("{text}          authorization: {{roles: [admin]}}\n");
        assert_eq!(warnings(&text), vec![]);
    }

    #[test]
    fn a_route_without_an_authenticator_may_be_public() {
        let text = ROUTE.replace(
            "          authenticator: user\n",
            "          authorization: public\n",
        );
        assert_eq!(warnings(&text), vec![]);
    }
}
