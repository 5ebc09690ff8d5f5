//! `comptoir`: the one binary. Everything lives in the library so tests can drive it.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    comptoir::cli::run().await
}
