//! "Did you mean …?" suggestions for misspelt names.

/// The candidate closest to `input`, when one is close enough to be a
/// plausible typo (case and `-`/`_` differences included): the "did you
/// mean" of the validator's diagnostics, for tools that check names
/// against metadata (the compile-time checks of `bisslog-macros`).
///
/// ```
/// assert_eq!(bisslog_schema::closest_name("gret", ["greet", "farewell"]), Some("greet"));
/// assert_eq!(bisslog_schema::closest_name("payments", ["greet"]), None);
/// ```
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let needle = normalize(input);
    if needle.is_empty() {
        return None;
    }
    candidates
        .into_iter()
        .map(|candidate| {
            let hay = normalize(candidate);
            let distance = strsim::damerau_levenshtein(&needle, &hay);
            let similarity = strsim::jaro_winkler(&needle, &hay);
            (candidate, distance, similarity)
        })
        .filter(|&(candidate, distance, similarity)| {
            let budget = (candidate.chars().count().max(needle.chars().count()) / 3).max(1);
            distance <= budget || similarity >= 0.88
        })
        .min_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
        .map(|(candidate, _, _)| candidate)
}

fn normalize(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace('-', "_")
}

/// `` `a`, `b` or `c` `` for messages.
pub(crate) fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_plausible_typos_only() {
        let keys = ["path", "method", "mapper", "cacheable", "allow_cors"];
        assert_eq!(closest("pth", keys), Some("path"));
        assert_eq!(closest("methods", keys), Some("method"));
        assert_eq!(closest("Cacheable", keys), Some("cacheable"));
        assert_eq!(closest("allow-cors", keys), Some("allow_cors"));
        assert_eq!(closest("zzzzzz", keys), None);
        assert_eq!(
            closest("scheduled", ["http", "websocket", "consumer", "schedule"]),
            Some("schedule")
        );
    }

    #[test]
    fn lists_names() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
