//! The registry's families in OTLP's data model.
//!
//! Counters become monotonic cumulative sums named without `_total` (the
//! OpenTelemetry convention; the family's name as registered), gauges
//! become gauges, histograms cumulative histograms whose bucket counts are
//! per bucket (Prometheus' `le` counts are cumulative). Labels, `service`
//! included, become the points' attributes. Names keep their `_seconds`
//! suffix, so that a query finds the same name in both systems, and the
//! unit is `s`.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, Sum,
    metric::Data, number_data_point,
};

use super::text::{Family, Kind, Number, Sample};

/// When the series started counting and when they were read, in
/// nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub(super) struct Times {
    pub(super) start: u64,
    pub(super) now: u64,
}

/// Every family with at least one series, as OTLP metrics.
pub(super) fn metrics(families: &[Family], times: Times) -> Vec<Metric> {
    families
        .iter()
        .filter_map(|family| {
            let data = match family.kind {
                Kind::Counter => counter(family, times),
                Kind::Gauge => gauge(family, times),
                Kind::Histogram => histogram(family, times),
                Kind::Other => None,
            }?;
            Some(Metric {
                name: family.name.clone(),
                description: family.help.clone(),
                unit: unit(family),
                data: Some(data),
                ..Metric::default()
            })
        })
        .collect()
}

/// UCUM units, as OTLP wants them.
fn unit(family: &Family) -> String {
    match family.unit.as_str() {
        "seconds" => "s".to_owned(),
        "bytes" => "By".to_owned(),
        "" if family.name.ends_with("_seconds") => "s".to_owned(),
        "" if family.name.ends_with("_bytes") => "By".to_owned(),
        other => other.to_owned(),
    }
}

/// A text attribute.
pub(super) fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn attributes<'a>(labels: impl IntoIterator<Item = &'a (String, String)>) -> Vec<KeyValue> {
    labels.into_iter().map(|(k, v)| attribute(k, v)).collect()
}

fn number(value: Number) -> number_data_point::Value {
    match value {
        Number::Int(int) => number_data_point::Value::AsInt(int),
        Number::Double(double) => number_data_point::Value::AsDouble(double),
    }
}

fn counter(family: &Family, times: Times) -> Option<Data> {
    // Our registry writes no `_created`: look them up only when there are.
    let any_created = family.samples.iter().any(|s| s.suffix == "_created");
    let created = |labels: &[(String, String)]| {
        if !any_created {
            return None;
        }
        family
            .samples
            .iter()
            .find(|s| s.suffix == "_created" && s.labels == labels)
            .map(|s| seconds_to_nanos(s.value.as_f64()))
    };
    let points: Vec<_> = family
        .samples
        .iter()
        .filter(|s| s.suffix == "_total" || s.suffix.is_empty())
        .map(|s| NumberDataPoint {
            attributes: attributes(&s.labels),
            start_time_unix_nano: created(&s.labels).unwrap_or(times.start),
            time_unix_nano: times.now,
            value: Some(number(s.value)),
            ..NumberDataPoint::default()
        })
        .collect();
    (!points.is_empty()).then_some(Data::Sum(Sum {
        data_points: points,
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
        is_monotonic: true,
    }))
}

fn gauge(family: &Family, times: Times) -> Option<Data> {
    let points: Vec<_> = family
        .samples
        .iter()
        .filter(|s| s.suffix.is_empty())
        .map(|s| NumberDataPoint {
            attributes: attributes(&s.labels),
            time_unix_nano: times.now,
            value: Some(number(s.value)),
            ..NumberDataPoint::default()
        })
        .collect();
    (!points.is_empty()).then_some(Data::Gauge(Gauge {
        data_points: points,
    }))
}

/// One histogram series while its samples are read.
struct Series<'a> {
    labels: Vec<&'a (String, String)>,
    /// `le` bounds (finite ones) and cumulative counts, as written.
    buckets: Vec<(f64, u64)>,
    infinite: Option<u64>,
    sum: Option<f64>,
    count: Option<u64>,
}

fn histogram(family: &Family, times: Times) -> Option<Data> {
    let mut series: Vec<Series<'_>> = Vec::new();
    for sample in &family.samples {
        let labels: Vec<_> = sample.labels.iter().filter(|(k, _)| k != "le").collect();
        // A series' samples come together: the last one is nearly always it.
        let found = match series.last() {
            Some(last) if last.labels == labels => Some(series.len() - 1),
            _ => series.iter().position(|s| s.labels == labels),
        };
        let index = match found {
            Some(index) => index,
            None => {
                series.push(Series {
                    labels,
                    buckets: Vec::new(),
                    infinite: None,
                    sum: None,
                    count: None,
                });
                series.len() - 1
            }
        };
        let Some(entry) = series.get_mut(index) else {
            continue;
        };
        read_histogram_sample(entry, sample);
    }
    let points: Vec<_> = series
        .into_iter()
        .map(|s| histogram_point(s, times))
        .collect();
    (!points.is_empty()).then_some(Data::Histogram(Histogram {
        data_points: points,
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
    }))
}

