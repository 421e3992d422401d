//! "Did you mean …?" for misspelt keynames, tuned like the metadata
//! validator's own suggestions (case and `-`/`_` differences included).

/// The candidate closest to `input`, when one is close enough to be a
/// plausible typo: the metadata validator's own suggestion.
pub(crate) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    bisslog_schema::closest_name(input, candidates)
}

/// `` `a`, `b` and `c` `` for messages, at most `limit` names.
pub(crate) fn listed<'a>(names: impl IntoIterator<Item = &'a str>, limit: usize) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let mut quoted: Vec<String> = names.iter().take(limit).map(|n| format!("`{n}`")).collect();
    if names.len() > limit {
        quoted.push(format!("{} more", names.len() - limit));
    }
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_plausible_typos_only() {
        let names = ["greet", "create_schema", "schema_division"];
        assert_eq!(closest("gret", names), Some("greet"));
        assert_eq!(closest("createSchema", names), Some("create_schema"));
        assert_eq!(closest("schema-divison", names), Some("schema_division"));
        assert_eq!(closest("payments", names), None);
        assert_eq!(closest("", names), None);
    }

    #[test]
    fn lists_names_up_to_a_limit() {
        assert_eq!(listed([], 3), "");
        assert_eq!(listed(["a"], 3), "`a`");
        assert_eq!(listed(["a", "b", "c"], 3), "`a`, `b` and `c`");
        assert_eq!(listed(["a", "b", "c", "d", "e"], 2), "`a`, `b` and 3 more");
    }
}
