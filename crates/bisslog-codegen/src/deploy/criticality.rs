//! The documented mapping from a service's criticality to what Kubernetes
//! gives it: replica floors and ceilings, the disruption budget, and CPU
//! and memory requests and limits.
//!
//! A service is as critical as its most critical use case: one `critical`
//! use case makes the whole process critical, because it cannot be scaled
//! or protected apart from the others.

use bisslog_schema::{Criticality, ServiceMetadata};

/// What one criticality level gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The HorizontalPodAutoscaler's `minReplicas`: the floor.
    pub min_replicas: u32,
    /// The HorizontalPodAutoscaler's `maxReplicas`.
    pub max_replicas: u32,
    /// The PodDisruptionBudget's `minAvailable`; 0 writes `maxUnavailable: 1`
    /// instead (a single replica may be evicted, or no node could drain).
    pub min_available: u32,
    /// CPU request, in Kubernetes quantity syntax (`250m`).
    pub cpu_request: &'static str,
    /// CPU limit.
    pub cpu_limit: &'static str,
    /// Memory request (`128Mi`).
    pub memory_request: &'static str,
    /// Memory limit.
    pub memory_limit: &'static str,
    /// The average CPU utilisation (percent of the request) the autoscaler
    /// keeps: lower for critical services, which scale out earlier.
    pub target_cpu_utilization: u32,
}

/// The profile of `level`. This table is the one in `docs/deploy.md`.
pub const fn profile(level: Criticality) -> Profile {
    match level {
        Criticality::None | Criticality::VeryLow => Profile {
            min_replicas: 1,
            max_replicas: 2,
            min_available: 0,
            cpu_request: "50m",
            cpu_limit: "250m",
            memory_request: "64Mi",
            memory_limit: "128Mi",
            target_cpu_utilization: 80,
        },
        Criticality::Low => Profile {
            min_replicas: 2,
            max_replicas: 4,
            min_available: 1,
            cpu_request: "100m",
            cpu_limit: "500m",
            memory_request: "128Mi",
            memory_limit: "256Mi",
            target_cpu_utilization: 80,
        },
        Criticality::Medium => Profile {
            min_replicas: 2,
            max_replicas: 6,
            min_available: 1,
            cpu_request: "250m",
            cpu_limit: "1",
            memory_request: "128Mi",
            memory_limit: "256Mi",
            target_cpu_utilization: 75,
        },
        Criticality::High => Profile {
            min_replicas: 3,
            max_replicas: 10,
            min_available: 2,
            cpu_request: "500m",
            cpu_limit: "1",
            memory_request: "256Mi",
            memory_limit: "512Mi",
            target_cpu_utilization: 70,
        },
        Criticality::VeryHigh => Profile {
            min_replicas: 3,
            max_replicas: 15,
            min_available: 2,
            cpu_request: "500m",
            cpu_limit: "2",
            memory_request: "256Mi",
            memory_limit: "512Mi",
            target_cpu_utilization: 65,
        },
        Criticality::Critical => Profile {
            min_replicas: 4,
            max_replicas: 20,
            min_available: 3,
            cpu_request: "1",
            cpu_limit: "2",
            memory_request: "512Mi",
            memory_limit: "1Gi",
            target_cpu_utilization: 60,
        },
    }
}

/// The service's criticality: the highest of its use cases', `medium` (the
/// metadata's default) when it has none.
pub fn of_service(service: &ServiceMetadata) -> Criticality {
    service
        .use_cases
        .values()
        .map(|use_case| use_case.criticality)
        .max_by_key(|level| level.level())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_and_budgets_grow_with_the_level_and_always_let_a_node_drain() {
        let mut previous = profile(Criticality::None);
        for level in Criticality::ALL {
            let p = profile(level);
            assert!(p.min_replicas >= previous.min_replicas, "{level}");
            assert!(p.max_replicas >= previous.max_replicas, "{level}");
            assert!(p.max_replicas > p.min_replicas, "{level}");
            // minAvailable below the floor: one pod may always be evicted.
            assert!(p.min_available < p.min_replicas, "{level}");
            previous = p;
        }
    }

    #[test]
    fn the_service_takes_its_most_critical_use_case() {
        let service = bisslog_schema::validate_str(
            "m.yml",
            "name: s\nuse_cases:\n  a: {criticality: low}\n  b: {criticality: very_high}\n  c: {}\n",
        )
        .into_service()
        .ok();
        let level = service.as_ref().map(of_service);
        assert_eq!(level, Some(Criticality::VeryHigh));
        let empty = bisslog_schema::validate_str("m.yml", "name: s\nuse_cases: {}\n")
            .into_service()
            .ok();
        assert_eq!(empty.as_ref().map(of_service), Some(Criticality::Medium));
    }
}
