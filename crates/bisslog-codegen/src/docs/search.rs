//! The search box: an index of services and use cases embedded in
//! `search.js`, with a few lines of plain JavaScript that filter it as the
//! reader types. No network and no library, so it works from `file://`.

use serde_json::json;

use super::Plan;
use super::content::trigger_summary;

/// The filtering code; `INDEX` is declared before it.
const SCRIPT: &str = r#"(function () {
  "use strict";
  var input = document.getElementById("search");
  var list = document.getElementById("search-results");
  if (!input || !list) {
    return;
  }
  var root = document.body.getAttribute("data-root") || "";
  function render() {
    var terms = input.value.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
    list.textContent = "";
    if (terms.length === 0) {
      list.hidden = true;
      return;
    }
    var hits = INDEX.filter(function (entry) {
      return terms.every(function (t) { return entry.text.indexOf(t) !== -1; });
    }).slice(0, 20);
    if (hits.length === 0) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = "No matches";
      list.appendChild(none);
    }
    hits.forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = root + entry.url;
      link.textContent = entry.title;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = entry.kind === "service" ? "service" : "use case \u00b7 " + entry.service;
      item.appendChild(link);
      item.appendChild(kind);
      list.appendChild(item);
    });
    list.hidden = false;
  }
  input.addEventListener("input", render);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      input.value = "";
      render();
    }
  });
})();
"#;

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

/// `search.js`: the index, then the code.
pub(crate) fn script(plan: &Plan<'_>) -> String {
    // `to_string` of a `Value` cannot fail; an empty index is a safe
    // fallback all the same.
    let index = serde_json::to_string_pretty(&index(plan)).unwrap_or_else(|_| "[]".to_owned());
    format!("var INDEX = {index};\n{SCRIPT}")
}
