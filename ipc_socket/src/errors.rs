//! Print with `say!(...)?`, end `main` with `errors::exit(run())`: a closed stdout (`| head`)
//! ends quietly, any other error is one line, `NAME: what failed: why`, and status 1.

use std::process::ExitCode;

/// `println!` that returns an error where it panics; it locks stdout for the whole line.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).map_err(errors::StdoutError)
    }};
}
pub(crate) use say;

/// A failed write to stdout, apart from other errors: a broken pipe of our own is a real one.
#[derive(Debug)]
pub struct StdoutError(pub std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "writing to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

/// Whether `error` is a write to a stdout whose reader has gone.
pub fn stdout_closed(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<StdoutError>()
        .is_some_and(|e| e.0.kind() == std::io::ErrorKind::BrokenPipe)
}

/// What `main` returns. One write: lines of processes that fail at once never tear.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Err(e) if !stdout_closed(&e) => {
            let line = format!("{}: {e:#}\n", env!("CARGO_PKG_NAME"));
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}
