//! Log lines the bisslog way, through `tracing`.
//!
//! The default line is bisslog's
//! `[time][transaction_id][level][checkpoint_id] message`, followed by any
//! other fields as `key=value`; [`LogFormat::Json`] writes one JSON object
//! per line instead, with the `trace_id` and `span_id` of the call's span
//! when it is in a trace (the [`trace`](crate::trace) module). The transaction id is the event's own
//! `transaction_id` field, else the id of the use case whose future is
//! being polled ([`bisslog_messaging::current`]), else `service-logging`, as in bisslog.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The transaction id of lines logged outside any use case.
pub const SERVICE_TRANSACTION: &str = "service-logging";
/// The checkpoint id of lines that name none.
pub const UNKNOWN_CHECKPOINT: &str = "unknown-checkpoint";

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// `[time][transaction_id][level][checkpoint_id] message key=value`.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The format named by `BISSLOG_LOG_FORMAT` (`text` or `json`), text
    /// when unset or unknown.
    pub fn from_env() -> Self {
        match std::env::var("BISSLOG_LOG_FORMAT")
            .ok()
            .as_deref()
            .map(str::trim)
        {
            Some(f) if f.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// Installs the bisslog log format as the global `tracing` subscriber,
/// writing to standard output, with the level filter of `RUST_LOG` (INFO
/// when unset) and the format of `BISSLOG_LOG_FORMAT`. Does nothing when a
/// subscriber is already installed (a test harness, the application).
pub fn init() {
    init_with(LogFormat::from_env());
}

/// [`init`] with a chosen format.
pub fn init_with(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(BisslogFormat { format })
        .with_writer(std::io::stdout)
        .try_init();
}

/// [`init`], writing to standard error: for commands whose standard output
/// is their result (`<service> call ...`), so scripts can parse it.
pub fn init_on_stderr() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(BisslogFormat {
            format: LogFormat::from_env(),
        })
        .with_writer(std::io::stderr)
        .try_init();
}

/// Where [`init_configured`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard output: a server's logs.
    Stdout,
    /// Standard error: for commands whose standard output is their result.
    Stderr,
}

/// Installs the bisslog log format with the level filter `filter` (the
/// `RUST_LOG` syntax: `info`, `debug,sqlx=warn`), as the service runner
/// does from its configuration. Does nothing when a subscriber is already
/// installed.
///
/// # Errors
///
/// When `filter` is not a valid filter; the message says why.
pub fn init_configured(filter: &str, format: LogFormat, target: LogTarget) -> Result<(), String> {
    let filter = EnvFilter::try_new(filter).map_err(|e| e.to_string())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(BisslogFormat { format });
    let _ = match target {
        LogTarget::Stdout => builder.with_writer(std::io::stdout).try_init(),
        LogTarget::Stderr => builder.with_writer(std::io::stderr).try_init(),
    };
    Ok(())
}

/// The event formatter, for applications composing their own subscriber.
#[derive(Debug, Clone, Copy, Default)]
pub struct BisslogFormat {
    /// Text or JSON.
    pub format: LogFormat,
}

impl<S, N> FormatEvent<S, N> for BisslogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let json = self.format == LogFormat::Json;
        let given = fields.transaction_id.is_some();
        let (current, trace) = bisslog_messaging::current::with(|ctx| match ctx {
            Some(ctx) => (
                (!given).then(|| ctx.transaction_id().to_string()),
                // Only JSON lines carry the trace; text keeps bisslog's line.
                ctx.trace_context().filter(|_| json).cloned(),
            ),
            None => (None, None),
        });
        let transaction = fields
            .transaction_id
            .take()
            .or(current)
            .unwrap_or_else(|| SERVICE_TRANSACTION.to_owned());
        let checkpoint = fields
            .checkpoint_id
            .as_deref()
            .unwrap_or(UNKNOWN_CHECKPOINT);
        let level = event.metadata().level().as_str();
        let time = utc_timestamp(SystemTime::now());
        match self.format {
            LogFormat::Text => {
                write!(
                    writer,
                    "[{time}][{transaction}][{level}][{checkpoint}] {}",
                    fields.message
                )?;
                for (key, value) in &fields.extra {
                    write!(writer, " {key}={value}")?;
                }
                writeln!(writer)
            }
            LogFormat::Json => {
                let mut line = serde_json::Map::new();
                line.insert("time".into(), time.into());
                line.insert("transaction_id".into(), transaction.into());
                line.insert("level".into(), level.into());
                line.insert("checkpoint_id".into(), checkpoint.into());
                if let Some(trace) = trace {
                    line.insert("trace_id".into(), trace.trace_id_hex().into());
                    line.insert("span_id".into(), trace.span_id_hex().into());
                }
                line.insert("target".into(), event.metadata().target().into());
                line.insert("message".into(), fields.message.into());
                for (key, value) in fields.extra {
                    line.insert(key.to_owned(), value.into());
                }
                writeln!(writer, "{}", serde_json::Value::Object(line))
            }
        }
    }
}

