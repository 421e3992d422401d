//! Where each keyname of a metadata file is written: the line and column
//! of every use case key and of every external interaction's keyname.
//!
//! The model keeps no positions (it is what a service runs on), so tools
//! that point back at the file about a keyname, such as the compile-time
//! checks of `bisslog::service!`, read them from here.

use indexmap::IndexMap;

use crate::node::{Node, Value};
use crate::span::Span;

/// The positions of a file's keynames; see [`Report::locations`](crate::Report::locations).
///
/// ```
/// use bisslog_schema::validate_str;
///
/// let yaml = "
/// name: hello
/// use_cases:
///   greet:
///     external_interactions:
///       - keyname: greetings
/// ";
/// let report = validate_str("metadata.yml", yaml);
/// let locations = report.locations();
/// let greet = locations.use_case("greet").expect("declared");
/// assert_eq!((greet.start.line, greet.start.column), (4, 3));
/// let store = locations.interaction("greet", "greetings").expect("declared");
/// assert_eq!((store.start.line, store.start.column), (6, 18));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locations {
    use_cases: IndexMap<String, Span>,
    interactions: IndexMap<(String, String), Span>,
}

impl Locations {
    /// Where the use case with this keyname is declared (its key under
    /// `use_cases`).
    pub fn use_case(&self, keyname: &str) -> Option<Span> {
        self.use_cases.get(keyname).copied()
    }

    /// Where `use_case` declares the external interaction `keyname`: the
    /// value of its `keyname` field, or its key in the map form.
    pub fn interaction(&self, use_case: &str, keyname: &str) -> Option<Span> {
        self.interactions
            .get(&(use_case.to_owned(), keyname.to_owned()))
            .copied()
    }

    /// Reads the positions from a parsed document. Anything malformed is
    /// skipped: the validator reports it, this only locates what is there.
    pub(crate) fn of(root: &Node) -> Self {
        let mut locations = Self::default();
        let Some(Value::Map(use_cases)) = field(root, "use_cases").map(|n| &n.value) else {
            return locations;
        };
        for (key, value) in use_cases {
            let Some(use_case) = key.as_str() else {
                continue;
            };
            locations
                .use_cases
                .entry(use_case.to_owned())
                .or_insert(key.span);
            let found = match field(value, "external_interactions").map(|n| &n.value) {
                Some(Value::Seq(items)) => items
                    .iter()
                    .filter_map(|item| field(item, "keyname"))
                    .collect::<Vec<_>>(),
                Some(Value::Map(pairs)) => pairs.iter().map(|(k, _)| k).collect(),
                _ => Vec::new(),
            };
            for node in found {
                if let Some(keyname) = node.as_str() {
                    locations
                        .interactions
                        .entry((use_case.to_owned(), keyname.to_owned()))
                        .or_insert(node.span);
                }
            }
        }
        locations
    }
}

/// The value under a string key of a mapping node.
fn field<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Loader, validate_str};

    fn at(span: Option<crate::Span>) -> Option<(u32, u32)> {
        span.map(|s| (s.start.line, s.start.column))
    }

    #[test]
    fn locates_interactions_in_the_map_form() {
        let yaml = "name: x\nuse_cases:\n  a:\n    external_interactions:\n      store: {type_interaction: database}\n  b: {}\n";
        let report = validate_str("metadata.yml", yaml);
        let locations = report.locations();
        assert_eq!(at(locations.use_case("a")), Some((3, 3)));
        assert_eq!(at(locations.use_case("b")), Some((6, 3)));
        assert_eq!(at(locations.interaction("a", "store")), Some((5, 7)));
        assert_eq!(locations.interaction("b", "store"), None);
        assert_eq!(locations.use_case("c"), None);
    }

    #[test]
    fn locates_keynames_in_json() {
        let json = "{\"name\": \"x\",\n \"use_cases\": {\n  \"a\": {\"external_interactions\": [{\"keyname\": \"store\"}]}}}";
        let report = Loader::new().validate_str("metadata.json", json);
        let locations = report.locations();
        assert_eq!(at(locations.use_case("a")), Some((3, 3)));
        assert_eq!(at(locations.interaction("a", "store")), Some((3, 47)));
    }

    #[test]
    fn a_malformed_file_locates_what_is_there() {
        let report = validate_str("metadata.yml", "name: x\nuse_cases: [a]\n");
        assert_eq!(report.locations(), &super::Locations::default());
        let report = validate_str("metadata.yml", ": : :");
        assert_eq!(report.locations().use_case("a"), None);
    }
}
