//! The service `bisslog new` writes without `--from`: one use case,
//! `greet`, behind `GET /hello/{name}`, counting greetings through one
//! port, `greetings`, with a memory and a SQL adapter, so that every part
//! of a service is shown working.
//!
//! These files are examples to edit, not stubs: they are written without
//! a checksum header, so `bisslog generate` treats them as the owner's.

/// The starter's `metadata.yml`.
pub(crate) fn metadata(crate_name: &str) -> String {
    format!(
        "name: {crate_name}
description: A bisslog service. Declare its use cases here, then run `bisslog generate`.
team: my-team
use_cases:
  greet:
    name: greet
    description: Greets someone by name and says how many times they were greeted.
    actor: anyone
    criticality: low
    triggers:
      - type: http
        options:
          method: get
          path: /hello/{{name}}
          mapper:
            path_query.name: name
    external_interactions:
      - keyname: greetings
        type_interaction: database
        operation: record_greeting
        description: How many times each name was greeted.
"
    )
}

/// `domain/src/ports/greetings.rs`.
pub(crate) fn port() -> String {
    "//! The `greetings` port: how many times each name was greeted.

use std::future::Future;

use bisslog_core::Error;

/// How the domain counts greetings. The service implements it in memory
/// and in SQL (`src/adapters`).
pub trait Greetings: Send + Sync + 'static {
    /// Counts one more greeting of `name`; how many there were, this one
    /// included.
    fn record_greeting(&self, name: &str) -> impl Future<Output = Result<u64, Error>> + Send;
}
"
    .to_owned()
}

/// `domain/src/use_cases/greet.rs`.
pub(crate) fn use_case() -> String {
    "//! `greet`: greets someone by name and says how many times they were
//! greeted.

use bisslog_core::{Ctx, Error, UseCase};
use serde::{Deserialize, Serialize};

use crate::ports::greetings::Greetings;

/// Who to greet: the `{name}` of the path, as the mapper says.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
pub struct GreetInput {
    /// The name.
    pub name: String,
}

/// The greeting.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct GreetOutput {
    /// \"Hello, Ana!\"
    pub message: String,
    /// How many times this name was greeted, this time included.
    pub count: u64,
}

/// Greets someone by name and says how many times they were greeted.
pub struct Greet<P1> {
    /// The `greetings` port.
    pub greetings: P1,
}

