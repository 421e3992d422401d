//! The registry on AWS Lambda: the service `lambda_service()` builds for
//! the generated bootstrap, fed the events API Gateway, SQS and EventBridge
//! Scheduler send, in process.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog::lambda::{LambdaHandler, SCHEDULE_KEY};
use serde_json::{Value, json};

fn http_api(method: &str, path: &str, body: Option<Value>) -> Value {
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "stage": "$default",
            "requestId": "r", "routeKey": format!("{method} {path}"),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "test"},
            "time": "21/Nov/2026:19:00:00 +0000", "timeEpoch": 1_795_287_600_000_i64
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

fn sqs_record(id: &str, arn: &str, body: &Value) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": "handle",
        "body": body.to_string(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "eu-west-1"
    })
}

fn body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn the_registry_serves_http_sqs_and_its_schedule_on_lambda() {
    // As the generated template configures it: the queue CloudFormation
    // created for `company_data_insertion.queue`.
    let arn = "arn:aws:sqs:eu-west-1:123456789012:registry-CompanyDataInsertionQueue-X1";
    let service = company_data_registry::lambda_service().await.unwrap();
    let handler = LambdaHandler::new(service)
        .unwrap()
        .queue_arns([("company_data_insertion.queue", arn)]);

    let schema = json!({
        "schema_keyname": "language", "schema_name": "Language", "schema_description": "Programming languages",
        "current_schema_definition": {"type": "object", "required": ["name"],
                                      "properties": {"name": {"type": "string"}}}
    });
    let created = handler
        .handle(http_api("POST", "/schemas", Some(schema)))
        .await
        .unwrap();
    assert_eq!(created["statusCode"], 201, "{created}");

    // Three records: one good, one the schema rejects, and the good one
    // delivered again (SQS delivers at least once; the trigger is
    // exactly-once).
    let good = json!({"schema_keyname": "language", "body": {"name": "Rust"}});
    let bad = json!({"schema_keyname": "language", "body": {"nombre": "Rust"}});
    let batch = json!({"Records": [
        sqs_record("m-1", arn, &good),
        sqs_record("m-2", arn, &bad),
        sqs_record("m-1", arn, &good),
    ]});
    let response = handler.handle(batch).await.unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
    );

    let listed = handler
        .handle(http_api("GET", "/company/data/language", None))
        .await
        .unwrap();
    assert_eq!(listed["statusCode"], 200, "{listed}");
    let data = body(&listed);
    let records = data.as_array().or_else(|| data["data"].as_array()).unwrap();
    assert_eq!(records.len(), 1, "exactly one insertion: {data}");

    // EventBridge Scheduler sends the envelope the template declares.
    let cleaned = handler
        .handle(
            json!({SCHEDULE_KEY: {"use_case": "delete_all_inactive_schema_version", "trigger": 0}}),
        )
        .await
        .unwrap();
    assert_eq!(cleaned, json!({"result": {"language": []}}));

    let problem = handler
        .handle(http_api("GET", "/schemas/nope/definition", None))
        .await
        .unwrap();
    assert!(problem["statusCode"].as_u64().unwrap() >= 400, "{problem}");

    let unmatched = handler.handle(json!({"hello": "world"})).await.unwrap_err();
    assert!(unmatched.to_string().contains("hello"), "{unmatched}");
}

/// The committed `lambda/` directory is what `bisslog lambda generate`
/// writes for this service's metadata (the command in the README), so a
/// change to `metadata.yml` cannot leave the deployment behind. `BLESS=1`
/// regenerates it; review the diff.
#[test]
fn the_lambda_directory_is_generated_from_the_current_metadata() {
    use bisslog_codegen::lambda::{self, BisslogDependency, LambdaOptions};

    let mut options = LambdaOptions::new(
        "company-data-registry",
        "../..",
        "company_data_registry::lambda_service",
    );
    options.bisslog = BisslogDependency::Path("../../../../crates/bisslog".to_owned());
    let files = lambda::generate(&company_data_registry::metadata().unwrap(), &options).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lambda");
    if std::env::var_os("BLESS").is_some() {
        bisslog_codegen::write_files(&dir, &files, true).unwrap();
        return;
    }
    for file in &files {
        let path = dir.join(&file.path);
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing; run with BLESS=1", path.display()));
        assert_eq!(
            committed,
            file.contents,
            "{} is stale (run with BLESS=1 to regenerate, then review the diff)",
            path.display()
        );
    }
}
