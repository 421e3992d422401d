//! `hello`'s use case through its HTTP trigger, in process: the real
//! composition and routes, no socket (tests/hello.rs runs the binary).

#![allow(missing_docs)]

use bisslog::testkit::{KitError, TestService};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn hello() -> Result<TestService, Box<dyn std::error::Error + Send + Sync>> {
    bisslog::app!().test_service(hello::compose).await
}

#[tokio::test]
async fn greets_by_the_name_in_the_path() -> TestResult {
    let kit = hello().await?;
    let answer = kit.get("/hello/Ana").await?;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.json::<Value>()?, json!({"message": "Hello, Ana!"}));
    assert!(answer.transaction_id().is_some_and(|t| !t.is_empty()));
    Ok(())
}

#[tokio::test]
async fn other_paths_and_methods_are_problem_documents() -> TestResult {
    let kit = hello().await?;
    let missing = kit.get("/hello").await?;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.problem()?.status, 404);
    let wrong_method = kit.post_json("/hello/Ana", &json!({})).await?;
    assert_eq!(wrong_method.status(), 405);
    assert!(matches!(
        wrong_method.json::<Vec<String>>(),
        Err(KitError::Decode { .. })
    ));
    Ok(())
}
