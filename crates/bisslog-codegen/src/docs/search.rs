//! The search box: an index of services and use cases in
//! `search-index.js`, and a few lines of plain JavaScript (`search.js`, the
//! same on every site) that filter it as the reader types. No network and no
//! library, so it works from `file://`.

use serde_json::json;

use super::Plan;
use super::content::{access_badge, trigger_summary};

/// The filtering code, the same on every site: `search-index.js`, loaded
/// before it, declares `INDEX`.
pub(crate) const SCRIPT: &str = include_str!("search.js");

/// The entries of the index, one per service and per use case, each with
/// its URL relative to the site's root and the lower-case text searched.
pub(crate) fn index(plan: &Plan<'_>) -> serde_json::Value {
    let mut entries = Vec::new();
    for service in &plan.services {
        let s = &service.doc.service;
        let mut text = vec![s.name.clone()];
        text.extend(s.description.clone());
        text.extend(s.team.clone());
        text.extend(s.tags.iter().map(|(k, v)| format!("{k}:{v}")));
        entries.push(json!({
            "kind": "service",
            "title": s.name,
            "service": s.name,
            "url": format!("services/{}/index.html", service.dir),
            "text": text.join(" ").to_lowercase(),
        }));
        for (use_case, stem) in &service.use_cases {
            let mut text = vec![use_case.keyname.clone(), use_case.display_name().to_owned()];
            text.extend(use_case.description.clone());
            text.extend(use_case.actor.clone());
            text.extend(use_case.triggers.iter().map(trigger_summary));
            text.extend(
                use_case
                    .external_interactions
                    .iter()
                    .map(|e| e.keyname.clone()),
            );
            // Who may call: the badge's word and the roles and scopes.
            text.extend(access_badge(use_case).map(str::to_owned));
            let rules = use_case.http_triggers().filter_map(|http| {
                http.authorization
                    .as_ref()
                    .or(use_case.authorization.as_ref())
            });
            for rule in rules {
                for name in rule.roles.iter().chain(&rule.scopes) {
                    if !text.contains(name) {
                        text.push(name.clone());
                    }
                }
            }
            entries.push(json!({
                "kind": "use case",
                "title": use_case.display_name(),
                "service": s.name,
                "url": format!("services/{}/{stem}.html", service.dir),
                "text": text.join(" ").to_lowercase(),
            }));
        }
    }
    serde_json::Value::Array(entries)
}

/// `search-index.js`: the index of this site, declared as `INDEX`.
pub(crate) fn index_script(plan: &Plan<'_>) -> String {
    // `to_string` of a `Value` cannot fail; an empty index is a safe
    // fallback all the same.
    let index = serde_json::to_string_pretty(&index(plan)).unwrap_or_else(|_| "[]".to_owned());
    format!("var INDEX = {index};\n")
}
