//! Real SQLite files and real PostgreSQL databases (from
//! `BISSLOG_TEST_POSTGRES_URL`): migrations, error kinds, readiness.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog_core::{Adapter, ErrorKind, UseCaseError};
use bisslog_sql::testing::TestDatabase;
use bisslog_sql::{Backend, Database, Migration, SqlError, map_error};

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "notes",
        sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, body TEXT NOT NULL);",
        postgres: "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, slug TEXT NOT NULL UNIQUE, body TEXT NOT NULL);",
    },
    Migration {
        version: 2,
        name: "tags",
        sqlite: "CREATE TABLE tags (note INTEGER NOT NULL REFERENCES notes(id), tag TEXT NOT NULL CHECK (length(tag) > 0));",
        postgres: "CREATE TABLE tags (note BIGINT NOT NULL REFERENCES notes(id), tag TEXT NOT NULL CHECK (length(tag) > 0));",
    },
];

async fn insert(db: &Database, slug: &str) -> Result<(), bisslog_core::Error> {
    let sql = "INSERT INTO notes (slug, body) VALUES ($1, $2)";
    let result = match db.backend() {
        Backend::Sqlite => sqlx::query(sql)
            .bind(slug)
            .bind("text")
            .execute(db.sqlite().unwrap())
            .await
            .map(drop),
        Backend::Postgres => sqlx::query(sql)
            .bind(slug)
            .bind("text")
            .execute(db.postgres().unwrap())
            .await
            .map(drop),
    };
    result.map_err(map_error)
}

async fn tag(db: &Database, note: i64, tag: &str) -> Result<(), bisslog_core::Error> {
    let sql = "INSERT INTO tags (note, tag) VALUES ($1, $2)";
    let result = match db.backend() {
        Backend::Sqlite => sqlx::query(sql)
            .bind(note)
            .bind(tag)
            .execute(db.sqlite().unwrap())
            .await
            .map(drop),
        Backend::Postgres => sqlx::query(sql)
            .bind(note)
            .bind(tag)
            .execute(db.postgres().unwrap())
            .await
            .map(drop),
    };
    result.map_err(map_error)
}

async fn exercise(test: TestDatabase) {
    let db = &test.database;
    db.migrate(MIGRATIONS).await.unwrap();
    // Applying again is a no-op, and a second pool migrating at the same
    // time neither fails nor applies anything twice.
    let other = Database::connect(&test.url).await.unwrap();
    let (a, b) = tokio::join!(db.migrate(MIGRATIONS), other.migrate(MIGRATIONS));
    a.unwrap();
    b.unwrap();
    other.close().await;

    insert(db, "first").await.unwrap();
    let duplicate = insert(db, "first").await.unwrap_err();
    assert_eq!(
        (duplicate.kind(), duplicate.code().as_ref()),
        (ErrorKind::Integrity, "unique-violation")
    );
    let orphan = tag(db, 999, "x").await.unwrap_err();
    assert_eq!(orphan.kind(), ErrorKind::Integrity);
    let empty = tag(db, 1, "").await.unwrap_err();
    assert_eq!(empty.kind(), ErrorKind::InvalidData);
    assert!(!duplicate.to_string().is_empty());

    db.ready().await.unwrap();

    // A build that knows fewer migrations refuses the database.
    let older = db.migrate(&MIGRATIONS[..1]).await.unwrap_err();
    assert!(
        matches!(older, SqlError::NewerDatabase { found: 2, known: 1 }),
        "{older}"
    );
    test.drop_database().await;
}

#[tokio::test]
async fn sqlite_files() {
    exercise(TestDatabase::sqlite().await).await;
}

#[tokio::test]
async fn postgres_databases() {
    let Some(test) = TestDatabase::postgres().await else {
        return;
    };
    exercise(test).await;
}

#[tokio::test]
async fn a_failing_migration_leaves_the_previous_version() {
    let test = TestDatabase::sqlite().await;
    let broken = [
        MIGRATIONS[0],
        Migration {
            version: 2,
            name: "broken",
            sqlite: "CREATE TABLE x (; nonsense",
            postgres: "",
        },
    ];
    let error = test.database.migrate(&broken).await.unwrap_err();
    assert!(
        matches!(error, SqlError::Migration { version: 2, .. }),
        "{error}"
    );
    test.database.migrate(MIGRATIONS).await.unwrap();
    test.drop_database().await;
}

#[tokio::test]
async fn bad_urls_are_errors_not_panics() {
    for url in ["mysql://x", "not a url", "postgres://:::"] {
        let error = Database::connect(url).await.unwrap_err();
        assert!(
            matches!(
                error,
                SqlError::InvalidUrl { .. } | SqlError::Connect { .. }
            ),
            "{url}: {error}"
        );
    }
    let unreachable = Database::connect("postgres://nobody:secret@127.0.0.1:1/x")
        .await
        .unwrap_err();
    let text = unreachable.to_string();
    assert!(
        text.contains("cannot connect") && !text.contains("secret"),
        "{text}"
    );
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_across_calls() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.migrate(MIGRATIONS).await.unwrap();
    insert(&db, "kept").await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notes")
        .fetch_one(db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

/// A transaction dropped unended (a cancelled call) is rolled back; on an
/// in-memory database, whose one connection is the database, closing that
/// connection to roll it back would throw every committed row away.
#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_when_a_transaction_is_dropped() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    db.migrate(MIGRATIONS).await.unwrap();
    insert(&db, "kept").await.unwrap();
    {
        let mut session = db.transaction().await.unwrap();
        let Ok(bisslog_sql::Connection::Sqlite(conn)) = session.connection() else {
            panic!("an in-memory database is SQLite");
        };
        sqlx::query("INSERT INTO notes (slug, body) VALUES ('dropped', 'x')")
            .execute(conn)
            .await
            .unwrap();
        // Dropped without commit, as a cancelled call drops it.
    }
    let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM notes ORDER BY id")
        .fetch_all(db.sqlite().unwrap())
        .await
        .unwrap();
    assert_eq!(slugs, ["kept"]);
    // And the database still takes transactions.
    let session = db.transaction().await.unwrap();
    session.commit().await.unwrap();
}
