//! The documented mapping from a use case's criticality to its objectives:
//! the availability target whose error budget the burn-rate alerts spend,
//! the p99 latency bound, how long a breach must last, how old a backlog
//! may grow, and whether a breach pages someone or opens a ticket.
//!
//! The table in `docs/observability.md` ("Alerts and dashboards") is this
//! one; a test holds them together.

use bisslog_schema::Criticality;

/// Who a firing alert reaches: the `severity` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Looked at during working hours.
    Ticket,
    /// Wakes someone up.
    Page,
}

impl Severity {
    /// The label value: `ticket` or `page`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Ticket => "ticket",
            Severity::Page => "page",
        }
    }
}

/// What one criticality level is held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    /// The share of calls, in parts per million, that must not fail for a
    /// reason of the service's own (999_000 is "three nines"), over 30
    /// days. Integers keep the generated thresholds exact.
    pub availability_ppm: u32,
    /// The 99th percentile latency bound, in milliseconds (a bucket
    /// boundary of `bisslog_use_case_duration_seconds`).
    pub p99_latency_ms: u32,
    /// How long the p99 must stay above the bound before the alert fires,
    /// in Prometheus duration syntax.
    pub latency_for: &'static str,
    /// The age, in seconds, a consumer's oldest unacknowledged message or
    /// the outbox's oldest pending message may reach.
    pub backlog_age_seconds: u32,
    /// Who the fast burn, latency, lag, backlog and late-schedule alerts
    /// reach.
    pub severity: Severity,
}

impl Objective {
    /// The error budget: the share of calls allowed to fail, in parts per
    /// million.
    pub const fn error_budget_ppm(&self) -> u32 {
        1_000_000 - self.availability_ppm
    }
}

/// The objective of `level`. This table is the one in
/// `docs/observability.md`.
pub const fn objective(level: Criticality) -> Objective {
    match level {
        Criticality::None => Objective {
            availability_ppm: 950_000,
            p99_latency_ms: 10_000,
            latency_for: "1h",
            backlog_age_seconds: 3600,
            severity: Severity::Ticket,
        },
        Criticality::VeryLow => Objective {
            availability_ppm: 980_000,
            p99_latency_ms: 5_000,
            latency_for: "30m",
            backlog_age_seconds: 3600,
            severity: Severity::Ticket,
        },
        Criticality::Low => Objective {
            availability_ppm: 990_000,
            p99_latency_ms: 2_500,
            latency_for: "30m",
            backlog_age_seconds: 1800,
            severity: Severity::Ticket,
        },
        Criticality::Medium => Objective {
            availability_ppm: 995_000,
            p99_latency_ms: 1_000,
            latency_for: "15m",
            backlog_age_seconds: 600,
            severity: Severity::Ticket,
        },
        Criticality::High => Objective {
            availability_ppm: 999_000,
            p99_latency_ms: 500,
            latency_for: "10m",
            backlog_age_seconds: 300,
            severity: Severity::Page,
        },
        Criticality::VeryHigh => Objective {
            availability_ppm: 999_500,
            p99_latency_ms: 500,
            latency_for: "5m",
            backlog_age_seconds: 120,
            severity: Severity::Page,
        },
        Criticality::Critical => Objective {
            availability_ppm: 999_900,
            p99_latency_ms: 250,
            latency_for: "5m",
            backlog_age_seconds: 60,
            severity: Severity::Page,
        },
    }
}

/// The error kinds (as the `error_kind` label writes them) that are the
/// caller's doing, the ones answered with a 4xx status by default: bad
/// input, missing or forbidden things, conflicts. They do not spend the
/// error budget, since the service answered as it should.
pub const CALLER_ERROR_KINDS: [&str; 8] = [
    "malformed",
    "invalid",
    "invalid_data",
    "not_found",
    "not_allowed",
    "unauthenticated",
    "conflict",
    "integrity",
];

/// One pair of windows of a multi-window burn-rate alert (the Google SRE
/// workbook's): the alert fires when the error ratio over both windows is
/// above `factor` times the error budget. The long window says enough of
/// the budget is gone; the short one that it is still going.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    /// The long window (`1h`).
    pub long: &'static str,
    /// The short window (`5m`), a twelfth of the long one.
    pub short: &'static str,
    /// How many times faster than allowed the budget burns.
    pub factor: f64,
}

/// The fast burn: 2% of a 30-day budget in one hour, or 5% in six hours.
/// It reaches the level's [`Objective::severity`].
pub const FAST_BURN: [BurnWindow; 2] = [
    BurnWindow {
        long: "1h",
        short: "5m",
        factor: 14.4,
    },
    BurnWindow {
        long: "6h",
        short: "30m",
        factor: 6.0,
    },
];

/// The slow burn: 10% of the budget in a day, or all of it in three days
/// at this pace. Always a ticket.
pub const SLOW_BURN: [BurnWindow; 2] = [
    BurnWindow {
        long: "1d",
        short: "2h",
        factor: 3.0,
    },
    BurnWindow {
        long: "3d",
        short: "6h",
        factor: 1.0,
    },
];

/// Every window an error ratio is recorded over, shortest first.
pub const RATIO_WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// `value / scale` written exactly as a decimal, without trailing zeros:
/// `decimal(1_000, 1_000_000)` is `0.001`, `decimal(2_500, 1_000)` is `2.5`.
pub fn decimal(value: u32, scale: u32) -> String {
    let whole = value / scale;
    let mut fraction = value % scale;
    if fraction == 0 {
        return whole.to_string();
    }
    let mut digits = String::new();
    let mut place = scale / 10;
    while fraction > 0 && place > 0 {
        digits.push(char::from(
            b'0' + u8::try_from(fraction / place).unwrap_or(0),
        ));
        fraction %= place;
        place /= 10;
    }
    format!("{whole}.{digits}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(1_000, 1_000_000), "0.001");
        assert_eq!(decimal(100, 1_000_000), "0.0001");
        assert_eq!(decimal(50_000, 1_000_000), "0.05");
        assert_eq!(decimal(999_500, 10_000), "99.95");
        assert_eq!(decimal(2_500, 1_000), "2.5");
        assert_eq!(decimal(10_000, 1_000), "10");
        assert_eq!(decimal(250, 1_000), "0.25");
    }

    use super::*;

    #[test]
    fn objectives_tighten_with_the_level() {
        let mut previous = objective(Criticality::None);
        for level in Criticality::ALL {
            let o = objective(level);
            assert!(o.availability_ppm >= previous.availability_ppm, "{level}");
            assert!(o.p99_latency_ms <= previous.p99_latency_ms, "{level}");
            assert!(
                o.backlog_age_seconds <= previous.backlog_age_seconds,
                "{level}"
            );
            assert!(o.severity >= previous.severity, "{level}");
            // The fastest burn must stay a ratio a service can reach.
            assert!(
                FAST_BURN[0].factor * f64::from(o.error_budget_ppm()) < 1e6,
                "{level}"
            );
            previous = o;
        }
        assert_eq!(objective(Criticality::Medium).severity, Severity::Ticket);
        assert_eq!(objective(Criticality::High).severity, Severity::Page);
    }

    #[test]
    fn every_burn_window_is_recorded() {
        for window in FAST_BURN.iter().chain(&SLOW_BURN) {
            assert!(RATIO_WINDOWS.contains(&window.long), "{}", window.long);
            assert!(RATIO_WINDOWS.contains(&window.short), "{}", window.short);
        }
    }
}
