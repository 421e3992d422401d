//! A lease held by one owner at a time, renewed by `hold` only once half
//! of it has passed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bisslog_sql::Lease;
use bisslog_sql::testing::TestDatabase;

async fn expiry(test: &TestDatabase, name: &str) -> Option<i64> {
    sqlx::query_scalar("SELECT expires_at_ms FROM bisslog_leases WHERE name = $1")
        .bind(name)
        .fetch_optional(test.database.sqlite().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_renews_once_half_the_lease_has_passed() {
    let test = TestDatabase::sqlite().await;
    test.database.migrate(&[]).await.unwrap();
    let ttl = Duration::from_millis(400);
    let holder = Lease::new(test.database.clone(), "job", "a", ttl);
    let other = Lease::new(test.database.clone(), "job", "b", ttl);

    let began = Instant::now();
    assert!(holder.hold().await.unwrap(), "free: taken");
    assert!(expiry(&test, "job").await.is_some(), "written");
    assert!(!other.acquire().await.unwrap(), "held by a");

    // The row taken away behind its back: asked again at once, held, and
    // nothing written (a renewal would write the row again).
    sqlx::query("DELETE FROM bisslog_leases WHERE name = 'job'")
        .execute(test.database.sqlite().unwrap())
        .await
        .unwrap();
    assert!(holder.hold().await.unwrap());
    assert_eq!(expiry(&test, "job").await, None, "no statement");

    // Asked until it is written again: not before half the lease.
    let deadline = began + Duration::from_secs(10);
    loop {
        let asked = Instant::now();
        assert!(holder.hold().await.unwrap());
        if expiry(&test, "job").await.is_some() {
            assert!(
                asked.duration_since(began) >= ttl / 2,
                "renewed after {:?}, before half the lease",
                asked.duration_since(began)
            );
            break;
        }
        assert!(Instant::now() < deadline, "never renewed");
        tokio::task::yield_now().await;
    }

    // Released: the next `hold` asks the database, where `b` holds it now.
    holder.release().await.unwrap();
    assert!(other.acquire().await.unwrap(), "free again: b takes it");
    assert!(!holder.hold().await.unwrap(), "a no longer holds it");
    test.drop_database().await;
}
