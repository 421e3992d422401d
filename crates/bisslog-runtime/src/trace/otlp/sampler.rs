//! Which traces are recorded: `OTEL_TRACES_SAMPLER` and its argument, as
//! the OpenTelemetry specification defines them.

use bisslog_core::TraceContext;

use super::OtlpError;

/// The decision for spans that start a trace (or all spans, when not
/// parent-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    AlwaysOn,
    AlwaysOff,
    /// Sampled when the trace id's lower 56 bits are below this threshold:
    /// every service that sees the trace decides alike.
    Ratio(u64),
}

/// A sampler: `parentbased_always_on` unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sampler {
    root: Root,
    /// Whether a span with a parent follows its parent's decision.
    parent_based: bool,
}

impl Default for Sampler {
    fn default() -> Self {
        Self {
            root: Root::AlwaysOn,
            parent_based: true,
        }
    }
}

/// The lower 56 bits of a trace id: the part W3C Trace Context level 2
/// requires to be random.
const RANDOM_BITS: u32 = 56;

impl Sampler {
    /// The sampler `OTEL_TRACES_SAMPLER` names, with
    /// `OTEL_TRACES_SAMPLER_ARG` for the ratio (1.0 when absent).
    ///
    /// # Errors
    ///
    /// A sampler this build does not have, or a ratio outside 0..=1.
    pub fn read(name: Option<&str>, arg: Option<&str>) -> Result<Self, OtlpError> {
        let ratio = || -> Result<Root, OtlpError> {
            let Some(text) = arg else {
                return Ok(Root::AlwaysOn);
            };
            match text.parse::<f64>() {
                Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(Root::Ratio(threshold(ratio))),
                _ => Err(OtlpError::Unsupported {
                    variable: "OTEL_TRACES_SAMPLER_ARG",
                    value: text.to_owned(),
                    reason: "a ratio from 0 to 1, such as 0.1",
                }),
            }
        };
        let (root, parent_based) = match name.unwrap_or("parentbased_always_on") {
            "always_on" => (Root::AlwaysOn, false),
            "always_off" => (Root::AlwaysOff, false),
            "traceidratio" => (ratio()?, false),
            "parentbased_always_on" => (Root::AlwaysOn, true),
            "parentbased_always_off" => (Root::AlwaysOff, true),
            "parentbased_traceidratio" => (ratio()?, true),
            other => {
                return Err(OtlpError::Unsupported {
                    variable: "OTEL_TRACES_SAMPLER",
                    value: other.to_owned(),
                    reason: "use always_on, always_off, traceidratio or their parentbased_ forms",
                });
            }
        };
        Ok(Self { root, parent_based })
    }

    /// Whether a span of trace `trace_id` under `parent` is recorded.
    pub fn sampled(&self, parent: Option<&TraceContext>, trace_id: &[u8; 16]) -> bool {
        match parent {
            Some(parent) if self.parent_based => parent.sampled(),
            _ => match self.root {
                Root::AlwaysOn => true,
                Root::AlwaysOff => false,
                Root::Ratio(threshold) => {
                    let mut low = [0; 8];
                    low.copy_from_slice(&trace_id[8..]);
                    let random = u64::from_be_bytes(low) & ((1 << RANDOM_BITS) - 1);
                    random < threshold
                }
            },
        }
    }
}

/// The threshold under which a trace id's random bits are sampled.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "ratio is within 0..=1, so the product is within 0..=2^56"
)]
fn threshold(ratio: f64) -> u64 {
    (ratio * (1_u64 << RANDOM_BITS) as f64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace_id(random: u64) -> [u8; 16] {
        let mut id = [0xab; 16];
        id[8..].copy_from_slice(&random.to_be_bytes());
        id
    }

    #[test]
    fn parent_based_follows_the_parent_and_samples_roots() {
        let sampler = Sampler::default();
        let sampled = TraceContext::generate();
        let unsampled = sampled.clone().with_sampled(false);
        assert!(sampler.sampled(None, &trace_id(1)));
        assert!(sampler.sampled(Some(&sampled), &trace_id(1)));
        assert!(!sampler.sampled(Some(&unsampled), &trace_id(1)));
        let always = Sampler::read(Some("always_on"), None).unwrap();
        assert!(always.sampled(Some(&unsampled), &trace_id(1)));
    }

    #[test]
    fn ratios_keep_the_share_of_trace_ids_they_say() {
        // A thousand trace ids spread evenly over the random bits.
        const STEP: u64 = (1 << 56) / 1000;
        let tenth = Sampler::read(Some("parentbased_traceidratio"), Some("0.1")).unwrap();
        let kept = (0..1000_u64)
            .filter(|n| tenth.sampled(None, &trace_id(n * STEP + STEP / 2)))
            .count();
        assert_eq!(kept, 100);
        let none = Sampler::read(Some("traceidratio"), Some("0")).unwrap();
        assert!(!none.sampled(None, &trace_id(0)));
        let all = Sampler::read(Some("traceidratio"), Some("1")).unwrap();
        assert!(all.sampled(None, &trace_id(u64::MAX)));
        assert!(
            !Sampler::read(Some("always_off"), None)
                .unwrap()
                .sampled(None, &trace_id(0))
        );
    }

    #[test]
    fn unknown_samplers_and_ratios_name_their_variable() {
        let error = Sampler::read(Some("jaeger_remote"), None).unwrap_err();
        assert!(
            error.to_string().contains("OTEL_TRACES_SAMPLER="),
            "{error}"
        );
        let error = Sampler::read(Some("traceidratio"), Some("1.5")).unwrap_err();
        assert!(
            error.to_string().contains("OTEL_TRACES_SAMPLER_ARG"),
            "{error}"
        );
        let error = Sampler::read(Some("traceidratio"), Some("ten")).unwrap_err();
        assert!(
            error.to_string().contains("OTEL_TRACES_SAMPLER_ARG"),
            "{error}"
        );
    }
}
