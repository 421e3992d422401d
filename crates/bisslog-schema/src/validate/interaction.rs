//! External interactions, in their list form (`- keyname: x`) and their
//! map form (`x: {type_interaction: ...}`).

use super::fields::{opt_string, required_string, scalar_text, string, wrong_type};
use super::{Checker, Reported, entry, keys, policy};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{ExternalInteraction, InteractionType};
use crate::node::{Node, Value};
use crate::span::Span;
use crate::suggest;

/// The `external_interactions` of a use case.
pub(super) fn read_all(
    cx: &mut Checker,
    use_case: &str,
    entries: &[(Node, Node)],
) -> Result<Vec<ExternalInteraction>, Reported> {
    let Some((_, node)) = entry(entries, "external_interactions") else {
        return Ok(Vec::new());
    };
    cx.check(Severity::Error);
    let mut interactions = Vec::new();
    let mut failed = false;
    match &node.value {
        Value::Null => {}
        Value::Seq(items) => {
            for item in items {
                cx.check(Severity::Error);
                let read = match &item.value {
                    Value::Map(fields) => {
                        read_one(cx, use_case, None, Span::point(item.span.start), fields)
                    }
                    _ => Err(cx.report(
                        wrong_type(item, "external_interactions", "a list of mappings")
                            .with_hint(list_item_hint(item)),
                    )),
                };
                match read {
                    Ok(interaction) => interactions.push(interaction),
                    Err(Reported) => failed = true,
                }
            }
        }
        Value::Map(pairs) => {
            for (key, value) in pairs {
                cx.check(Severity::Error);
                let keyname = scalar_text(key);
                let read = match &value.value {
                    Value::Map(fields) => read_one(cx, use_case, Some(&keyname), key.span, fields),
                    Value::Null => read_one(cx, use_case, Some(&keyname), key.span, &[]),
                    _ => {
                        let label = format!("external_interactions.{keyname}");
                        let hint = "in the map form each keyname maps to `{type_interaction: ..., operation: ...}`";
                        Err(cx.report(wrong_type(value, &label, "a mapping").with_hint(hint)))
                    }
                };
                match read {
                    Ok(interaction) => interactions.push(interaction),
                    Err(Reported) => failed = true,
                }
            }
        }
        _ => {
            return Err(cx.report(
                wrong_type(node, "external_interactions", "a list or a mapping").with_hint(
                    "write `- keyname: <port>` items, or a mapping from keynames to interactions",
                ),
            ));
        }
    }
    if failed {
        Err(Reported)
    } else {
        Ok(interactions)
    }
}

fn list_item_hint(item: &Node) -> String {
    match item.as_str() {
        Some(name) => format!("write `- keyname: {name}`"),
        None => "each item is a mapping with at least a `keyname`".to_owned(),
    }
}

/// One interaction; `keyname` comes from the map key in the map form.
fn read_one(
    cx: &mut Checker,
    use_case: &str,
    map_key: Option<&str>,
    owner: Span,
    fields: &[(Node, Node)],
) -> Result<ExternalInteraction, Reported> {
    cx.unknown_keys(fields, keys::INTERACTION, "an external interaction");
    let keyname = match map_key {
        Some(keyname) => Ok(keyname.to_owned()),
        None => required_string(cx, fields, "keyname", owner, "this external interaction")
            .map(|(_, k)| k.to_owned()),
    };
    let type_interaction = type_interaction(cx, fields);
    let operation = operation(cx, fields);
    let queue_kind = super::trigger::queue_kind(cx, fields);
    let description = opt_string(cx, fields, "description");
    let desc = opt_string(cx, fields, "desc");
    let policy = policy::read_entry(cx, fields);
    if let Ok(kind) = &type_interaction
        && *kind != Some(InteractionType::Publisher)
        && let Some((key, _)) = entry(fields, "queue_kind")
    {
        let what = kind.as_ref().map_or_else(
            || "an interaction without a `type_interaction`".to_owned(),
            |kind| format!("a `{kind}` interaction"),
        );
        cx.report(
            Diagnostic::new(
                Code::QueueKindWithoutQueue,
                key.span,
                format!("`queue_kind` has no effect on {what}"),
            )
            .with_hint(
                "only publishers and consumer triggers name queues; remove the key, or write `type_interaction: publisher` if this port publishes",
            ),
        );
    }
    if let (Ok(Some(InteractionType::Publisher)), Ok(operations)) = (&type_interaction, &operation)
    {
        publisher_queues(cx, fields, owner, operations);
        if let Ok(kind) = queue_kind {
            let span = entry(fields, "operation").map_or(owner, |(_, node)| node.span);
            for queue in operations {
                cx.use_queue(queue, use_case, false, kind, span);
            }
        }
    }
    if let (Ok(keyname), Ok(policy)) = (&keyname, &policy) {
        cx.declare_interaction(use_case, keyname, owner, fields, policy);
    }
    Ok(ExternalInteraction {
        keyname: keyname?,
        type_interaction: type_interaction?,
        operation: operation?,
        queue_kind: queue_kind?,
        description: description?.or(desc?),
        policy: policy?,
    })
}

