//! How several services connect: who publishes to which queue, who
//! consumes it, who calls whom over HTTP, and what looks wrong.

use std::collections::BTreeMap;
use std::fmt;

use bisslog_schema::{InteractionType, ServiceMetadata, TriggerKind};

use crate::cron_words::join_words;

/// A problem in how services connect, found from their metadata alone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SystemWarning {
    /// Two or more services declare a database interaction with the same
    /// keyname: they probably share one database, which couples them.
    SharedDatabase {
        /// The database interaction's keyname.
        keyname: String,
        /// The services that use it, in the order given.
        services: Vec<String>,
    },
    /// A queue some service publishes to that no service consumes.
    UnconsumedQueue {
        /// The queue.
        queue: String,
        /// The services publishing to it.
        publishers: Vec<String>,
    },
    /// A queue some service consumes that no service publishes to.
    UnpublishedQueue {
        /// The queue.
        queue: String,
        /// The services consuming it.
        consumers: Vec<String>,
    },
    /// A queue whose kind is a problem across services (see
    /// [`bisslog_schema::queue_findings`]): two services consume it as a
    /// command, so they would compete for its messages (W019), or one
    /// declares it an event and another a command (W020).
    QueueKind {
        /// The queue.
        queue: String,
        /// W019 or W020.
        code: bisslog_schema::Code,
        /// What is wrong, naming the services.
        detail: String,
    },
}

impl SystemWarning {
    /// A short name for the kind of warning (`shared database`).
    pub fn title(&self) -> &'static str {
        match self {
            SystemWarning::SharedDatabase { .. } => "shared database",
            SystemWarning::UnconsumedQueue { .. } => "queue nobody consumes",
            SystemWarning::UnpublishedQueue { .. } => "queue nobody publishes",
            SystemWarning::QueueKind { code, .. } => code.title(),
        }
    }
}

impl SystemWarning {
    /// What is wrong, without the title: "`db` is a database of a and b".
    pub fn detail(&self) -> String {
        let list = |names: &[String]| join_words(names);
        match self {
            SystemWarning::SharedDatabase { keyname, services } => {
                format!("`{keyname}` is a database of {}", list(services))
            }
            SystemWarning::UnconsumedQueue { queue, publishers } => format!(
                "{} publishes to `{queue}`, and no service consumes it",
                list(publishers)
            ),
            SystemWarning::UnpublishedQueue { queue, consumers } => format!(
                "{} consumes `{queue}`, and no service publishes to it",
                list(consumers)
            ),
            SystemWarning::QueueKind { code, detail, .. } => format!("{detail} ({code})"),
        }
    }
}

impl fmt::Display for SystemWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.title(), self.detail())
    }
}

/// Who publishes to and consumes one queue (service indices).
#[derive(Debug, Default, Clone)]
pub(crate) struct QueueLinks {
    pub(crate) publishers: Vec<usize>,
    pub(crate) consumers: Vec<usize>,
}

/// The connections between services, read from their metadata.
#[derive(Debug, Default)]
pub(crate) struct System {
    /// Queues by name.
    pub(crate) queues: BTreeMap<String, QueueLinks>,
    /// HTTP calls: (caller, callee).
    pub(crate) http: Vec<(usize, usize)>,
    /// Database keynames used by more than one service, with the users.
    pub(crate) shared_databases: BTreeMap<String, Vec<usize>>,
}

fn push_unique(list: &mut Vec<usize>, value: usize) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// Whether `service` answers to `name`: its name or its `service` tag.
fn answers_to(service: &ServiceMetadata, name: &str) -> bool {
    service.name == name || service.tags.get("service").is_some_and(|tag| tag == name)
}

