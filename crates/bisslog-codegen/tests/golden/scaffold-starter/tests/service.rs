//! The service as the runner composes it, driven through the triggers
//! of its metadata in process by `bisslog::testkit`: the real routes,
//! mappers and problem documents, and no socket.

use bisslog::testkit::{TestService, assert_domain_depends_only_on_core};

/// The service as `main` composes it (its authenticators included), on the
/// configuration's defaults (in memory) and resources private to the test.
async fn service() -> TestService {
    bisslog::app!()
        .test_service(greeter::compose)
        .await
        .unwrap_or_else(|error| panic!("the service cannot be tested: {error}"))
}

#[test]
fn the_domain_depends_on_bisslog_core_alone() {
    assert_domain_depends_only_on_core(concat!(env!("CARGO_MANIFEST_DIR"), "/domain"));
}

/// `GET /hello/{name}`, through the route, the mapper and the use case.
#[tokio::test]
async fn get_hello_greets_and_counts() {
    let kit = service().await;
    for count in [1, 2] {
        let answer = kit
            .get("/hello/Ana")
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(answer.status(), 200, "{}", answer.text());
        let greeting: serde_json::Value = answer.json().unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(greeting["message"], "Hello, Ana!");
        assert_eq!(greeting["count"], count);
    }
}
