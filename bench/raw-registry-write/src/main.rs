//! The company data registry's `POST /company/data/{schema_keyname}` written
//! by hand in axum + sqlx: the lower bound the registry's write path is
//! measured against (`bench/writes-compare.sh`, docs/benchmarks.md).
//!
//! It does the same database work as the registry's `insert_company_data`
//! on the same table layout: read the schema's current definition, check
//! the record against it, then in one transaction insert the record and its
//! `company_data.inserted` event into `bisslog_outbox` (`BEGIN IMMEDIATE` on
//! SQLite, as bisslog-sql does). What differs, on purpose: the check is a
//! hand-written interpreter of the JSON Schema subset the benchmark's
//! `language` schema uses (no `jsonschema` crate), the uid is a
//! process-unique counter (no `uuid` crate), nothing relays the outbox, and
//! there are no transaction ids, logs, timeouts or panic isolation.
//!
//! Settings: `DATABASE_URL` (`sqlite://file.db` or `postgres://...`),
//! `PORT` (default 8080), `SCHEMA_FILE` (a JSON Schema registered at
//! start-up as `SCHEMA_KEYNAME`, default `language`). Listens on
//! 127.0.0.1; stops on SIGTERM or Ctrl-C.

mod check;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The tables the registry's migrations create, the columns this handler
/// touches included, for each engine.
const SQLITE_TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS schemas (keyname TEXT PRIMARY KEY, name TEXT NOT NULL, \
     description TEXT NOT NULL, current_definition TEXT NOT NULL, current_version TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
     keyname TEXT NOT NULL REFERENCES schemas(keyname) ON DELETE CASCADE, uid TEXT NOT NULL, \
     data TEXT NOT NULL, UNIQUE (keyname, uid))",
    "CREATE TABLE IF NOT EXISTS bisslog_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     message_id TEXT NOT NULL UNIQUE, queue TEXT NOT NULL, ordering_key TEXT, event_type TEXT, \
     transaction_id TEXT, headers TEXT NOT NULL, payload BLOB NOT NULL, \
     created_at_ms INTEGER NOT NULL, published_at_ms INTEGER, attempts INTEGER NOT NULL DEFAULT 0, \
     last_error TEXT, last_attempt_at_ms INTEGER, next_attempt_at_ms INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS bisslog_outbox_unpublished ON bisslog_outbox (id) \
     WHERE published_at_ms IS NULL",
    "CREATE INDEX IF NOT EXISTS bisslog_outbox_published ON bisslog_outbox (published_at_ms) \
     WHERE published_at_ms IS NOT NULL",
];

const POSTGRES_TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS schemas (keyname TEXT PRIMARY KEY, name TEXT NOT NULL, \
     description TEXT NOT NULL, current_definition JSONB NOT NULL, current_version TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (seq BIGSERIAL PRIMARY KEY, \
     keyname TEXT NOT NULL REFERENCES schemas(keyname) ON DELETE CASCADE, uid TEXT NOT NULL, \
     data JSONB NOT NULL, UNIQUE (keyname, uid))",
    "CREATE TABLE IF NOT EXISTS bisslog_outbox (id BIGSERIAL PRIMARY KEY, \
     message_id TEXT NOT NULL UNIQUE, queue TEXT NOT NULL, ordering_key TEXT, event_type TEXT, \
     transaction_id TEXT, headers TEXT NOT NULL, payload BYTEA NOT NULL, \
     created_at_ms BIGINT NOT NULL, published_at_ms BIGINT, attempts INTEGER NOT NULL DEFAULT 0, \
     last_error TEXT, last_attempt_at_ms BIGINT, next_attempt_at_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS bisslog_outbox_unpublished ON bisslog_outbox (id) \
     WHERE published_at_ms IS NULL",
    "CREATE INDEX IF NOT EXISTS bisslog_outbox_published ON bisslog_outbox (published_at_ms) \
     WHERE published_at_ms IS NOT NULL",
];

const INSERT_RECORD_SQLITE: &str = "INSERT INTO records (keyname, uid, data) VALUES ($1, $2, $3)";
const INSERT_RECORD_POSTGRES: &str =
    "INSERT INTO records (keyname, uid, data) VALUES ($1, $2, $3::jsonb)";
const INSERT_EVENT: &str = "INSERT INTO bisslog_outbox \
    (message_id, queue, ordering_key, event_type, transaction_id, headers, payload, created_at_ms, next_attempt_at_ms) \
    VALUES ($1, 'company_data.inserted', $2, 'company_data_inserted', NULL, $3, $4, $5, $5)";
const SELECT_DEFINITION_SQLITE: &str = "SELECT current_definition FROM schemas WHERE keyname = $1";
const SELECT_DEFINITION_POSTGRES: &str =
    "SELECT current_definition::text FROM schemas WHERE keyname = $1";
const EVENT_HEADERS: &str =
    r#"{"content-type":"application/json","event-type":"company_data_inserted"}"#;

/// The pool, on the engine `DATABASE_URL` names.
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

