//! File and directory names for the site: safe on every file system and
//! in URLs, derived deterministically from keynames, and unique.

use std::collections::BTreeSet;

/// The longest name kept from a keyname.
const MAX_LEN: usize = 60;

/// `name` as a lower-case file name: ASCII letters and digits kept, every
/// other run of characters one `-`. Empty when nothing is left.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= MAX_LEN {
            break;
        }
    }
    out
}

/// Hands out unique file names in the order asked for.
#[derive(Debug, Default)]
pub(crate) struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// An allocator where `reserved` names are already taken.
    pub(crate) fn with_reserved(reserved: &[&str]) -> Self {
        Names {
            taken: reserved.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    /// A fresh name for `name`: its slug (or `fallback` when the slug is
    /// empty), numbered `-2`, `-3`, ... when already taken.
    pub(crate) fn claim(&mut self, name: &str, fallback: &str) -> String {
        let mut base = slug(name);
        if base.is_empty() {
            base = fallback.to_owned();
        }
        let mut candidate = base.clone();
        let mut n = 1u32;
        while !self.taken.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_keynames_become_safe_names() {
        assert_eq!(slug("company data registry"), "company-data-registry");
        assert_eq!(slug("../etc/passwd"), "etc-passwd");
        assert_eq!(slug("Get_User!"), "get-user");
        assert_eq!(slug("ñandú"), "and");
        assert_eq!(slug("日本"), "");
        assert_eq!(slug(&"a".repeat(500)).len(), MAX_LEN);
    }

    #[test]
    fn names_are_unique_and_reserved_names_are_avoided() {
        let mut names = Names::with_reserved(&["index"]);
        assert_eq!(names.claim("index", "use-case"), "index-2");
        assert_eq!(names.claim("get user", "use-case"), "get-user");
        assert_eq!(names.claim("get_user", "use-case"), "get-user-2");
        assert_eq!(names.claim("日本", "use-case"), "use-case");
        assert_eq!(names.claim("", "use-case"), "use-case-2");
    }
}
