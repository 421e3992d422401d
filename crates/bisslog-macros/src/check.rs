//! The compile-time checks of `service!`: what the code registers against
//! what the metadata declares. Plain functions over the metadata, so they
//! are tested without a compiler; `S` is where a problem is reported in
//! the code (a `proc_macro2::Span` in the macro, anything in tests).

use indexmap::IndexMap;

use crate::metadata::Metadata;
use crate::suggest::{closest, listed};

/// A keyname the macro call writes, with where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Key<S> {
    pub(crate) name: String,
    pub(crate) at: S,
}

/// What a `service!` call registers. Each list's `at` is where a problem
/// about something *missing* from it is reported: its section's label,
/// or the file path when the section is left out.
#[derive(Debug, Clone)]
pub(crate) struct Registered<S> {
    pub(crate) use_cases: Vec<Key<S>>,
    pub(crate) use_cases_at: S,
    pub(crate) adapters: Vec<Key<S>>,
    pub(crate) adapters_at: S,
    pub(crate) blank: Vec<Key<S>>,
}

/// One disagreement between the call and the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem<S> {
    pub(crate) at: S,
    pub(crate) message: String,
}

/// Every disagreement, in the order of the call then of the file.
pub(crate) fn check<S: Copy>(metadata: &Metadata, registered: &Registered<S>) -> Vec<Problem<S>> {
    let mut problems = Vec::new();
    use_cases(metadata, registered, &mut problems);
    interactions(metadata, registered, &mut problems);
    problems
}

fn use_cases<S: Copy>(
    metadata: &Metadata,
    registered: &Registered<S>,
    problems: &mut Vec<Problem<S>>,
) {
    let file = &metadata.shown;
    let declared = &metadata.service.use_cases;
    let mut seen: Vec<&str> = Vec::new();
    for key in &registered.use_cases {
        let name = key.name.as_str();
        if seen.contains(&name) {
            problems.push(Problem {
                at: key.at,
                message: format!("use case `{name}` is registered twice"),
            });
            continue;
        }
        seen.push(name);
        if declared.contains_key(name) {
            continue;
        }
        // Where the keyname is declared as an external interaction, if it is one.
        let interaction = declared_interactions(metadata)
            .get(name)
            .and_then(|users| users.first().copied())
            .map(|use_case| metadata.at(metadata.locations.interaction(use_case, name)));
        let message = match (
            closest(name, declared.keys().map(String::as_str)),
            interaction,
        ) {
            // An adapter written under `use_cases`.
            (None, Some(at)) => format!(
                "no use case `{name}` in {file}; `{name}` is an external interaction ({at}): bind its adapter under `adapters`"
            ),
            (Some(near), _) => format!(
                "no use case `{name}` in {file}; did you mean `{near}` ({})?",
                metadata.at(metadata.locations.use_case(near))
            ),
            (None, None) if declared.is_empty() => {
                format!("no use case `{name}` in {file}; it declares none")
            }
            (None, None) => format!(
                "no use case `{name}` in {file}; it declares {}",
                listed(declared.keys().map(String::as_str), 8)
            ),
        };
        problems.push(Problem {
            at: key.at,
            message,
        });
    }
    for name in declared.keys() {
        if !seen.contains(&name.as_str()) {
            problems.push(Problem {
                at: registered.use_cases_at,
                message: format!(
                    "use case `{name}` is declared at {} and not registered; add `{name}: <its implementation>` under `use_cases`",
                    metadata.at(metadata.locations.use_case(name))
                ),
            });
        }
    }
}

/// Every external interaction keyname, with the use cases declaring it.
fn declared_interactions(metadata: &Metadata) -> IndexMap<&str, Vec<&str>> {
    let mut interactions: IndexMap<&str, Vec<&str>> = IndexMap::new();
    for (use_case, spec) in &metadata.service.use_cases {
        for interaction in &spec.external_interactions {
            let users = interactions
                .entry(interaction.keyname.as_str())
                .or_default();
            if !users.contains(&use_case.as_str()) {
                users.push(use_case);
            }
        }
    }
    interactions
}