struct App {
    db: Db,
    /// Uids are `<start-up time>-<counter>`: unique in the database
    /// without a random source.
    started_ms: i64,
    next: AtomicU64,
}

/// Why a request failed; becomes its status and a short JSON message.
enum Failure {
    BadJson,
    NotAnObject,
    NoSchema,
    Invalid(Vec<String>),
    Database(sqlx::Error),
    BadDefinition,
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Failure::BadJson => (
                StatusCode::BAD_REQUEST,
                json!({"error": "the body is not JSON"}),
            ),
            Failure::NotAnObject => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "the data must be an object"}),
            ),
            Failure::NoSchema => (StatusCode::NOT_FOUND, json!({"error": "schema-not-found"})),
            Failure::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid-data", "errors": errors}),
            ),
            Failure::Database(error) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": error.to_string()}),
            ),
            Failure::BadDefinition => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "the stored definition is unusable"}),
            ),
        };
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Failure::Database(error)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn insert(
    State(app): State<Arc<App>>,
    Path(keyname): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let Value::Object(mut record) =
        serde_json::from_slice::<Value>(&body).map_err(|_| Failure::BadJson)?
    else {
        return Err(Failure::NotAnObject);
    };
    record.remove("uid");
    let definition: Option<String> = match &app.db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(SELECT_DEFINITION_SQLITE)
                .bind(&keyname)
                .fetch_optional(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(SELECT_DEFINITION_POSTGRES)
                .bind(&keyname)
                .fetch_optional(pool)
                .await?
        }
    };
    let definition: Value = serde_json::from_str(&definition.ok_or(Failure::NoSchema)?)
        .map_err(|_| Failure::BadDefinition)?;
    let record = Value::Object(record);
    let violations = check::violations(&definition, &record).map_err(|_| Failure::BadDefinition)?;
    if !violations.is_empty() {
        return Err(Failure::Invalid(violations));
    }
    let uid = format!(
        "{}-{}",
        app.started_ms,
        app.next.fetch_add(1, Ordering::Relaxed)
    );
    let data = record.to_string();
    let event = json!({"schema_keyname": keyname, "uid": uid, "data": record}).to_string();
    let created = now_ms();
    match &app.db {
        Db::Sqlite(pool) => {
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query(INSERT_RECORD_SQLITE)
                .bind(&keyname)
                .bind(&uid)
                .bind(&data)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_EVENT)
                .bind(&uid)
                .bind(&keyname)
                .bind(EVENT_HEADERS)
                .bind(event.as_bytes())
                .bind(created)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query(INSERT_RECORD_POSTGRES)
                .bind(&keyname)
                .bind(&uid)
                .bind(&data)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_EVENT)
                .bind(&uid)
                .bind(&keyname)
                .bind(EVENT_HEADERS)
                .bind(event.as_bytes())
                .bind(created)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"inserted": uid}).to_string(),
    )
        .into_response())
}

/// Connects with the options bisslog-sql uses, creates the tables and
/// registers the schema.
async fn open(url: &str, keyname: &str, definition: &str) -> Result<Db, sqlx::Error> {
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        for statement in SQLITE_TABLES {
            sqlx::query(*statement).execute(&pool).await?;
        }
        sqlx::query(
            "INSERT INTO schemas VALUES ($1, $1, 'benchmark schema', $2, 'v1') ON CONFLICT DO NOTHING",
        )
        .bind(keyname)
        .bind(definition)
        .execute(&pool)
        .await?;
        Ok(Db::Sqlite(pool))
    } else {
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        for statement in POSTGRES_TABLES {
            sqlx::query(*statement).execute(&pool).await?;
        }
        sqlx::query(
            "INSERT INTO schemas VALUES ($1, $1, 'benchmark schema', $2::jsonb, 'v1') ON CONFLICT DO NOTHING",
        )
        .bind(keyname)
        .bind(definition)
        .execute(&pool)
        .await?;
        Ok(Db::Postgres(pool))
    }
}

async fn stopped() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://raw-registry-write.db".to_owned());
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    let keyname = std::env::var("SCHEMA_KEYNAME").unwrap_or_else(|_| "language".to_owned());
    let schema_file = std::env::var("SCHEMA_FILE").map_err(|_| "SCHEMA_FILE is not set")?;
    let definition = std::fs::read_to_string(&schema_file)?;
    // Refuse a definition the checker cannot interpret at start-up rather
    // than with a 500 on every request.
    let parsed: Value = serde_json::from_str(&definition)?;
    check::violations(&parsed, &json!({}))?;
    let db = open(&url, &keyname, &definition).await?;
    let app = Arc::new(App {
        db,
        started_ms: now_ms(),
        next: AtomicU64::new(1),
    });
    let router = Router::new()
        .route("/company/data/{schema_keyname}", post(insert))
        .route("/health/live", get(|| async { "ok" }))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, router)
        .with_graceful_shutdown(stopped())
        .await?;
    Ok(())
}
