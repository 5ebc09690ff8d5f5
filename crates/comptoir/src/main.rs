//! `comptoir`: the one binary. Everything lives in the library so tests can drive it.

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(comptoir::cli::run());
    // The server and workers have stopped gracefully by now; a model download still running
    // on the blocking pool (first start) must not hold the exit. It resumes next start.
    runtime.shutdown_timeout(Duration::from_secs(2));
    code
}
