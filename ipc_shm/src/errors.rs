//! Print with `say!(...)?`, end `main` with `errors::exit(run())`: a closed stdout (`| head`)
//! ends quietly, any other error is one line, `NAME: what failed: why`, and status 1.

use std::io::{ErrorKind, Write as _};
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

/// What `main` returns. A write to a stdout whose reader has gone (`| head`) ends quietly.
/// Any other error is one line, written in one write: lines of processes never tear.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    let Err(e) = result else { return ExitCode::SUCCESS };
    if e.downcast_ref::<StdoutError>().is_some_and(|e| e.0.kind() == ErrorKind::BrokenPipe) {
        return ExitCode::SUCCESS;
    }
    let line = format!("{}: {e:#}\n", env!("CARGO_PKG_NAME"));
    let _ = std::io::stderr().write_all(line.as_bytes());
    ExitCode::FAILURE
}
