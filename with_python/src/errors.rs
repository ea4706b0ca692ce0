//! Errors and output for the recipes: print with `say!(...)?` instead of `println!`, and end
//! `main` with `errors::exit(run())`. A closed stdout (`| head`) then ends the program quietly;
//! any other error is one line on stderr, `NAME: what failed: why`, and status 1.

use std::process::ExitCode;

/// `println!` that returns an error instead of panicking when stdout is closed or full. Like
/// `println!`, it holds stdout's lock for the whole line, so lines of threads never tear.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).map_err(errors::StdoutError)
    }};
}
pub(crate) use say;

/// A failed write to stdout, kept apart from other errors (a pipe of our own that breaks is
/// a real error) so that `exit` can tell when the reader of stdout went away.
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
    let e = error.downcast_ref::<StdoutError>();
    e.is_some_and(|e| e.0.kind() == std::io::ErrorKind::BrokenPipe)
}

/// What `main` returns. `{:#}` prints anyhow's chain of contexts on one line.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Err(e) if !stdout_closed(&e) => {
            eprintln!("{}: {e:#}", env!("CARGO_PKG_NAME"));
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}
