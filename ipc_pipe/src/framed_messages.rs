//! A forked child sends three messages up a pipe, one per line, so that each arrives whole
//! however the bytes are split; the parent reads until EOF, which comes once every write end
//! is closed. Python: `os.pipe()`, `os.fork()`, `os.close` of the unused end,
//! `os.fdopen(r).readline()`.
//!
//! Run: `cargo run -p ipc_pipe -- framed_messages`
//! Copy: framed_messages.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal)
//!
//! Man pages: pipe(7), pipe(2), fork(2).

use std::io::{BufRead, BufReader, Write};

use anyhow::{Context, Result};

mod errors;
mod fork;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (reader, mut writer) = std::io::pipe().context("pipe")?;
    // `move` gives the write end to the child alone: in the parent, `fork` drops the closure
    // unrun, and the write end with it. That matters: EOF comes only once *every* write end is
    // closed, so a parent that kept one would wait for itself for ever.
    let child = fork::fork(move || {
        // Printed before the first write, so it comes before anything the parent reads.
        say!("child: sending 3 messages, one per line; exiting will close my write end")?;
        for n in 1..=3 {
            // Newline framing suits text that never holds a newline, and reads well in
            // strace; for arbitrary bytes, prefix each message with its length instead.
            writer.write_all(format!("Message {n}\n").as_bytes()).context("writing the pipe")?;
        }
        Ok(())
    })?;
    let mut count = 0;
    // `lines()` reads up to each newline, however the bytes were split, and ends at EOF.
    for message in BufReader::new(reader).lines() {
        count += 1;
        say!("parent: message {count}: {:?}", message.context("reading the pipe")?)?;
    }
    // EOF alone does not say the child succeeded: its exit status does.
    fork::wait(child)?;
    say!("parent: EOF after {count} messages; child exited with 0")?;
    Ok(())
}