/// The fields of one event.
#[derive(Default)]
struct Fields {
    message: String,
    transaction_id: Option<String>,
    checkpoint_id: Option<String>,
    extra: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, format!("{value:?}"));
    }
}

impl Fields {
    fn record(&mut self, field: &Field, value: String) {
        match field.name() {
            "message" => self.message = value,
            "transaction_id" => self.transaction_id = Some(value),
            "checkpoint_id" => self.checkpoint_id = Some(value),
            name => self.extra.push((name, value)),
        }
    }
}

/// `2026-11-21T15:04:05.123Z`.
fn utc_timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        since.subsec_millis()
    );
    out
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_iso8601() {
        let at = UNIX_EPOCH + Duration::from_millis(1_795_359_845_123);
        assert_eq!(utc_timestamp(at), "2026-11-22T15:04:05.123Z");
        assert_eq!(utc_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&utc_timestamp(leap)[..10], "2000-02-29");
    }

    /// Where the formatter's lines go in the test below.
    #[derive(Clone, Default)]
    struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_parse_and_carry_the_bisslog_fields() {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(BisslogFormat {
                format: LogFormat::Json,
            })
            .with_writer(move || sink.clone())
            .finish();
        let traced = bisslog_core::Ctx::builder("save", bisslog_core::Trigger::Http)
            .maybe_trace_parent(bisslog_core::TraceContext::parse(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ))
            .build();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                transaction_id = "tx-1",
                checkpoint_id = "schema-saved",
                rows = 3,
                "stored \"language\"\non two lines"
            );
            tracing::warn!("no ids here");
            let in_call = bisslog_messaging::current::scope(traced.clone(), async {
                tracing::info!(checkpoint_id = "in-call", "inside a traced call");
            });
            futures_util::FutureExt::now_or_never(in_call);
        });
        let bytes = lines
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let text = String::from_utf8(bytes).unwrap_or_default();
        let parsed: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert_eq!(parsed.len(), 3, "{text}");
        let first = &parsed[0];
        assert_eq!(first["transaction_id"], "tx-1");
        assert_eq!(first["checkpoint_id"], "schema-saved");
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["message"], "stored \"language\"\non two lines");
        assert_eq!(first["rows"], "3");
        let time = first["time"].as_str().unwrap_or_default();
        assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
        let second = &parsed[1];
        assert_eq!(second["transaction_id"], SERVICE_TRANSACTION);
        assert_eq!(second["checkpoint_id"], UNKNOWN_CHECKPOINT);
        assert_eq!(second["level"], "WARN");
        assert!(
            second.get("trace_id").is_none(),
            "no trace, no ids: {second}"
        );
        let third = &parsed[2];
        assert_eq!(third["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(third["span_id"], "00f067aa0ba902b7");
        assert_eq!(third["transaction_id"], traced.transaction_id().to_string());
    }

    #[test]
    fn text_lines_keep_the_bisslog_shape() {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(BisslogFormat::default())
            .with_writer(move || sink.clone())
            .finish();
        let traced = bisslog_core::Ctx::builder("save", bisslog_core::Trigger::Http)
            .maybe_trace_parent(bisslog_core::TraceContext::parse(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ))
            .build();
        tracing::subscriber::with_default(subscriber, || {
            let in_call = bisslog_messaging::current::scope(traced.clone(), async {
                tracing::info!(checkpoint_id = "schema-saved", rows = 3, "stored");
            });
            futures_util::FutureExt::now_or_never(in_call);
        });
        let bytes = lines
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let text = String::from_utf8(bytes).unwrap_or_default();
        // [time][transaction_id][level][checkpoint_id] message key=value
        let line = text.trim_end();
        let fields: Vec<&str> = line
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("] "))
            .map(|(head, _)| head.split("][").collect())
            .unwrap_or_default();
        assert_eq!(fields.len(), 4, "{line}");
        assert!(fields[0].ends_with('Z'), "{line}");
        assert_eq!(fields[1], traced.transaction_id().to_string());
        assert_eq!(fields[2], "INFO");
        assert_eq!(fields[3], "schema-saved");
        assert!(line.ends_with("] stored rows=3"), "{line}");
        assert!(
            !line.contains("4bf92f35"),
            "text lines stay as bisslog's: {line}"
        );
    }
}
