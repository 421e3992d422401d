//! Opens `COUNT` WebSocket connections to `URL` (default
//! `ws://127.0.0.1:8080/ws`) and holds them, idle, until SIGTERM or
//! Ctrl-C (`bench/ws-idle-memory.sh`). Each connection's TCP socket is
//! bound to one of `SOURCES` loopback addresses (default 4: 127.0.0.1 to
//! 127.0.0.4) in turn, so that 10,000 connections never run out of
//! ephemeral ports. At most `PARALLEL` (default 100) handshakes are in
//! flight at a time. Prints `open <n>` once every connection is up, or
//! exits 1 on the first that fails.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpSocket;
use tokio::sync::Semaphore;

fn setting(name: &str, default: usize) -> Result<usize, Box<dyn std::error::Error>> {
    match std::env::var(name) {
        Ok(value) => Ok(value.parse()?),
        Err(_) => Ok(default),
    }
}

type Connection = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn open(url: String, target: SocketAddr, source: Ipv4Addr) -> Result<Connection, String> {
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(SocketAddr::from((source, 0)))
        .map_err(|e| format!("bind {source}: {e}"))?;
    let stream = socket
        .connect(target)
        .await
        .map_err(|e| format!("connect from {source}: {e}"))?;
    let (connection, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    Ok(connection)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("URL").unwrap_or_else(|_| "ws://127.0.0.1:8080/ws".to_owned());
    let count = setting("COUNT", 10_000)?;
    let sources = setting("SOURCES", 4)?.clamp(1, 250);
    let parallel = setting("PARALLEL", 100)?.max(1);
    let authority = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or("URL must be ws://host:port/path")?;
    let target: SocketAddr = authority.parse()?;
    let permits = Arc::new(Semaphore::new(parallel));
    let mut opening = tokio::task::JoinSet::new();
    for i in 0..count {
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let last = u8::try_from(1 + i % sources)?;
        let url = url.clone();
        opening.spawn(async move {
            let opened = open(url, target, Ipv4Addr::new(127, 0, 0, last)).await;
            drop(permit);
            opened
        });
    }
    let mut held = Vec::with_capacity(count);
    while let Some(opened) = opening.join_next().await {
        held.push(opened??);
    }
    println!("open {}", held.len());
    tokio::signal::ctrl_c().await.ok();
    drop(held);
    Ok(())
}
