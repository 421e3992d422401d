//! The comparison: per use case, the interactions it declares and was never
//! seen calling, and those it was seen calling without declaring them.

use std::collections::{BTreeMap, BTreeSet};

use bisslog_runtime::resilience::ObservedInteractions;
use bisslog_schema::ServiceMetadata;
use serde::Serialize;

/// What "never used" can and cannot tell.
pub(crate) const NOTE: &str = "\"declared but never used\" covers only interactions whose adapters make their requests through their guard (Interaction::call); an adapter that bypasses it is never seen";

/// The drift of one service.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The service's name.
    pub(crate) service: String,
    /// Interactions used without being declared, in all.
    pub(crate) undeclared: usize,
    /// Interactions declared and never seen used, in all.
    pub(crate) never_used: usize,
    /// Every use case of the metadata, in its order, then any use case
    /// seen that the metadata does not have.
    pub(crate) use_cases: Vec<UseCaseDrift>,
    /// [`NOTE`].
    pub(crate) note: &'static str,
}

/// The drift of one use case.
#[derive(Debug, Serialize)]
pub(crate) struct UseCaseDrift {
    /// Its keyname.
    pub(crate) use_case: String,
    /// False for a use case seen calling that the metadata does not have
    /// (observations of another version of the service).
    pub(crate) in_metadata: bool,
    /// The interactions it declares, in declaration order.
    pub(crate) declared: Vec<String>,
    /// The interactions it was seen calling, sorted.
    pub(crate) used: Vec<String>,
    /// Used, not declared: sorted.
    pub(crate) undeclared: Vec<String>,
    /// Declared, never seen used: in declaration order.
    pub(crate) never_used: Vec<String>,
}

/// Compares `metadata` with what its service was seen doing.
pub(crate) fn compare(metadata: &ServiceMetadata, observed: &ObservedInteractions) -> Report {
    let mut used: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for seen in &observed.uses {
        used.entry(seen.use_case.as_str())
            .or_default()
            .insert(seen.interaction.as_str());
    }
    let mut use_cases = Vec::new();
    for (keyname, use_case) in &metadata.use_cases {
        let mut declared: Vec<String> = Vec::new();
        for interaction in &use_case.external_interactions {
            if !declared.contains(&interaction.keyname) {
                declared.push(interaction.keyname.clone());
            }
        }
        let seen = used.remove(keyname.as_str()).unwrap_or_default();
        use_cases.push(drift(keyname, true, declared, &seen));
    }
    // Left: use cases the metadata does not have.
    for (keyname, seen) in used {
        use_cases.push(drift(keyname, false, Vec::new(), &seen));
    }
    Report {
        service: metadata.name.clone(),
        undeclared: use_cases.iter().map(|u| u.undeclared.len()).sum(),
        never_used: use_cases.iter().map(|u| u.never_used.len()).sum(),
        use_cases,
        note: NOTE,
    }
}

fn drift(
    keyname: &str,
    in_metadata: bool,
    declared: Vec<String>,
    seen: &BTreeSet<&str>,
) -> UseCaseDrift {
    let undeclared = seen
        .iter()
        .filter(|i| !declared.iter().any(|d| d == *i))
        .map(|i| (*i).to_owned())
        .collect();
    let never_used = declared
        .iter()
        .filter(|d| !seen.contains(d.as_str()))
        .cloned()
        .collect();
    UseCaseDrift {
        use_case: keyname.to_owned(),
        in_metadata,
        declared,
        used: seen.iter().map(|i| (*i).to_owned()).collect(),
        undeclared,
        never_used,
    }
}

#[cfg(test)]
mod tests {
    use bisslog_runtime::resilience::ObservedUse;

    use super::*;

    #[test]
    fn each_use_case_gets_what_it_used_undeclared_and_declared_unused() {
        let metadata = bisslog_schema::validate_str(
            "metadata.yml",
            "name: s\nuse_cases:\n  a:\n    external_interactions:\n    - keyname: db\n    - keyname: mailer\n  b:\n    external_interactions:\n    - keyname: db\n",
        )
        .into_service()
        .unwrap();
        let observed = ObservedInteractions {
            service: "s".to_owned(),
            uses: vec![
                ObservedUse::new("a", "db"),
                ObservedUse::new("b", "db"),
                ObservedUse::new("b", "mailer"),
                ObservedUse::new("gone", "db"),
            ],
        };
        let report = compare(&metadata, &observed);
        assert_eq!((report.undeclared, report.never_used), (2, 1));
        let [a, b, gone] = &report.use_cases[..] else {
            panic!("{report:?}")
        };
        assert_eq!(
            (a.never_used.clone(), a.undeclared.len()),
            (vec!["mailer".to_owned()], 0)
        );
        assert_eq!(b.undeclared, ["mailer"]);
        assert!(b.never_used.is_empty());
        assert_eq!((gone.use_case.as_str(), gone.in_metadata), ("gone", false));
        assert_eq!(gone.undeclared, ["db"]);
    }
}
