//! Which use cases really call an interaction, against those the metadata
//! says do: the observations behind the drift report.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Mutex, PoisonError};

/// The use cases seen calling one interaction.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    seen: Mutex<BTreeSet<String>>,
}

impl Observed {
    /// Records a call from `use_case`; true the first time it is seen.
    pub(crate) fn record(&self, use_case: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        // A lookup first: the common case allocates nothing.
        !seen.contains(use_case) && seen.insert(use_case.to_owned())
    }

    /// Every use case seen, sorted.
    pub(crate) fn use_cases(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.iter().cloned().collect()
    }
}

/// Whether `use_case` may call an interaction declared by `declared`:
/// anyone may when nothing was declared.
pub(crate) fn is_declared(declared: Option<&HashSet<String>>, use_case: &str) -> bool {
    declared.is_none_or(|declared| declared.contains(use_case))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_use_case_is_new_once() {
        let observed = Observed::default();
        assert!(observed.record("b"));
        assert!(observed.record("a"));
        assert!(!observed.record("b"));
        assert_eq!(observed.use_cases(), ["a", "b"]);
        let declared: HashSet<String> = ["a".to_owned()].into();
        assert!(is_declared(Some(&declared), "a"));
        assert!(!is_declared(Some(&declared), "b"));
        assert!(is_declared(None, "b"));
    }
}