fn interactions<S: Copy>(
    metadata: &Metadata,
    registered: &Registered<S>,
    problems: &mut Vec<Problem<S>>,
) {
    let file = &metadata.shown;
    let declared = declared_interactions(metadata);
    let first_at = |keyname: &str| {
        let users = declared.get(keyname).map(Vec::as_slice).unwrap_or_default();
        let use_case = users.first().copied().unwrap_or_default();
        metadata.at(metadata.locations.interaction(use_case, keyname))
    };
    let mut bound: Vec<&str> = Vec::new();
    let sections = [
        ("an adapter", &registered.adapters),
        ("blank", &registered.blank),
    ];
    for (section, keys) in sections {
        for key in keys {
            let name = key.name.as_str();
            if bound.contains(&name) {
                problems.push(Problem {
                    at: key.at,
                    message: format!(
                        "external interaction `{name}` is bound twice (under `adapters` or `blank`); keep one"
                    ),
                });
                continue;
            }
            bound.push(name);
            if declared.contains_key(name) {
                continue;
            }
            let what = if section == "blank" {
                format!(
                    "`blank` lists `{name}`, but no use case in {file} declares it as an external interaction"
                )
            } else {
                format!("no use case in {file} declares the external interaction `{name}`")
            };
            let use_case = metadata.locations.use_case(name);
            let message = match closest(name, declared.keys().copied()) {
                // A use case written under `adapters` or `blank`.
                None if use_case.is_some() => format!(
                    "{what}; `{name}` is a use case ({}): register it under `use_cases`",
                    metadata.at(use_case)
                ),
                Some(near) => format!("{what}; did you mean `{near}` ({})?", first_at(near)),
                None if declared.is_empty() => format!("{what}; it declares none"),
                None => format!(
                    "{what}; it declares {}",
                    listed(declared.keys().copied(), 8)
                ),
            };
            problems.push(Problem {
                at: key.at,
                message,
            });
        }
    }
    for (name, users) in &declared {
        if bound.contains(name) {
            continue;
        }
        let declared_by: Vec<String> = users
            .iter()
            .map(|use_case| {
                format!(
                    "`{use_case}` at {}",
                    metadata.at(metadata.locations.interaction(use_case, name))
                )
            })
            .collect();
        problems.push(Problem {
            at: registered.adapters_at,
            message: format!(
                "external interaction `{name}` has no adapter (declared by {}); add `{name}: <its adapter>` under `adapters`, or list it under `blank` to run without one",
                declared_by.join(", ")
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bisslog_schema::validate_str;

    const FILE: &str = "\
name: registry
use_cases:
  greet:
    name: greet
  create_schema:
    external_interactions:
      - keyname: schema_division
      - keyname: events
  delete_schema:
    external_interactions:
      - keyname: schema_division
";

    fn metadata() -> Metadata {
        let report = validate_str("metadata.yml", FILE);
        let locations = report.locations().clone();
        Metadata {
            shown: "metadata.yml".to_owned(),
            absolute: "metadata.yml".into(),
            service: report.into_service().expect("valid metadata"),
            locations,
        }
    }

    fn keys(names: &[&'static str]) -> Vec<Key<&'static str>> {
        names
            .iter()
            .map(|&name| Key {
                name: name.to_owned(),
                at: name,
            })
            .collect()
    }

    fn registered(
        use_cases: &[&'static str],
        adapters: &[&'static str],
        blank: &[&'static str],
    ) -> Registered<&'static str> {
        Registered {
            use_cases: keys(use_cases),
            use_cases_at: "use_cases:",
            adapters: keys(adapters),
            adapters_at: "adapters:",
            blank: keys(blank),
        }
    }

    fn messages<'a>(problems: &'a [Problem<&'static str>]) -> Vec<(&'static str, &'a str)> {
        problems
            .iter()
            .map(|p| (p.at, p.message.as_str()))
            .collect()
    }

    #[test]
    fn a_matching_call_has_no_problem() {
        let call = registered(
            &["greet", "create_schema", "delete_schema"],
            &["schema_division"],
            &["events"],
        );
        assert_eq!(check(&metadata(), &call), vec![]);
    }

    #[test]
    fn a_misspelt_use_case_is_reported_on_its_key_with_the_near_one() {
        let call = registered(
            &["gret", "create_schema", "delete_schema"],
            &["schema_division", "events"],
            &[],
        );
        assert_eq!(
            messages(&check(&metadata(), &call)),
            vec![
                (
                    "gret",
                    "no use case `gret` in metadata.yml; did you mean `greet` (metadata.yml:3:3)?"
                ),
                (
                    "use_cases:",
                    "use case `greet` is declared at metadata.yml:3:3 and not registered; add `greet: <its implementation>` under `use_cases`"
                ),
            ]
        );
    }

    #[test]
    fn an_unknown_use_case_lists_the_declared_ones() {
        let call = registered(
            &["greet", "create_schema", "delete_schema", "payments"],
            &["schema_division", "events"],
            &[],
        );
        assert_eq!(
            messages(&check(&metadata(), &call)),
            vec![(
                "payments",
                "no use case `payments` in metadata.yml; it declares `greet`, `create_schema` and `delete_schema`"
            )]
        );
    }

    #[test]
    fn a_use_case_registered_twice_is_reported_once() {
        let call = registered(
            &["greet", "greet", "create_schema", "delete_schema"],
            &["schema_division", "events"],
            &[],
        );
        assert_eq!(
            messages(&check(&metadata(), &call)),
            vec![("greet", "use case `greet` is registered twice")]
        );
    }

    #[test]
    fn an_interaction_without_adapter_names_every_use_case_declaring_it() {
        let call = registered(
            &["greet", "create_schema", "delete_schema"],
            &[],
            &["events"],
        );
        assert_eq!(
            messages(&check(&metadata(), &call)),
            vec![(
                "adapters:",
                "external interaction `schema_division` has no adapter (declared by `create_schema` at metadata.yml:7:18, `delete_schema` at metadata.yml:11:18); add `schema_division: <its adapter>` under `adapters`, or list it under `blank` to run without one"
            )]
        );
    }

    #[test]
    fn an_adapter_or_blank_for_an_undeclared_interaction_is_reported_on_its_key() {
        let call = registered(
            &["greet", "create_schema", "delete_schema"],
            &["schema_divison", "schema_division"],
            &["events", "payments"],
        );
        assert_eq!(
            messages(&check(&metadata(), &call)),
            vec![
                (
                    "schema_divison",
                    "no use case in metadata.yml declares the external interaction `schema_divison`; did you mean `schema_division` (metadata.yml:7:18)?"
                ),
                (
                    "payments",
                    "`blank` lists `payments`, but no use case in metadata.yml declares it as an external interaction; it declares `schema_division` and `events`"
                ),
            ]
        );
    }

    #[test]
    fn a_key_in_the_wrong_section_says_which_it_belongs_to() {
        let call = registered(
            &["greet", "create_schema", "delete_schema", "events"],
            &["schema_division", "greet"],
            &[],
        );
        assert_eq!(
            messages(&check(&metadata(), &call)),
            vec![
                (
                    "events",
                    "no use case `events` in metadata.yml; `events` is an external interaction (metadata.yml:8:18): bind its adapter under `adapters`"
                ),
                (
                    "greet",
                    "no use case in metadata.yml declares the external interaction `greet`; `greet` is a use case (metadata.yml:3:3): register it under `use_cases`"
                ),
                (
                    "adapters:",
                    "external interaction `events` has no adapter (declared by `create_schema` at metadata.yml:8:18); add `events: <its adapter>` under `adapters`, or list it under `blank` to run without one"
                ),
            ]
        );
    }

    #[test]
    fn an_interaction_bound_twice_is_reported() {
        let call = registered(
            &["greet", "create_schema", "delete_schema"],
            &["schema_division", "events"],
            &["events"],
        );
        assert_eq!(
            messages(&check(&metadata(), &call)),
            vec![(
                "events",
                "external interaction `events` is bound twice (under `adapters` or `blank`); keep one"
            )]
        );
    }
}
