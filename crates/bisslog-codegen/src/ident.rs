//! CloudFormation logical ids: ASCII letters and digits only, unique in a
//! template, derived deterministically from metadata names.

use std::collections::BTreeSet;

/// The longest logical id CloudFormation accepts.
const MAX_LEN: usize = 255;

/// Room left for a suffix (`Queue`, `Http`, a counter) after a name.
const NAME_BUDGET: usize = 200;

/// `name` in PascalCase with everything but ASCII letters and digits
/// dropped: `company_data_insertion.queue` → `CompanyDataInsertionQueue`,
/// `getUser` → `GetUser`. Empty when `name` has no ASCII letter or digit.
pub fn pascal_case(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
        if out.len() >= NAME_BUDGET {
            out.truncate(NAME_BUDGET);
            break;
        }
    }
    out
}

/// Hands out unique logical ids, in the order they are asked for, so the
/// same metadata always gets the same ids.
#[derive(Debug, Default)]
pub struct LogicalIds {
    // Compared case-insensitively: some AWS tools fold case.
    taken: BTreeSet<String>,
}

impl LogicalIds {
    /// An allocator with `reserved` ids already taken (ids AWS SAM
    /// generates itself, such as `ServerlessHttpApi`).
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Self {
            taken: reserved.iter().map(|id| id.to_ascii_lowercase()).collect(),
        }
    }

    /// A fresh id for `name` with `suffix` appended (unless the name already
    /// ends with it): the PascalCase name, prefixed when it would start with
    /// a digit, and numbered `2`, `3`, ... when already taken.
    pub fn claim(&mut self, name: &str, suffix: &str) -> String {
        let mut base = pascal_case(name);
        if base.starts_with(|c: char| c.is_ascii_digit()) {
            base.insert(0, 'N');
        }
        if !base.ends_with(suffix) {
            base.push_str(suffix);
        }
        base.truncate(MAX_LEN - 6);
        let mut candidate = base.clone();
        let mut n = 1u32;
        while !self.taken.insert(candidate.to_ascii_lowercase()) {
            n += 1;
            candidate = format!("{base}{n}");
        }
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_pascal_case_alphanumerics() {
        assert_eq!(
            pascal_case("company_data_insertion.queue"),
            "CompanyDataInsertionQueue"
        );
        assert_eq!(pascal_case("getUser"), "GetUser");
        assert_eq!(pascal_case("$connect"), "Connect");
        assert_eq!(pascal_case("a b-c"), "ABC");
        assert_eq!(pascal_case("ñandú: 1"), "And1");
        assert_eq!(pascal_case("::"), "");
    }

    #[test]
    fn ids_are_unique_case_insensitively_and_numbered_in_order() {
        let mut ids = LogicalIds::with_reserved(&["ServerlessHttpApi"]);
        assert_eq!(ids.claim("get_user", "Http"), "GetUserHttp");
        assert_eq!(ids.claim("getUser", "Http"), "GetUserHttp2");
        assert_eq!(ids.claim("GET-USER", "Http"), "GETUSERHttp3");
        assert_eq!(ids.claim("get user", "Http"), "GetUserHttp4");
        assert_eq!(ids.claim("serverless http", "Api"), "ServerlessHttpApi2");
    }

    #[test]
    fn suffixes_are_not_doubled_and_digits_are_prefixed() {
        let mut ids = LogicalIds::default();
        assert_eq!(
            ids.claim("company_data_insertion.queue", "Queue"),
            "CompanyDataInsertionQueue"
        );
        assert_eq!(ids.claim("orders-dlq", "Queue"), "OrdersDlqQueue");
        assert_eq!(ids.claim("123", "Schedule"), "N123Schedule");
        assert_eq!(ids.claim("ñ", "Queue"), "Queue");
    }

    #[test]
    fn long_names_stay_within_the_limit() {
        let mut ids = LogicalIds::default();
        let long = "x".repeat(1000);
        let first = ids.claim(&long, "Queue");
        let second = ids.claim(&long, "Queue");
        assert!(first.len() <= MAX_LEN && second.len() <= MAX_LEN);
        assert_ne!(first, second);
    }
}
