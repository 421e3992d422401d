//! The company data registry end to end: the real binary, over a real
//! socket, on a real SQLite file and a real PostgreSQL database.

#![allow(clippy::unwrap_used, missing_docs)]

mod support;

use bisslog_sql::testing::TestDatabase;
use serde_json::{Value, json};
use support::Server;

fn language_schema() -> Value {
    serde_json::from_str(include_str!("language.schema.json")).unwrap()
}

fn spanish() -> Value {
    json!({"code": "es", "name": "español", "emoji": "🇪🇸", "translations": {"en": "Spanish", "fr": "Espagnol"}})
}

fn english() -> Value {
    json!({"code": "en", "name": "English", "emoji": "🇬🇧", "translations": {"es": "inglés", "de": "Englisch"}})
}

use reqwest::Method as M;

/// Every use case's happy path, and the errors clients meet.
async fn walk_through(server: &Server) {
    // Schemas.
    let info = json!({
        "schema_keyname": "language",
        "schema_name": "Language",
        "schema_description": "Language schema",
        "current_schema_definition": language_schema(),
    });
    let (status, body) = server.send(M::POST, "/schemas", Some(info.clone())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["schema"]["schema_keyname"], "language");
    let first_version = body["schema"]["current_version"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = server.send(M::POST, "/schemas", Some(info)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("schema-exists"))
    );
    let bad = json!({"schema_keyname": "2x", "schema_name": "ab", "schema_description": "short", "current_schema_definition": {"type": 7}});
    let (status, body) = server.send(M::POST, "/schemas", Some(bad)).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "schema_keyname",
            "schema_name",
            "schema_description",
            "current_schema_definition"
        ]
    );
    let (status, body) = server.send(M::GET, "/schemas", None).await;
    assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(1)));

    // Data.
    let (status, body) = server
        .send(M::POST, "/company/data/language", Some(spanish()))
        .await;
    assert_eq!(status, 201, "{body}");
    let es = body["inserted"].as_str().unwrap().to_owned();
    let (status, body) = server
        .send(M::POST, "/company/data/language", Some(english()))
        .await;
    assert_eq!(status, 201, "{body}");
    let en = body["inserted"].as_str().unwrap().to_owned();
    let (status, body) = server
        .send(
            M::POST,
            "/company/data/language",
            Some(json!({"code": "ESP", "emoji": 1})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid-data")));
    let paths: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/", "/", "/code", "/emoji"], "{body}");
    let (status, _) = server
        .send(M::POST, "/company/data/nope", Some(spanish()))
        .await;
    assert_eq!(status, 404);

    let (status, body) = server.send(M::GET, "/company/data/language", None).await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["es", "en"]);
    assert_eq!(body["data"][0]["uid"], es.as_str());
    let (_, body) = server
        .send(M::GET, "/company/data/language?code=es", None)
        .await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));
    let (_, body) = server
        .send(M::GET, "/company-data/language?code=en", None)
        .await;
    assert_eq!(body["data"][0]["uid"], en.as_str());
    let (_, body) = server
        .send(M::GET, "/company/data/language?code=fr", None)
        .await;
    assert_eq!(body["data"], json!([]));

    let (status, body) = server
        .send(
            M::PUT,
            &format!("/company/data/language/{es}"),
            Some(json!({"name": "castellano"})),
        )
        .await;
    assert_eq!((status, &body), (200, &json!({"updated": es})));
    let (_, body) = server
        .send(M::GET, "/company/data/language?code=es", None)
        .await;
    assert_eq!(body["data"][0]["name"], "castellano");
    let (status, _) = server
        .send(
            M::PUT,
            &format!("/company/data/language/{es}"),
            Some(json!({"code": 5})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = server
        .send(
            M::PUT,
            "/company/data/language/missing",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 404);

    // Schema metadata and definition versions.
    let new_info =
        json!({"schema_name": "Languages", "schema_description": "Every language we speak"});
    let (status, body) = server
        .send(M::PATCH, "/schemas/language", Some(new_info.clone()))
        .await;
    assert_eq!((status, &body), (200, &json!({"updated": "language"})));
    let (status, _) = server.send(M::PATCH, "/schemas/nope", Some(new_info)).await;
    assert_eq!(status, 404);
    let mut looser = language_schema();
    looser["required"] = json!(["code"]);
    let (status, body) = server
        .send(M::PUT, "/schemas/language/definition", Some(looser))
        .await;
    assert_eq!(status, 200, "{body}");
    let second_version = body["schema_version"].as_str().unwrap().to_owned();
    let (status, _) = server
        .send(
            M::POST,
            "/company/data/language",
            Some(json!({"code": "pt"})),
        )
        .await;
    assert_eq!(status, 201, "the new definition applies");
    let (status, _) = server
        .send(
            M::DELETE,
            &format!("/schema-versions/{second_version}"),
            None,
        )
        .await;
    assert_eq!(status, 409, "the current version cannot be deleted");
    let (status, _) = server
        .send(
            M::PUT,
            "/schemas/language/version",
            Some(json!({"uid_schema_version": first_version})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .send(
            M::PUT,
            "/schemas/language/version",
            Some(json!({"uid_schema_version": "nope"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = server
        .send(
            M::DELETE,
            &format!("/schema-versions/{second_version}"),
            None,
        )
        .await;
    assert_eq!((status, &body), (200, &json!({"deleted": second_version})));

    // Deletions.
    let (status, body) = server
        .send(M::DELETE, &format!("/company/data/language/{en}"), None)
        .await;
    assert_eq!((status, &body), (200, &json!({"deleted": en})));
    let (status, _) = server
        .send(M::DELETE, &format!("/company/data/language/{en}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = server.send(M::DELETE, "/schemas/language", None).await;
    assert_eq!(status, 200);
    let (status, _) = server.send(M::GET, "/company/data/language", None).await;
    assert_eq!(status, 404, "data goes with its schema");

    // Malformed requests.
    let response = server
        .client
        .post(server.url("/schemas"))
        .header("content-type", "application/json")
        .body("{\"schema_keyname\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // A body announced over the 1 MiB limit is refused from its headers
    // alone. (Sending the 2 MiB body with a client raced the refusal: the
    // server answers and closes while the client still writes, and the
    // client saw a broken pipe instead of the 413.)
    let status_line = oversized_request(&server.base).await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    let (status, _) = server.send(M::GET, "/schemas", None).await;
    assert_eq!(status, 200, "the service goes on serving");
}

/// Announces a 2 MiB body to `POST /schemas` without sending it; the
/// status line of the answer.
async fn oversized_request(base: &str) -> String {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /schemas HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        2 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut status_line = String::new();
    let mut reader = BufReader::new(stream);
    let read = reader.read_line(&mut status_line);
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .unwrap()
        .unwrap();
    status_line
}

#[tokio::test]
async fn every_use_case_over_http_on_sqlite() {
    let db = TestDatabase::sqlite().await;
    let server = Server::start(&db.url);
    walk_through(&server).await;
    assert!(server.terminate().success());
    db.drop_database().await;
}

#[tokio::test]
async fn every_use_case_over_http_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let server = Server::start(&db.url);
    walk_through(&server).await;
    assert!(server.terminate().success());
    db.drop_database().await;
}

#[tokio::test]
async fn concurrent_requests_log_their_own_transaction_ids() {
    let db = TestDatabase::sqlite().await;
    let server = Server::start(&db.url);
    let info = json!({
        "schema_keyname": "language",
        "schema_name": "Language",
        "schema_description": "Language schema",
        "current_schema_definition": language_schema(),
    });
    assert_eq!(server.send(M::POST, "/schemas", Some(info)).await.0, 201);

    let mut requests = Vec::new();
    for n in 0..100 {
        let client = server.client.clone();
        let url = server.url("/company/data/language");
        requests.push(tokio::spawn(async move {
            let mut record = spanish();
            record["name"] = json!(format!("español {n}"));
            let response = client
                .post(url)
                .header("x-transaction-id", format!("request-{n}"))
                .json(&record)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.headers()["x-transaction-id"],
                format!("request-{n}").as_str()
            );
            let body: Value = response.json().await.unwrap();
            (
                format!("request-{n}"),
                body["inserted"].as_str().unwrap().to_owned(),
            )
        }));
    }
    let mut expected = std::collections::HashMap::new();
    for request in requests {
        let (transaction, uid) = request.await.unwrap();
        expected.insert(uid, transaction);
    }
    // Each checkpoint line names the record its own request inserted.
    let mut seen = 0;
    while seen < 100 {
        let line = server.wait_for_line(|l| l.contains("[data-inserted]"));
        let transaction = line.split("][").nth(1).unwrap();
        let uid = line
            .split("record ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        assert_eq!(
            expected.get(uid).map(String::as_str),
            Some(transaction),
            "{line}"
        );
        seen += 1;
    }
    drop(server);
    db.drop_database().await;
}

#[tokio::test]
async fn start_up_says_what_is_served() {
    let db = TestDatabase::sqlite().await;
    let server = Server::start(&db.url);
    let lines = server.output();
    let consumer = lines.iter().find(|l| l.contains("consuming"));
    assert!(
        consumer.is_some_and(|l| l.contains("company_data_insertion.queue")),
        "{lines:?}"
    );
    let schedule = lines.iter().find(|l| l.contains("[schedule-started]"));
    assert!(
        schedule.is_some_and(|l| l.contains("`delete_all_inactive_schema_version`")),
        "{lines:?}"
    );
    // Every trigger of the metadata is served.
    let unserved: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("[trigger-not-served]"))
        .collect();
    assert!(unserved.is_empty(), "{unserved:?}");
    // Its OpenAPI document, and the page that renders it.
    let (status, openapi) = server
        .send(reqwest::Method::GET, "/openapi.json", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(openapi["openapi"], "3.1.0");
    assert!(
        openapi["paths"]["/schemas"]["post"].is_object(),
        "{openapi}"
    );
    let page = server.client.get(server.url("/docs")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("create_schema"));
    drop(server);
    db.drop_database().await;
}

/// `company-data-registry call`: one use case, its input from `--input` or
/// standard input, its output alone on standard output.
#[tokio::test]
async fn call_runs_one_use_case_from_the_command_line() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let db = TestDatabase::sqlite().await;
    let call = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(support::REGISTRY)
            .arg("call")
            .args(args)
            .env("DATABASE_URL", &db.url)
            // The call's events wait in the outbox: no broker file needed.
            .env("BROKER_URL", "in-process")
            // The composition includes the audit service: its trail in memory.
            .env("AUDIT_DATABASE_URL", "memory")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        (output.status.code(), stdout, stderr)
    };
    let schema = json!({"schema_info": {
        "schema_keyname": "language", "schema_name": "Language",
        "schema_description": "Language schema", "current_schema_definition": language_schema()
    }});
    let (code, stdout, stderr) = call(&["create_schema", "--input", &schema.to_string()], None);
    assert_eq!(code, Some(0), "{stderr}");
    let created: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(created["schema"]["schema_keyname"], "language");

    let (code, stdout, _) = call(&["get_all_schemas"], Some("{}"));
    assert_eq!(code, Some(0));
    let all: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(all[0]["schema_keyname"], "language", "{all}");

    let (code, stdout, stderr) = call(
        &["delete_schema", "--input", r#"{"schema_keyname": "nope"}"#],
        None,
    );
    assert_eq!((code, stdout.as_str()), (Some(1), ""));
    let problem: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(problem["code"], "schema-not-found");

    let (code, _, stderr) = call(&["create_schema", "--input", "{oops"], None);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("input-not-json"), "{stderr}");
    db.drop_database().await;
}
