//! A service's interactions as its metadata declares them: each declared
//! external interaction's [`Interaction`], with the policy of every use
//! case that declares it and the list of those use cases (for drift).

use bisslog_schema::ServiceMetadata;
use bisslog_schema::model::{BulkheadSpec, CircuitBreakerSpec, ResiliencePolicy, RetrySpec};
use indexmap::IndexMap;

use super::{Bulkhead, CircuitBreaker, Interaction, Policy, Retry};

impl Policy {
    /// The policy a metadata block asks for: fields a present block leaves
    /// out take the built-in values ([`RetrySpec::BUILT_IN`], ...); an
    /// absent block guards nothing.
    pub fn from_spec(spec: &ResiliencePolicy) -> Self {
        Self {
            timeout: spec.timeout,
            idempotent: spec.idempotent.unwrap_or(false),
            retry: spec.retry.as_ref().map(|retry| {
                let r = retry.merged_over(&RetrySpec::BUILT_IN);
                let built_in = Retry::default();
                Retry {
                    max_attempts: r.max_attempts.unwrap_or(built_in.max_attempts),
                    initial_delay: r.initial_delay.unwrap_or(built_in.initial_delay),
                    max_delay: r.max_delay.unwrap_or(built_in.max_delay),
                    multiplier: r.multiplier.unwrap_or(built_in.multiplier),
                    jitter: r.jitter.unwrap_or(built_in.jitter),
                }
            }),
            circuit_breaker: spec.circuit_breaker.as_ref().map(|breaker| {
                let b = breaker.merged_over(&CircuitBreakerSpec::BUILT_IN);
                let built_in = CircuitBreaker::default();
                CircuitBreaker {
                    failure_ratio: b.failure_ratio.unwrap_or(built_in.failure_ratio),
                    minimum_calls: b.minimum_calls.unwrap_or(built_in.minimum_calls),
                    window: b.window.unwrap_or(built_in.window),
                    open_for: b.open_for.unwrap_or(built_in.open_for),
                    half_open_calls: b.half_open_calls.unwrap_or(built_in.half_open_calls),
                }
            }),
            bulkhead: spec.bulkhead.as_ref().map(|bulkhead| {
                let b = bulkhead.merged_over(&BulkheadSpec::BUILT_IN);
                let built_in = Bulkhead::default();
                Bulkhead {
                    max_concurrent: b.max_concurrent.unwrap_or(built_in.max_concurrent),
                    max_waiting: b.max_waiting.unwrap_or(built_in.max_waiting),
                }
            }),
        }
    }
}

/// A service's guards, by interaction keyname, in declaration order.
pub type Interactions = IndexMap<String, Interaction>;

/// Every external interaction `metadata` declares, by keyname, in the
/// order first declared: its breaker and bulkhead are those of the first
/// use case declaring it (the validator warns, W015, when use cases
/// disagree), calls inside each declaring use case follow that use case's
/// policy, and calls from any other use case are reported as undeclared.
pub fn interactions(metadata: &ServiceMetadata) -> Interactions {
    let mut users: IndexMap<&str, Vec<&str>> = IndexMap::new();
    for (use_case, declared) in &metadata.use_cases {
        for interaction in &declared.external_interactions {
            let entry = users.entry(interaction.keyname.as_str()).or_default();
            if !entry.contains(&use_case.as_str()) {
                entry.push(use_case.as_str());
            }
        }
    }
    users
        .into_iter()
        .map(|(keyname, use_cases)| {
            let first = use_cases.first().copied().unwrap_or_default();
            let mut interaction = Interaction::new(
                keyname,
                Policy::from_spec(&metadata.policy_for(first, keyname)),
            );
            for use_case in &use_cases {
                interaction = interaction.with_policy_for(
                    *use_case,
                    Policy::from_spec(&metadata.policy_for(use_case, keyname)),
                );
            }
            (keyname.to_owned(), interaction.declared_by(use_cases))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn metadata(text: &str) -> ServiceMetadata {
        bisslog_schema::validate_str("metadata.yml", text)
            .into_service()
            .unwrap()
    }

    #[test]
    fn blocks_take_the_built_in_values_for_what_they_leave_out() {
        let service = metadata(
            "name: s\ninteraction_defaults:\n  timeout: 2s\n  retry: {max_attempts: 5}\nuse_cases:\n  a:\n    external_interactions:\n    - keyname: registry\n      idempotent: true\n      retry: {initial_delay: 50ms}\n      circuit_breaker: {minimum_calls: 4}\n  b:\n    external_interactions:\n    - keyname: registry\n      circuit_breaker: {minimum_calls: 4}\n  c:\n    external_interactions:\n    - keyname: db\n",
        );
        let all = interactions(&service);
        assert_eq!(all.keys().collect::<Vec<_>>(), ["registry", "db"]);
        let policy = all["registry"].policy().clone();
        assert_eq!(policy.timeout, Some(Duration::from_secs(2)));
        assert!(policy.idempotent);
        let retry = policy.retry.unwrap();
        assert_eq!(retry.max_attempts, 5);
        assert_eq!(retry.initial_delay, Duration::from_millis(50));
        assert_eq!(retry.max_delay, Retry::default().max_delay);
        let breaker = policy.circuit_breaker.unwrap();
        assert_eq!(breaker.minimum_calls, 4);
        assert_eq!(breaker.open_for, CircuitBreaker::default().open_for);
        assert!(policy.bulkhead.is_none());
        // Defaults apply to interactions without a block of their own.
        let db = all["db"].policy().clone();
        assert_eq!(db.timeout, Some(Duration::from_secs(2)));
        assert_eq!(db.retry.unwrap().max_attempts, 5);
        assert!(!db.idempotent);
    }

    #[test]
    fn no_keys_guard_nothing() {
        let service =
            metadata("name: s\nuse_cases:\n  a:\n    external_interactions:\n    - keyname: db\n");
        assert_eq!(interactions(&service)["db"].policy(), &Policy::default());
    }
}
