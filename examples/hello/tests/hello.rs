//! `hello` over a real socket: the greeting, and the served OpenAPI
//! document that types it.

#![allow(clippy::unwrap_used, missing_docs)]

use bisslog::http::{ApiDocs, HttpServer};

#[tokio::test]
async fn greets_by_name_and_documents_it() {
    let server = HttpServer::builder(hello::service().unwrap())
        .openapi(ApiDocs::default())
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve_until(listener, async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let greeting: serde_json::Value = client
        .get(format!("{base}/hello/Ana"))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(greeting, serde_json::json!({"message": "Hello, Ana!"}));

    let document: serde_json::Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ok = &document["paths"]["/hello/{name}"]["get"]["responses"]["200"];
    let schema = ok["content"]["application/json"]["schema"].to_string();
    assert!(schema.contains("Greeting"), "{ok}");

    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}
