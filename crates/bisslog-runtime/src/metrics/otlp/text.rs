//! A reader of the OpenMetrics text that [`Metrics::encode`] writes.
//!
//! Why a reader of our own text: prometheus-client offers no way to walk a
//! registry's families from outside (its `Registry::encode` is private to
//! the crate), and its protobuf encoding needs `protoc` when building. The
//! text is the registry's one public view, and the subset the encoder
//! writes is small and fixed: `# HELP`, `# TYPE`, `# UNIT`, samples with
//! escaped label values, `_total`, `_created`, `_bucket{le=..}`, `_sum`,
//! `_count`, exemplars after ` # `, and `# EOF`. A line it does not
//! understand is skipped, never a panic.
//!
//! [`Metrics::encode`]: crate::metrics::Metrics::encode

/// What a family is, from its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Counter,
    Gauge,
    Histogram,
    /// `info`, `stateset`, `unknown`…: not exported.
    Other,
}

/// A sample's value, kept an integer when the text is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Number {
    Int(i64),
    Double(f64),
}

impl Number {
    fn parse(text: &str) -> Option<Self> {
        if let Ok(int) = text.parse::<i64>() {
            return Some(Self::Int(int));
        }
        // Rust reads `+Inf`, `-Inf` and `NaN` as OpenMetrics writes them.
        text.parse::<f64>().ok().map(Self::Double)
    }

    pub(super) fn as_f64(self) -> f64 {
        match self {
            // Precision is lost only past 2^53, as in any f64 series.
            #[allow(clippy::cast_precision_loss)]
            Self::Int(int) => int as f64,
            Self::Double(double) => double,
        }
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Sample {
    /// What follows the family's name: `""`, `"_total"`, `"_bucket"`…
    pub(super) suffix: String,
    /// The labels in the order written, values unescaped.
    pub(super) labels: Vec<(String, String)>,
    pub(super) value: Number,
}

/// One family: its metadata and samples.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Family {
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) help: String,
    pub(super) unit: String,
    pub(super) samples: Vec<Sample>,
}

impl Family {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: Kind::Other,
            help: String::new(),
            unit: String::new(),
            samples: Vec::new(),
        }
    }
}

/// The suffixes a sample's name may add to its family's.
const SUFFIXES: [&str; 6] = ["_total", "_created", "_bucket", "_sum", "_count", "_info"];

/// Reads every family of `text`, in order; stops at `# EOF`.
pub(super) fn parse(text: &str) -> Vec<Family> {
    let mut families: Vec<Family> = Vec::new();
    for line in text.lines() {
        if line == "# EOF" {
            break;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            metadata(&mut families, comment);
        } else if let Some((name, sample)) = sample(line) {
            attach(&mut families, name, sample);
        }
    }
    families
}

/// A `# HELP`, `# TYPE` or `# UNIT` line; the family's metadata come
/// before its samples, so they open it when it is not the last one.
fn metadata(families: &mut Vec<Family>, comment: &str) {
    let Some((keyword, rest)) = comment.split_once(' ') else {
        return;
    };
    let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
    if name.is_empty() || !matches!(keyword, "HELP" | "TYPE" | "UNIT") {
        return;
    }
    if families.last().is_none_or(|family| family.name != name) {
        families.push(Family::new(name));
    }
    let Some(family) = families.last_mut() else {
        return;
    };
    match keyword {
        "HELP" => family.help = unescape(value),
        "TYPE" => {
            family.kind = match value {
                "counter" => Kind::Counter,
                "gauge" => Kind::Gauge,
                "histogram" => Kind::Histogram,
                _ => Kind::Other,
            }
        }
        _ => family.unit = value.to_owned(),
    }
}

/// Gives a sample to the family it belongs to: the last one opened, when
/// the name is the family's plus a known suffix.
fn attach(families: &mut [Family], name: &str, mut sample: Sample) {
    let Some(family) = families.last_mut() else {
        return;
    };
    let Some(rest) = name.strip_prefix(family.name.as_str()) else {
        return;
    };
    if rest.is_empty() || SUFFIXES.contains(&rest) {
        sample.suffix = rest.to_owned();
        family.samples.push(sample);
    }
}

/// `name{label="value",…} value [timestamp] [# exemplar]`.
fn sample(line: &str) -> Option<(&str, Sample)> {
    let name_end = line.find(['{', ' '])?;
    let (name, mut rest) = line.split_at(name_end);
    if name.is_empty() {
        return None;
    }
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = label_set(after, &mut labels)?;
    }
    let value = rest.strip_prefix(' ')?.split(' ').next()?;
    let sample = Sample {
        suffix: String::new(),
        labels,
        value: Number::parse(value)?,
    };
    Some((name, sample))
}

/// Reads labels up to the closing `}`; returns what follows it.
fn label_set<'a>(mut rest: &'a str, labels: &mut Vec<(String, String)>) -> Option<&'a str> {
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some(after);
        }
        let (key, after) = rest.split_once("=\"")?;
        let (value, after) = quoted(after)?;
        labels.push((key.to_owned(), value));
        rest = after;
    }
}

/// An escaped label value up to its closing quote; returns what follows.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[at + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                other => value.push(other),
            },
            other => value.push(other),
        }
    }
    None
}

