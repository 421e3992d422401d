//! A stand-in for an OpenTelemetry collector in the tracing A/B
//! (`bench/tracing-ab.sh`): it takes OTLP/HTTP batches on
//! `POST /v1/traces`, answers 200 at once, and on SIGTERM or Ctrl-C prints
//! how many batches and bytes it took. It does not decode them: the bench
//! measures what exporting costs the service, not what a collector does.
//!
//! Listens on 127.0.0.1:$PORT (default 4318).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

#[derive(Default)]
struct Taken {
    batches: AtomicU64,
    bytes: AtomicU64,
}

async fn traces(State(taken): State<Arc<Taken>>, body: Bytes) -> StatusCode {
    taken.batches.fetch_add(1, Ordering::Relaxed);
    taken.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
    StatusCode::OK
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4318);
    let taken = Arc::new(Taken::default());
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(traces))
        .with_state(Arc::clone(&taken));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        })
        .await?;
    println!(
        "otlp-sink: {} batches, {} bytes",
        taken.batches.load(Ordering::Relaxed),
        taken.bytes.load(Ordering::Relaxed)
    );
    Ok(())
}