impl<P1> UseCase for Greet<P1>
where
    P1: Greetings,
{
    type Input = GreetInput;
    type Output = GreetOutput;
    type Error = Error;

    async fn run(&self, ctx: &Ctx, input: GreetInput) -> Result<GreetOutput, Error> {
        let count = self.greetings.record_greeting(&input.name).await?;
        ctx.checkpoint(\"greeted\", format!(\"greeted {} ({count})\", input.name));
        Ok(GreetOutput {
            message: format!(\"Hello, {}!\", input.name),
            count,
        })
    }
}
"
    .to_owned()
}

/// `src/adapters/memory/greetings.rs`.
pub(crate) fn memory(crate_name: &str) -> String {
    let domain = format!("{}_domain", crate_name.replace('-', "_"));
    format!(
        "//! The `greetings` port in memory: for tests, and for trying the service
//! without a database. Nothing survives the process.

use std::collections::HashMap;
use std::sync::{{Arc, Mutex, PoisonError}};

use bisslog::{{Adapter, Error}};
use {domain}::ports::greetings::Greetings;

/// Greeting counts in memory. Clones share the same counts.
#[derive(Debug, Clone, Default)]
pub struct MemoryGreetings {{
    counts: Arc<Mutex<HashMap<String, u64>>>,
}}

impl Adapter for MemoryGreetings {{}}

impl Greetings for MemoryGreetings {{
    async fn record_greeting(&self, name: &str) -> Result<u64, Error> {{
        // A panic elsewhere while holding the lock leaves the counts usable.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(name.to_owned()).or_default();
        *count += 1;
        Ok(*count)
    }}
}}
"
    )
}

/// `src/adapters/sql/greetings.rs`.
pub(crate) fn sql(crate_name: &str) -> String {
    let domain = format!("{}_domain", crate_name.replace('-', "_"));
    format!(
        "//! The `greetings` port in SQL: SQLite or PostgreSQL through
//! `bisslog::sql`, its table created by the service's migrations.

use bisslog::sql::{{Database, Migration, SqlError, map_error, on_engine, sqlx}};
use bisslog::{{Adapter, BoxFuture, Error}};
use {domain}::ports::greetings::Greetings;

/// The service's tables, for both engines. Keep every table of the
/// service in this one list: versions are the service's, not a port's.
pub const MIGRATIONS: &[Migration] = &[Migration {{
    version: 1,
    name: \"greetings\",
    sqlite: \"CREATE TABLE greetings (name TEXT PRIMARY KEY, count INTEGER NOT NULL)\",
    postgres: \"CREATE TABLE greetings (name TEXT PRIMARY KEY, count BIGINT NOT NULL)\",
}}];

/// Greeting counts in the service's SQL database. Clones share the pool.
#[derive(Debug, Clone)]
pub struct SqlGreetings {{
    db: Database,
}}

impl SqlGreetings {{
    /// On `db`, already connected: creates the tables it needs.
    pub async fn new(db: Database) -> Result<Self, SqlError> {{
        db.migrate(MIGRATIONS).await?;
        Ok(Self {{ db }})
    }}
}}

impl Adapter for SqlGreetings {{
    fn ready(&self) -> BoxFuture<'_, Result<(), Error>> {{
        self.db.ready()
    }}
}}

impl Greetings for SqlGreetings {{
    async fn record_greeting(&self, name: &str) -> Result<u64, Error> {{
        // The use case's transaction when it has one, else one of its own.
        let mut session = self.db.begin().await?;
        let count: i64 = on_engine!(session.connection()?, tx => {{
            sqlx::query_scalar(
                \"INSERT INTO greetings (name, count) VALUES ($1, 1) \\
                 ON CONFLICT (name) DO UPDATE SET count = greetings.count + 1 \\
                 RETURNING count\",
            )
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_error)?
        }});
        session.commit().await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }}
}}
"
    )
}

/// `tests/use_cases/greet.rs`.
pub(crate) fn test(crate_name: &str) -> String {
    let lib = crate_name.replace('-', "_");
    format!(
        "//! `greet` on in-memory adapters.

use bisslog::{{Ctx, Trigger, UseCase}};
use {lib}::adapters::memory::greetings::MemoryGreetings;
use {lib}_domain::use_cases::greet::{{Greet, GreetInput}};

fn ana() -> GreetInput {{
    GreetInput {{
        name: \"Ana\".to_owned(),
    }}
}}

#[tokio::test]
async fn greet_greets_by_name_and_counts() {{
    let use_case = Greet {{
        greetings: MemoryGreetings::default(),
    }};
    let ctx = Ctx::new(\"greet\", Trigger::Direct);
    let first = use_case.run(&ctx, ana()).await;
    let second = use_case.run(&ctx, ana()).await;
    let (first, second) = match (first, second) {{
        (Ok(first), Ok(second)) => (first, second),
        (first, second) => panic!(\"greet failed: {{:?}} {{:?}}\", first.err(), second.err()),
    }};
    assert_eq!(first.message, \"Hello, Ana!\");
    assert_eq!((first.count, second.count), (1, 2));
}}
"
    )
}

/// `tests/service.rs`: the starter's route, answered.
pub(crate) fn service_test(crate_name: &str) -> String {
    let lib = crate_name.replace('-', "_");
    let mut out = super::tests::service_test_head(&lib);
    out.push_str(
        "
/// `GET /hello/{name}`, through the route, the mapper and the use case.
#[tokio::test]
async fn get_hello_greets_and_counts() {
    let kit = service().await;
    for count in [1, 2] {
        let answer = kit
            .get(\"/hello/Ana\")
            .await
            .unwrap_or_else(|error| panic!(\"{error}\"));
        assert_eq!(answer.status(), 200, \"{}\", answer.text());
        let greeting: serde_json::Value = answer.json().unwrap_or_else(|error| panic!(\"{error}\"));
        assert_eq!(greeting[\"message\"], \"Hello, Ana!\");
        assert_eq!(greeting[\"count\"], count);
    }
}
",
    );
    out
}
