//! `comptoir`: the one binary. Everything lives in the library so tests can drive it.

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    set_inference_threads();
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

/// Gives candle its thread count once (see `comptoir_ml::THREADS_VAR`): without it, every
/// matrix product of an embedding re-reads `/proc/cpuinfo`.
#[allow(unsafe_code)]
fn set_inference_threads() {
    if std::env::var_os(comptoir_ml::THREADS_VAR).is_none() {
        let threads = comptoir_ml::inference_threads().to_string();
        // SAFETY: this runs first in `main`, before the runtime or any other thread exists,
        // so nothing can read the environment while it changes.
        unsafe { std::env::set_var(comptoir_ml::THREADS_VAR, threads) };
    }
}
