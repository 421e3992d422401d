//! Time zone names, checked against the IANA database bundled into the
//! binary (never the host's, so validation gives the same answer on every
//! machine and in every container).

use std::sync::OnceLock;

use jiff::tz::TimeZoneDatabase;

/// The bundled IANA time zone database.
pub fn database() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// Every name in the bundled database, sorted.
fn names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = database()
            .available()
            .map(|n| n.as_str().to_owned())
            .collect();
        names.sort();
        names
    })
}

/// What a time zone name resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A name of the database (the canonical spelling is returned).
    Exact(String),
    /// A name of the database written in another case.
    CaseDiffers(String),
    /// Not a time zone; perhaps a close name.
    Unknown(Option<String>),
}

/// Resolves a time zone name. `GMT+5`-style offsets, which the Python
/// tools accept, map to the IANA `Etc/GMT-5` zone (the IANA sign is
/// inverted: `Etc/GMT-5` is five hours ahead of UTC).
pub(crate) fn resolve(name: &str) -> Resolved {
    let name = name.trim();
    let names = names();
    if names.binary_search_by(|n| n.as_str().cmp(name)).is_ok() {
        return Resolved::Exact(name.to_owned());
    }
    if let Some(etc) = gmt_offset(name) {
        return Resolved::Exact(etc);
    }
    if let Some(canonical) = names.iter().find(|n| n.eq_ignore_ascii_case(name)) {
        return Resolved::CaseDiffers(canonical.clone());
    }
    Resolved::Unknown(
        crate::suggest::closest(name, names.iter().map(String::as_str)).map(str::to_owned),
    )
}

/// `GMT+5` → `Etc/GMT-5`, when the zone exists.
fn gmt_offset(name: &str) -> Option<String> {
    let rest = name
        .get(..3)
        .filter(|p| p.eq_ignore_ascii_case("GMT"))
        .and(name.get(3..))?;
    let (sign, hours) = match rest.as_bytes().first()? {
        b'+' => ('-', &rest[1..]),
        b'-' => ('+', &rest[1..]),
        _ => return None,
    };
    let hours: u8 = hours.parse().ok()?;
    let etc = if hours == 0 {
        "Etc/GMT".to_owned()
    } else {
        format!("Etc/GMT{sign}{hours}")
    };
    names().binary_search(&etc).ok().map(|_| etc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_offsets_and_case() {
        assert_eq!(resolve("UTC"), Resolved::Exact("UTC".into()));
        assert_eq!(
            resolve("Europe/Madrid"),
            Resolved::Exact("Europe/Madrid".into())
        );
        assert_eq!(resolve("GMT+5"), Resolved::Exact("Etc/GMT-5".into()));
        assert_eq!(resolve("GMT-3"), Resolved::Exact("Etc/GMT+3".into()));
        assert_eq!(
            resolve("europe/madrid"),
            Resolved::CaseDiffers("Europe/Madrid".into())
        );
        assert_eq!(
            resolve("Europe/Madird"),
            Resolved::Unknown(Some("Europe/Madrid".into()))
        );
        assert!(matches!(resolve("Mars/Olympus"), Resolved::Unknown(_)));
        assert!(matches!(resolve("GMT+99"), Resolved::Unknown(_)));
    }
}