fn type_interaction(
    cx: &mut Checker,
    fields: &[(Node, Node)],
) -> Result<Option<InteractionType>, Reported> {
    let Some((_, node)) = entry(fields, "type_interaction") else {
        return Ok(None);
    };
    let Some(name) = string(cx, node, "type_interaction")? else {
        return Ok(None);
    };
    let kind = InteractionType::parse(name.trim());
    cx.check(Severity::Warning);
    if !kind.is_standard() {
        let names: Vec<&str> = InteractionType::STANDARD
            .iter()
            .flat_map(|(canonical, aliases)| {
                std::iter::once(*canonical).chain(aliases.iter().copied())
            })
            .collect();
        let hint = match suggest::closest(name, names.iter().copied()) {
            Some(close) => format!("did you mean `{close}`?"),
            None => {
                let canonical: Vec<&str> =
                    InteractionType::STANDARD.iter().map(|(c, _)| *c).collect();
                format!("the standard types are {}", suggest::one_of(&canonical))
            }
        };
        cx.report(
            Diagnostic::new(
                Code::NonStandardInteractionType,
                node.span,
                format!("`{name}` is not a standard interaction type"),
            )
            .with_hint(hint),
        );
    }
    Ok(Some(kind))
}

/// A publisher's `operation` names the queue(s) it publishes to, so it must
/// be there and each name must be usable as a queue name (no whitespace).
fn publisher_queues(cx: &mut Checker, fields: &[(Node, Node)], owner: Span, operations: &[String]) {
    const HINT: &str = "name the queue it publishes to, e.g. `company_data.inserted`";
    cx.check(Severity::Warning);
    let Some((key, node)) = entry(fields, "operation") else {
        cx.report(
            Diagnostic::new(
                Code::PublisherWithoutQueue,
                owner,
                "this publisher does not say which queue it publishes to",
            )
            .with_hint(HINT),
        );
        return;
    };
    if operations.is_empty() {
        cx.report(
            Diagnostic::new(
                Code::PublisherWithoutQueue,
                key.span,
                "this publisher's `operation` names no queue",
            )
            .with_hint(HINT),
        );
        return;
    }
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    for item in items {
        let Some(name) = item.as_str() else { continue };
        if name.chars().any(char::is_whitespace) {
            cx.report(
                Diagnostic::new(
                    Code::PublisherWithoutQueue,
                    item.span,
                    format!("`{name}` cannot be a queue name: it contains whitespace"),
                )
                .with_hint(HINT),
            );
        }
    }
}

/// `operation`: one name, or a list of names.
fn operation(cx: &mut Checker, fields: &[(Node, Node)]) -> Result<Vec<String>, Reported> {
    let Some((_, node)) = entry(fields, "operation") else {
        return Ok(Vec::new());
    };
    match &node.value {
        Value::Seq(items) => {
            let mut operations = Vec::with_capacity(items.len());
            let mut failed = false;
            for item in items {
                match string(cx, item, "operation") {
                    Ok(Some(op)) => operations.push(op.to_owned()),
                    Ok(None) => {}
                    Err(Reported) => failed = true,
                }
            }
            if failed {
                Err(Reported)
            } else {
                Ok(operations)
            }
        }
        Value::Map(_) => {
            cx.check(Severity::Error);
            Err(cx.report(wrong_type(
                node,
                "operation",
                "a string or a list of strings",
            )))
        }
        _ => Ok(string(cx, node, "operation")?
            .map(str::to_owned)
            .into_iter()
            .collect()),
    }
}