/// A help text's escapes (`\\`, `\n`, `\"`).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family as PromFamily;
    use prometheus_client::metrics::gauge::Gauge;
    use prometheus_client::metrics::histogram::Histogram;
    use prometheus_client::registry::{Registry, Unit};

    use super::*;
    use crate::metrics::Metrics;

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_the_real_encoders_counters_gauges_and_histograms() {
        let metrics = Metrics::new("billing \"eu\"\\1\nx");
        metrics.outbox().relayed.inc_by(3);
        metrics.pool().in_use.set(-2);
        let route = metrics.http_route("POST", "/a/{b}");
        route.observe(200, 0.003);
        route.observe(200, 0.03);
        route.observe(200, 20.0);
        let families = parse(&metrics.encode());

        let relayed = families
            .iter()
            .find(|f| f.name == "bisslog_outbox_relayed")
            .unwrap();
        assert_eq!(relayed.kind, Kind::Counter);
        assert_eq!(relayed.help, "Outbox rows published to the broker.");
        assert_eq!(
            relayed.samples,
            vec![Sample {
                suffix: "_total".into(),
                labels: labels(&[("service", "billing \"eu\"\\1\nx")]),
                value: Number::Int(3),
            }]
        );

        let pool = families
            .iter()
            .find(|f| f.name == "bisslog_db_pool_connections")
            .unwrap();
        assert_eq!(pool.kind, Kind::Gauge);
        assert!(pool.samples.iter().any(|s| s.value == Number::Int(-2)
            && s.suffix.is_empty()
            && s.labels.contains(&("state".into(), "in_use".into()))));

        let http = families
            .iter()
            .find(|f| f.name == "bisslog_http_request_duration_seconds")
            .unwrap();
        assert_eq!(http.kind, Kind::Histogram);
        let buckets: Vec<_> = http
            .samples
            .iter()
            .filter(|s| s.suffix == "_bucket")
            .collect();
        assert_eq!(buckets.len(), 15, "14 bounds and +Inf");
        let le = |s: &Sample| s.labels.iter().find(|(k, _)| k == "le").unwrap().1.clone();
        assert_eq!(le(buckets[2]), "0.005");
        assert_eq!(buckets[2].value, Number::Int(1));
        assert_eq!(le(buckets[5]), "0.05");
        assert_eq!(buckets[5].value, Number::Int(2));
        assert_eq!(le(buckets[14]), "+Inf");
        assert_eq!(buckets[14].value, Number::Int(3));
        let sum = http.samples.iter().find(|s| s.suffix == "_sum").unwrap();
        assert!((sum.value.as_f64() - 20.033).abs() < 1e-9, "{sum:?}");
        let count = http.samples.iter().find(|s| s.suffix == "_count").unwrap();
        assert_eq!(count.value, Number::Int(3));
    }

    #[test]
    fn units_floats_created_and_exemplars() {
        let mut registry = Registry::default();
        let seconds: Gauge<f64, std::sync::atomic::AtomicU64> = Gauge::default();
        seconds.set(1.5);
        registry.register_with_unit("age", "An age", Unit::Seconds, seconds);
        let created: PromFamily<Vec<(String, String)>, Counter> = PromFamily::default();
        created
            .get_or_create(&vec![("k".into(), "a,b}=\"c\"".into())])
            .inc();
        registry.register("made", "Made", created);
        // A family without series is not written at all.
        let empty: PromFamily<Vec<(String, String)>, Histogram> =
            PromFamily::new_with_constructor(|| Histogram::new([1.0]));
        registry.register("empty", "No series yet", empty);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        // A `_created` sample and an exemplar, as other encoders write them.
        text = text.replace(
            "# EOF\n",
            "made_created{k=\"x\"} 1700000000.5\nmade_total{k=\"x\"} 2 # {trace_id=\"1\"} 1.0\n# EOF\nignored 1\n",
        );
        let families = parse(&text);
        assert_eq!(
            families.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["age_seconds", "made"]
        );
        assert_eq!(families[0].unit, "seconds");
        assert_eq!(families[0].samples[0].value, Number::Double(1.5));
        let made = &families[1].samples;
        assert_eq!(made[0].labels, labels(&[("k", "a,b}=\"c\"")]));
        assert_eq!(made[1].suffix, "_created");
        assert_eq!(made[1].value, Number::Double(1_700_000_000.5));
        assert_eq!(made[2].value, Number::Int(2));
    }

    #[test]
    fn never_panics_on_broken_input() {
        let broken = [
            "",
            "#",
            "# TYPE",
            "# TYPE x",
            "# HELP x \\",
            "x",
            "x{",
            "x{a",
            "x{a=\"",
            "x{a=\"\\",
            "x{a=\"b\"",
            "x{a=\"b\"} ",
            "x{a=\"b\"} nope",
            "x 1",
            "{} 1",
            " 1",
            "x{é=\"ü\\é\"} 1",
            "# TYPE x counter\nx_total{} 1e400\nx_bucket{le=\"\"} -",
        ];
        for text in broken {
            let _ = parse(text);
        }
        let families = parse("# TYPE x gauge\nx{a=\"b\"} NaN\ny 1\nx 2");
        assert_eq!(families.len(), 1);
        assert_eq!(families[0].samples.len(), 2, "y is not x's");
        assert!(families[0].samples[0].value.as_f64().is_nan());
    }
}