fn read_histogram_sample(series: &mut Series<'_>, sample: &Sample) {
    let count = count(sample.value);
    match sample.suffix.as_str() {
        "_sum" => series.sum = Some(sample.value.as_f64()),
        "_count" => series.count = Some(count),
        "_bucket" => {
            let le = sample
                .labels
                .iter()
                .find(|(k, _)| k == "le")
                .and_then(|(_, v)| v.parse::<f64>().ok());
            match le {
                Some(bound) if bound.is_finite() => series.buckets.push((bound, count)),
                Some(_) => series.infinite = Some(count),
                None => {}
            }
        }
        _ => {}
    }
}

fn histogram_point(mut series: Series<'_>, times: Times) -> HistogramDataPoint {
    series.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = series
        .count
        .or(series.infinite)
        .or(series.buckets.last().map(|b| b.1))
        .unwrap_or(0);
    // Prometheus counts everything up to a bound; OTLP counts each bucket.
    let mut below = 0_u64;
    let mut bucket_counts = Vec::with_capacity(series.buckets.len() + 1);
    for &(_, cumulative) in &series.buckets {
        bucket_counts.push(cumulative.saturating_sub(below));
        below = below.max(cumulative);
    }
    bucket_counts.push(total.saturating_sub(below));
    HistogramDataPoint {
        attributes: attributes(series.labels),
        start_time_unix_nano: times.start,
        time_unix_nano: times.now,
        count: total,
        sum: series.sum,
        bucket_counts,
        explicit_bounds: series.buckets.iter().map(|b| b.0).collect(),
        ..HistogramDataPoint::default()
    }
}

/// A count written as a number; a negative or broken one is 0.
fn count(value: Number) -> u64 {
    match value {
        Number::Int(int) => u64::try_from(int).unwrap_or(0),
        // Saturating: NaN is 0, beyond u64 is its maximum.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Number::Double(double) => double as u64,
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn seconds_to_nanos(seconds: f64) -> u64 {
    // Saturating cast: a broken timestamp is 0 or the maximum, not a panic.
    (seconds * 1e9) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::otlp::text::parse;

    const TIMES: Times = Times {
        start: 1_000,
        now: 2_000,
    };

    fn text_of(value: &KeyValue) -> &str {
        match value.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(text)) => text,
            _ => "",
        }
    }

    #[test]
    fn counters_gauges_and_histograms() {
        let text = "\
# HELP c Calls.
# TYPE c counter
c_total{service=\"s\",outcome=\"ok\"} 5
c_created{service=\"s\",outcome=\"ok\"} 1.5
c_total{service=\"s\",outcome=\"err\"} 1
# TYPE g gauge
g{service=\"s\"} 2.25
# TYPE h_seconds histogram
h_seconds_sum{a=\"1\"} 0.7
h_seconds_count{a=\"1\"} 4
h_seconds_bucket{le=\"0.1\",a=\"1\"} 1
h_seconds_bucket{le=\"0.5\",a=\"1\"} 3
h_seconds_bucket{le=\"+Inf\",a=\"1\"} 4
# TYPE i info
i_info{v=\"1\"} 1
# TYPE empty counter
# EOF
";
        let metrics = metrics(&parse(text), TIMES);
        assert_eq!(metrics.len(), 3, "info and empty families are left out");

        assert_eq!(metrics[0].name, "c");
        assert_eq!(metrics[0].description, "Calls.");
        let Some(Data::Sum(sum)) = &metrics[0].data else {
            panic!("{:?}", metrics[0]);
        };
        assert!(sum.is_monotonic);
        assert_eq!(
            sum.aggregation_temporality,
            AggregationTemporality::Cumulative as i32
        );
        assert_eq!(sum.data_points.len(), 2);
        let ok = &sum.data_points[0];
        assert_eq!(ok.value, Some(number_data_point::Value::AsInt(5)));
        assert_eq!(ok.start_time_unix_nano, 1_500_000_000, "from _created");
        assert_eq!(ok.time_unix_nano, 2_000);
        assert_eq!(
            ok.attributes
                .iter()
                .map(|kv| (kv.key.as_str(), text_of(kv)))
                .collect::<Vec<_>>(),
            [("service", "s"), ("outcome", "ok")]
        );
        assert_eq!(sum.data_points[1].start_time_unix_nano, 1_000);

        let Some(Data::Gauge(gauge)) = &metrics[1].data else {
            panic!("{:?}", metrics[1]);
        };
        assert_eq!(
            gauge.data_points[0].value,
            Some(number_data_point::Value::AsDouble(2.25))
        );

        assert_eq!(metrics[2].unit, "s");
        let Some(Data::Histogram(histogram)) = &metrics[2].data else {
            panic!("{:?}", metrics[2]);
        };
        let point = &histogram.data_points[0];
        assert_eq!(point.explicit_bounds, [0.1, 0.5]);
        assert_eq!(point.bucket_counts, [1, 2, 1]);
        assert_eq!(point.count, 4);
        assert_eq!(point.sum, Some(0.7));
        assert_eq!(point.start_time_unix_nano, 1_000);
        assert_eq!(point.attributes.len(), 1, "le is not an attribute");
    }

    #[test]
    fn inconsistent_histograms_do_not_underflow() {
        let text = "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 3\nh_count 1\n";
        let metrics = metrics(&parse(text), TIMES);
        let Some(Data::Histogram(histogram)) = &metrics[0].data else {
            panic!("{metrics:?}");
        };
        assert_eq!(histogram.data_points[0].bucket_counts, [5, 0, 0]);
    }
}
