//! The observation document: which use case called which external
//! interaction, as a service saw it. A running service serves it
//! (`GET /interactions/observed`), the test kit writes it after each test
//! (`BISSLOG_OBSERVED_INTERACTIONS`), and `bisslog drift` compares it with
//! the metadata.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Service;

/// The calls one service saw through its interactions' guards: each
/// `(use case, interaction)` pair once, however many calls it made.
///
/// Only calls made through [`Interaction::call`](super::Interaction::call)
/// are seen: an adapter that bypasses its guard leaves no trace here.
///
/// ```
/// use bisslog_runtime::resilience::{ObservedInteractions, ObservedUse};
///
/// let suite = [
///     serde_json::from_str::<ObservedInteractions>(
///         r#"{"service": "registry", "uses": [{"use_case": "import", "interaction": "db"}]}"#,
///     ).unwrap(),
///     ObservedInteractions {
///         service: "registry".to_owned(),
///         uses: vec![
///             ObservedUse::new("import", "db"),
///             ObservedUse::new("get_schema", "db"),
///         ],
///     },
/// ];
/// let merged = ObservedInteractions::merge(suite);
/// assert_eq!(merged.len(), 1);
/// assert_eq!(
///     merged[0].uses,
///     [ObservedUse::new("get_schema", "db"), ObservedUse::new("import", "db")]
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedInteractions {
    /// The service's name (its metadata's `name`).
    pub service: String,
    /// Every pair seen, sorted by use case then interaction.
    pub uses: Vec<ObservedUse>,
}

/// One use case seen calling one external interaction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObservedUse {
    /// The use case's keyname.
    pub use_case: String,
    /// The interaction's keyname.
    pub interaction: String,
}

impl ObservedUse {
    /// `use_case` seen calling `interaction`.
    pub fn new(use_case: impl Into<String>, interaction: impl Into<String>) -> Self {
        Self {
            use_case: use_case.into(),
            interaction: interaction.into(),
        }
    }
}

impl ObservedInteractions {
    /// What `service` has seen so far, through the guards it holds
    /// ([`Service::interaction`]).
    pub fn of(service: &Service) -> Self {
        let mut uses: Vec<ObservedUse> = service
            .observed_interactions()
            .into_iter()
            .map(|(use_case, interaction)| ObservedUse {
                use_case,
                interaction,
            })
            .collect();
        uses.sort();
        Self {
            service: service.name().to_owned(),
            uses,
        }
    }

    /// Combines documents (one per test, per process, per instance): one
    /// document per service, sorted by name, holding every pair any of its
    /// documents holds, once, sorted.
    pub fn merge(documents: impl IntoIterator<Item = ObservedInteractions>) -> Vec<Self> {
        let mut services: BTreeMap<String, BTreeSet<ObservedUse>> = BTreeMap::new();
        for document in documents {
            services
                .entry(document.service)
                .or_default()
                .extend(document.uses);
        }
        services
            .into_iter()
            .map(|(service, uses)| Self {
                service,
                uses: uses.into_iter().collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(service: &str, uses: &[(&str, &str)]) -> ObservedInteractions {
        ObservedInteractions {
            service: service.to_owned(),
            uses: uses.iter().map(|(u, i)| ObservedUse::new(*u, *i)).collect(),
        }
    }

    #[test]
    fn merging_keeps_each_pair_once_per_service() {
        let merged = ObservedInteractions::merge([
            document("b", &[("y", "db"), ("x", "db")]),
            document("a", &[("z", "queue")]),
            document("b", &[("x", "db"), ("x", "registry")]),
            document("c", &[]),
        ]);
        assert_eq!(
            merged,
            [
                document("a", &[("z", "queue")]),
                document("b", &[("x", "db"), ("x", "registry"), ("y", "db")]),
                // A service driven without any call still says so.
                document("c", &[]),
            ]
        );
    }

    #[test]
    fn the_json_document_has_the_documented_shape() {
        let text = serde_json::to_string(&document("s", &[("a", "db")])).unwrap();
        assert_eq!(
            text,
            r#"{"service":"s","uses":[{"use_case":"a","interaction":"db"}]}"#
        );
        let back: ObservedInteractions = serde_json::from_str(&text).unwrap();
        assert_eq!(back, document("s", &[("a", "db")]));
        assert!(serde_json::from_str::<ObservedInteractions>(r#"{"uses":[]}"#).is_err());
    }
}
