//! Two pipes, one per direction: the parent writes to the child on one and reads the replies
//! from the other. A pipe is a byte stream, so a message is "exactly `size` bytes": `write_all`
//! on one side, `read_exact` on the other (see ipc_pipe for framing messages of varying size).

use std::io::{self, PipeReader, PipeWriter, Read, Write};

use crate::links::link::{End, Spec};

pub struct PipeEnd {
    tx: PipeWriter,
    rx: PipeReader,
    buf: Vec<u8>,
}

/// Both ends; the parent keeps the first. `std::io::pipe` (Rust 1.87) gives owned, close-on-exec
/// descriptors. Each process must drop the other end after `fork`: a reader sees end of file
/// only once every copy of the pipe's write end is closed, and that is how the parent notices a
/// child that died.
pub fn link(spec: Spec) -> io::Result<(PipeEnd, PipeEnd)> {
    let (down_rx, down_tx) = io::pipe()?;
    let (up_rx, up_tx) = io::pipe()?;
    Ok((
        PipeEnd { tx: down_tx, rx: up_rx, buf: vec![0; spec.size] },
        PipeEnd { tx: up_tx, rx: down_rx, buf: vec![0; spec.size] },
    ))
}

impl End for PipeEnd {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        // Above PIPE_BUF (4096) bytes a write may be split; with one writer per pipe that only
        // means more wake-ups, never interleaving.
        self.tx.write_all(msg)
    }

    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        self.rx.read_exact(&mut self.buf)?;
        Ok(f(&self.buf))
    }
}