impl System {
    /// Reads the connections of `services`. A publisher interaction's
    /// operations name the queues it publishes to; an `external_system`
    /// interaction named like another service is an HTTP call to it.
    pub(crate) fn read(services: &[ServiceMetadata]) -> System {
        let mut system = System::default();
        let mut databases: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (s, service) in services.iter().enumerate() {
            for use_case in service.use_cases.values() {
                for trigger in &use_case.triggers {
                    if let TriggerKind::Consumer(consumer) = &trigger.kind {
                        let links = system.queues.entry(consumer.queue.clone()).or_default();
                        push_unique(&mut links.consumers, s);
                    }
                }
                for interaction in &use_case.external_interactions {
                    match &interaction.type_interaction {
                        Some(InteractionType::Publisher) => {
                            for queue in &interaction.operation {
                                let queue = queue.trim();
                                if queue.is_empty() {
                                    continue;
                                }
                                let links = system.queues.entry(queue.to_owned()).or_default();
                                push_unique(&mut links.publishers, s);
                            }
                        }
                        Some(InteractionType::Database) => {
                            push_unique(
                                databases.entry(interaction.keyname.clone()).or_default(),
                                s,
                            );
                        }
                        Some(InteractionType::ExternalSystem) => {
                            let callees = services.iter().enumerate().filter(|(other, callee)| {
                                *other != s && answers_to(callee, &interaction.keyname)
                            });
                            for (callee, _) in callees {
                                if !system.http.contains(&(s, callee)) {
                                    system.http.push((s, callee));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        system.shared_databases = databases
            .into_iter()
            .filter(|(_, users)| users.len() > 1)
            .collect();
        system
    }

    /// The warnings, in a stable order: shared databases, then queues by
    /// name.
    pub(crate) fn warnings(&self, services: &[ServiceMetadata]) -> Vec<SystemWarning> {
        let names = |indices: &[usize]| -> Vec<String> {
            indices.iter().map(|i| services[*i].name.clone()).collect()
        };
        let mut warnings: Vec<SystemWarning> = self
            .shared_databases
            .iter()
            .map(|(keyname, users)| SystemWarning::SharedDatabase {
                keyname: keyname.clone(),
                services: names(users),
            })
            .collect();
        for (queue, links) in &self.queues {
            if links.consumers.is_empty() {
                warnings.push(SystemWarning::UnconsumedQueue {
                    queue: queue.clone(),
                    publishers: names(&links.publishers),
                });
            } else if links.publishers.is_empty() {
                warnings.push(SystemWarning::UnpublishedQueue {
                    queue: queue.clone(),
                    consumers: names(&links.consumers),
                });
            }
        }
        warnings
    }

    /// A layer for each service, so that publishers sit left of their
    /// consumers and callers left of the services they call. Queue edges
    /// come first; an edge that would close a cycle is left out of the
    /// layering (it is still drawn).
    pub(crate) fn ranks(&self, count: usize) -> Vec<usize> {
        let mut wanted: Vec<(usize, usize)> = Vec::new();
        for links in self.queues.values() {
            for &p in &links.publishers {
                for &c in &links.consumers {
                    wanted.push((p, c));
                }
            }
        }
        wanted.extend(self.http.iter().copied());
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for (from, to) in wanted {
            if from != to && !edges.contains(&(from, to)) && !reaches(&edges, to, from) {
                edges.push((from, to));
            }
        }
        let mut rank = vec![0usize; count];
        // Longest paths in a DAG settle within `count` rounds.
        for _ in 0..count {
            let mut changed = false;
            for &(from, to) in &edges {
                if rank[to] < rank[from] + 1 {
                    rank[to] = rank[from] + 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        rank
    }
}

/// Whether `to` can be reached from `from` along `edges`.
fn reaches(edges: &[(usize, usize)], from: usize, to: usize) -> bool {
    let mut seen = vec![from];
    let mut todo = vec![from];
    while let Some(node) = todo.pop() {
        if node == to {
            return true;
        }
        for &(a, b) in edges {
            if a == node && !seen.contains(&b) {
                seen.push(b);
                todo.push(b);
            }
        }
    }
    false
}

/// The warnings about how `services` connect: shared databases, queues
/// nobody consumes, queues nobody publishes to, then queues whose kind is
/// a problem across services (two services consuming a command queue, a
/// queue declared an event and a command). A publisher interaction's
/// `operation` entries name the queues it publishes to.
pub fn system_warnings(services: &[ServiceMetadata]) -> Vec<SystemWarning> {
    let mut warnings = System::read(services).warnings(services);
    let models: Vec<&ServiceMetadata> = services.iter().collect();
    warnings.extend(
        bisslog_schema::queue_findings(&models)
            .into_iter()
            .map(|finding| SystemWarning::QueueKind {
                queue: finding.queue,
                code: finding.code,
                detail: finding.message,
            }),
    );
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(yaml: &str) -> ServiceMetadata {
        match bisslog_schema::validate_str("m.yml", yaml).into_service() {
            Ok(service) => service,
            Err(report) => panic!("{report:?}"),
        }
    }

    #[test]
    fn publishers_consumers_and_calls_are_connected() {
        let a = service(
            "name: a\nuse_cases:\n  u:\n    external_interactions:\n      - {keyname: ev, type_interaction: publisher, operation: [q1, q2]}\n      - {keyname: b-svc, type_interaction: external_system}\n      - {keyname: db, type_interaction: database}\n",
        );
        let b = service(
            "name: b\ntags: {service: b-svc}\nuse_cases:\n  v:\n    triggers:\n      - {type: consumer, options: {queue: q1}}\n      - {type: consumer, options: {queue: q3}}\n    external_interactions:\n      - {keyname: db, type_interaction: db}\n",
        );
        let services = [a, b];
        let system = System::read(&services);
        assert_eq!(system.http, vec![(0, 1)]);
        assert_eq!(system.queues["q1"].publishers, vec![0]);
        assert_eq!(system.queues["q1"].consumers, vec![1]);
        assert_eq!(system.ranks(2), vec![0, 1]);
        let warnings: Vec<String> = system_warnings(&services)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            warnings,
            [
                "shared database: `db` is a database of a and b",
                "queue nobody consumes: a publishes to `q2`, and no service consumes it",
                "queue nobody publishes: b consumes `q3`, and no service publishes to it",
            ]
        );
    }

    #[test]
    fn services_competing_for_a_command_queue_are_warned_about() {
        let a = service(
            "name: a\nuse_cases:\n  u:\n    external_interactions:\n      - {keyname: ev, type_interaction: publisher, operation: [q1, q2], queue_kind: event}\n",
        );
        let b = service(
            "name: b\nuse_cases:\n  v:\n    triggers:\n      - {type: consumer, options: {queue: q1, queue_kind: event}}\n      - {type: consumer, options: {queue: q2}}\n      - {type: consumer, options: {queue: q3}}\n",
        );
        let c = service(
            "name: c\nuse_cases:\n  w:\n    triggers:\n      - {type: consumer, options: {queue: q1, queue_kind: event}}\n      - {type: consumer, options: {queue: q3}}\n",
        );
        let warnings: Vec<String> = system_warnings(&[a, b, c])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            warnings,
            [
                "queue nobody publishes: b and c consumes `q3`, and no service publishes to it",
                "queue declared with different kinds: `v` of b consumes `q2` as a command, but a declares it an event (W020)",
                "queue consumed by several consumers is not an event: `q3` is consumed by b and c but is not an event: their consumers would compete, each getting some of its messages (W019)",
            ]
        );
    }

    #[test]
    fn cycles_do_not_loop_forever() {
        let system = System {
            http: vec![(0, 1), (1, 0)],
            ..System::default()
        };
        // The first call sets the layers; the call back would close a cycle.
        assert_eq!(system.ranks(2), vec![0, 1]);
        assert!(System::default().ranks(0).is_empty());
    }
}
