//! The broker conformance suite every adapter passes, run unchanged on
//! [`SqlBroker`] over SQLite (a file of this test run) and over PostgreSQL
//! (`BISSLOG_TEST_POSTGRES_URL`; skipped when unset, required under
//! `CI=true`).

use bisslog_sql::SqlBroker;

/// SQLite: every client the suite asks for is a new pool on one file, as
/// several processes on one machine would be.
mod sqlite {
    use super::SqlBroker;

    fn url() -> &'static str {
        static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        URL.get_or_init(|| {
            let path = std::env::temp_dir().join(format!(
                "bisslog-broker-conformance-{}.db",
                std::process::id()
            ));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            format!("sqlite://{}", path.display())
        })
    }

    async fn connect() -> SqlBroker {
        SqlBroker::connect(url())
            .await
            .unwrap_or_else(|e| panic!("opening the broker at {}: {e}", url()))
    }

    bisslog_testkit::broker_conformance!(connect);
}

/// PostgreSQL: every client is a new pool on one database of the test
/// server, kept between runs (the suite's queue names are unique).
mod postgres {
    use super::SqlBroker;
    use bisslog_sql::Database;
    use tokio::sync::OnceCell;

    const DATABASE: &str = "bisslog_test_broker_conformance";

    fn available() -> bool {
        bisslog_sql::testing::postgres_url().is_some()
    }

    /// The server's URL with the suite's database in place of its own.
    fn url_of(admin: &str) -> String {
        let (base, query) = match admin.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (admin, None),
        };
        let host_start = base.find("://").map_or(0, |i| i + 3);
        let base = match base[host_start..].find('/') {
            Some(slash) => &base[..host_start + slash],
            None => base,
        };
        match query {
            Some(query) => format!("{base}/{DATABASE}?{query}"),
            None => format!("{base}/{DATABASE}"),
        }
    }

    async fn url() -> &'static str {
        static URL: OnceCell<String> = OnceCell::const_new();
        URL.get_or_init(|| async {
            let admin = bisslog_sql::testing::postgres_url()
                .unwrap_or_else(|| panic!("the cases run only with a server"));
            let server = Database::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("reaching the test server: {e}"));
            let pool = server
                .postgres()
                .unwrap_or_else(|| panic!("not PostgreSQL"));
            // Already there from an earlier run (or a concurrent one): fine.
            let _ = sqlx_create(pool).await;
            server.close().await;
            url_of(&admin)
        })
        .await
    }

    async fn sqlx_create(pool: &bisslog_sql::sqlx::PgPool) -> Result<(), bisslog_sql::sqlx::Error> {
        bisslog_sql::sqlx::query(bisslog_sql::sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {DATABASE}"
        )))
        .execute(pool)
        .await
        .map(drop)
    }

    async fn connect() -> SqlBroker {
        let url = url().await;
        SqlBroker::connect(url)
            .await
            .unwrap_or_else(|e| panic!("opening the broker at {url}: {e}"))
    }

    bisslog_testkit::broker_conformance!(connect, if available);
}
