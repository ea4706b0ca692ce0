//! A duplex channel between parent and child: `UnixStream::pair` (a socketpair) carries
//! requests one way and answers the other, and a half-close ends the conversation. Python:
//! `parent_conn, child_conn = multiprocessing.Pipe()` (duplex by default), `socket.socketpair()`.
//!
//! Run: `cargo run -p ipc_pipe -- socketpair`
//! Copy: socketpair.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal)
//!
//! Man pages: socketpair(2), unix(7), shutdown(2).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use anyhow::{Context, Result, bail};

mod errors;
mod fork;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (parent_end, child_end) = UnixStream::pair().context("socketpair")?;
    // `move` gives the child's end to the child alone (see fork.rs).
    let child = fork::fork(move || {
        // A `&UnixStream` reads and writes, so one descriptor serves both ways, no `try_clone`.
        for request in BufReader::new(&child_end).lines() {
            let request = request.context("reading a request")?;
            let n: u64 = request.parse().with_context(|| format!("request {request:?}"))?;
            writeln!(&child_end, "{}", n * n).context("answering")?;
        }
        Ok(()) // EOF: the parent shut down its sending side.
    })?;
    let mut answers = BufReader::new(&parent_end);
    for n in [3u64, 7, 12] {
        let mut answer = String::new();
        let asked = writeln!(&parent_end, "{n}");
        // A failed send (EPIPE) or zero bytes read (EOF) both mean the child is gone: its
        // exit status says why.
        if asked.is_err() || answers.read_line(&mut answer).context("reading an answer")? == 0 {
            fork::wait(child)?;
            bail!("the child ended without answering {n}");
        }
        say!("parent: asked for {n} squared, the child answered {}", answer.trim_end())?;
    }
    // Shutting our writing half down makes the child read EOF and end; our half still reads.
    parent_end.shutdown(std::net::Shutdown::Write).context("shutdown")?;
    fork::wait(child)?;
    say!("parent: shut down my sending side; child exited with 0")?;
    Ok(())
}
