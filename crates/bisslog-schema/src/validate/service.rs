//! The top level: the service and its use cases.

use indexmap::IndexMap;

use super::fields::{extensions, opt_string, required_string, scalar_text, tags, wrong_type};
use super::{Checker, Reported, entry, keys, policy, use_case};
use crate::code::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::ServiceMetadata;
use crate::node::{Node, Value};
use crate::span::Span;

pub(super) fn read(cx: &mut Checker, root: &Node) -> Result<ServiceMetadata, Reported> {
    cx.check(Severity::Error);
    let Value::Map(entries) = &root.value else {
        return Err(cx.report(
            Diagnostic::new(
                Code::TopLevelNotMapping,
                root.span,
                format!(
                    "the top level must be a mapping of service fields, found {}",
                    root.kind_name()
                ),
            )
            .with_hint(
                "a metadata file starts with `name: <service name>` followed by `use_cases:`",
            ),
        ));
    };
    cx.unknown_keys(entries, keys::SERVICE, "the service");
    let top = Span::point(root.span.start);
    let name = required_string(cx, entries, "name", top, "the service");
    let description = opt_string(cx, entries, "description");
    let kind = opt_string(cx, entries, "type");
    let service_type = opt_string(cx, entries, "service_type");
    let team = opt_string(cx, entries, "team");
    let tags = tags(cx, entries);
    // Read before the use cases: their interactions are merged over it.
    let interaction_defaults = policy::read_defaults(cx, entries);
    let use_cases = use_cases(cx, entries, top);
    let extensions = extensions(cx, entries);
    Ok(ServiceMetadata {
        name: name?.1.to_owned(),
        description: description?,
        kind: kind?,
        service_type: service_type?,
        team: team?,
        tags: tags?.unwrap_or_default(),
        interaction_defaults: interaction_defaults?,
        use_cases: use_cases?,
        extensions,
    })
}

fn use_cases(
    cx: &mut Checker,
    entries: &[(Node, Node)],
    top: Span,
) -> Result<IndexMap<String, crate::model::UseCaseMetadata>, Reported> {
    cx.check(Severity::Warning);
    let Some((key, node)) = entry(entries, "use_cases") else {
        cx.report(
            Diagnostic::new(Code::NoUseCases, top, "the service declares no use cases")
                .with_hint("add a `use_cases:` mapping from keynames to use cases"),
        );
        return Ok(IndexMap::new());
    };
    cx.check(Severity::Error);
    let pairs = match &node.value {
        Value::Map(pairs) => pairs,
        Value::Null => &Vec::new(),
        _ => {
            return Err(cx.report(wrong_type(
                node,
                "use_cases",
                "a mapping from keynames to use cases",
            )));
        }
    };
    if pairs.is_empty() {
        cx.report(Diagnostic::new(
            Code::NoUseCases,
            key.span,
            "the service declares no use cases",
        ));
    }
    let mut use_cases = IndexMap::with_capacity(pairs.len());
    let mut failed = false;
    for (key, value) in pairs {
        let keyname = scalar_text(key);
        match use_case::read(cx, &keyname, key, value) {
            Ok(use_case) => {
                use_cases.insert(keyname, use_case);
            }
            Err(Reported) => failed = true,
        }
    }
    if failed { Err(Reported) } else { Ok(use_cases) }
}
