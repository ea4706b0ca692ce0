//! A pipe is a byte stream, not a message queue: three writes already in the pipe come back
//! from one read as one lump. This is why the next recipe frames its messages. Python:
//! `r, w = os.pipe()`, `os.write(w, ...)` three times, `os.read(r, 64)`.
//!
//! Run: `cargo run -p ipc_pipe -- byte_stream`
//! Copy: byte_stream.rs errors.rs
//! Needs: anyhow@1
//!
//! Man pages: pipe(7), pipe(2).

use std::io::{Read, Write};

use anyhow::{Context, Result};

mod errors;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (mut reader, mut writer) = std::io::pipe().context("pipe")?;
    for n in 1..=3 {
        writer.write_all(format!("Message {n}").as_bytes()).context("writing to the pipe")?;
    }
    // No race is involved: all three writes are in the pipe before the read starts.
    let mut lump = [0u8; 64];
    let len = reader.read(&mut lump).context("reading the pipe")?;
    let text = String::from_utf8_lossy(&lump[..len]);
    say!("unframed: one read returned {text:?}")?;
    Ok(())
}
