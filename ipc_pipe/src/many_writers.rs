//! Four processes write records into one pipe and one reader gets every record whole: a
//! single `write` of at most `PIPE_BUF` bytes is atomic, so records never interleave.
//! Python: several `multiprocessing.Process` putting into one `multiprocessing.Queue`.
//!
//! Run: `cargo run -p ipc_pipe -- many_writers`
//! Copy: many_writers.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal)
//! Man pages: pipe(7) for PIPE_BUF and atomic writes.

use std::io::{BufRead, BufReader, Write};

use anyhow::{Context, Result, ensure};

mod errors;
mod fork;
use errors::say;

const WRITERS: usize = 4;
const RECORDS: usize = 3;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (reader, writer) = std::io::pipe().context("pipe")?;
    let mut children = Vec::new();
    for w in 1..=WRITERS {
        let mut writer = writer.try_clone().context("dup")?;
        children.push(fork::fork(move || {
            for r in 1..=RECORDS {
                let record = format!("writer {w} record {r} of {RECORDS}\n");
                // Atomic only for one `write` of at most PIPE_BUF bytes: `write_all` would
                // loop on a short write and split the record. So write once, and treat a
                // short write as the error it is.
                ensure!(record.len() <= libc::PIPE_BUF, "a record exceeds PIPE_BUF");
                let written = writer.write(record.as_bytes()).context("writing the pipe")?;
                ensure!(written == record.len(), "short write: {written} bytes of a record");
            }
            Ok(())
        })?);
    }
    // Each child has its own copy now; the parent's must go, or the reader never sees EOF.
    drop(writer);
    let mut records = Vec::new();
    for line in BufReader::new(reader).lines() {
        let line = line.context("reading the pipe")?;
        say!("reader: {line}")?;
        records.push(line);
    }
    // Reap and check every writer before trusting what they wrote.
    for child in children {
        fork::wait(child)?;
    }
    // Every record whole and exactly once; the order between writers is the scheduler's.
    records.sort();
    let mut expected: Vec<String> = (1..=WRITERS)
        .flat_map(|w| (1..=RECORDS).map(move |r| format!("writer {w} record {r} of {RECORDS}")))
        .collect();
    expected.sort();
    ensure!(records == expected, "the records received differ from those sent");
    let count = records.len();
    say!("reader: EOF; all {count} records arrived whole, each once")?;
    say!("parent: all {WRITERS} writers exited with 0")?;
    Ok(())
}
