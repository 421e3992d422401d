//! `hello` serves on PORT (8080); `hello --help` lists its commands.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    bisslog::app!().run(hello::compose).await
}
