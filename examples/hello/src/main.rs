//! Serves `hello` on `PORT` (8080 by default) until SIGTERM or Ctrl-C.

use bisslog::http::HttpServer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    bisslog::logging::init();
    let port: u16 = std::env::var("PORT").map_or(Ok(8080), |port| port.parse())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    HttpServer::builder(hello::service()?)
        .build()?
        .serve(listener)
        .await?;
    Ok(())
}
