//! Writing to a pipe whose reader has exited fails with `EPIPE`: no silent loss, and no
//! death by SIGPIPE, since Rust ignores that signal as Python does. Python: `BrokenPipeError`.
//!
//! Run: `cargo run -p ipc_pipe -- broken_pipe`
//! Copy: broken_pipe.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal)
//!
//! Man pages: pipe(7), signal(7) for SIGPIPE.

use std::io::{BufRead, BufReader, ErrorKind, Write};

use anyhow::{Context, Result, bail};

mod errors;
mod fork;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (reader, mut writer) = std::io::pipe().context("pipe")?;
    // `move` gives the read end to the child alone. A parent that kept a read end open would
    // never get EPIPE, because there would always be one reader left: the parent itself.
    let child = fork::fork(move || {
        let mut line = String::new();
        BufReader::new(reader).read_line(&mut line).context("reading the pipe")?;
        say!("child: read {:?} and exits, closing the read end", line.trim_end())?;
        Ok(())
    })?;
    if let Err(e) = writer.write_all(b"hello\n") {
        fork::wait(child)?; // a child that failed says why
        return Err(e).context("writing to the child");
    }
    // Once the child has exited, no read end is open anywhere.
    fork::wait(child)?;
    say!("parent: child exited with 0")?;
    // C programs die of SIGPIPE here; Rust's runtime ignores the signal at startup, so the
    // write returns an error instead.
    match writer.write_all(b"anyone there?\n") {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            say!("parent: write failed with EPIPE ({e})")?
        }
        Ok(()) => bail!("a write with no reader left succeeded, where EPIPE was due"),
        Err(e) => return Err(e).context("writing a pipe with no reader (EPIPE was due)"),
    }
    Ok(())
}
