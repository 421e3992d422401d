//! How critical a use case is to the business.

use serde::{Serialize, Serializer};

/// A use case's criticality. Levels have the numbers the Python bisslog
/// tools use; files may give either the name (any case) or the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Criticality {
    /// 0: nothing depends on it.
    None,
    /// 10.
    VeryLow,
    /// 20.
    Low,
    /// 50: the default.
    #[default]
    Medium,
    /// 70.
    High,
    /// 90.
    VeryHigh,
    /// 100: the business stops without it.
    Critical,
}

impl Criticality {
    /// Every level, from least to most critical.
    pub const ALL: [Criticality; 7] = [
        Criticality::None,
        Criticality::VeryLow,
        Criticality::Low,
        Criticality::Medium,
        Criticality::High,
        Criticality::VeryHigh,
        Criticality::Critical,
    ];

    /// The level's number (0–100).
    pub const fn level(self) -> u8 {
        match self {
            Criticality::None => 0,
            Criticality::VeryLow => 10,
            Criticality::Low => 20,
            Criticality::Medium => 50,
            Criticality::High => 70,
            Criticality::VeryHigh => 90,
            Criticality::Critical => 100,
        }
    }

    /// The level's name as metadata files write it (`very_high`).
    pub const fn name(self) -> &'static str {
        match self {
            Criticality::None => "none",
            Criticality::VeryLow => "very_low",
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::VeryHigh => "very_high",
            Criticality::Critical => "critical",
        }
    }

    /// The level with this name, in any case.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The level with exactly this number.
    pub fn from_level(level: i64) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| i64::from(c.level()) == level)
    }
}

impl std::fmt::Display for Criticality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Criticality {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}
