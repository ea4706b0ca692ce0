//! One Unix-domain stream socketpair: a single descriptor per process carries both directions.
//! Like a pipe it is a byte stream, so a message is "exactly `size` bytes".

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

use crate::links::link::{End, Spec};

pub struct SocketEnd {
    stream: UnixStream,
    buf: Vec<u8>,
}

/// Both ends; the parent keeps the first. `UnixStream::pair` is socketpair(AF_UNIX,
/// SOCK_STREAM). When the other process exits, its socket closes and a read sees end of file.
pub fn link(spec: Spec) -> io::Result<(SocketEnd, SocketEnd)> {
    let (a, b) = UnixStream::pair()?;
    Ok((
        SocketEnd { stream: a, buf: vec![0; spec.size] },
        SocketEnd { stream: b, buf: vec![0; spec.size] },
    ))
}

impl SocketEnd {
    /// An end on a connected stream, for messages of `size` bytes (the Unix socket by path too).
    pub fn new(stream: UnixStream, size: usize) -> SocketEnd {
        SocketEnd { stream, buf: vec![0; size] }
    }
}

impl End for SocketEnd {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        self.stream.write_all(msg)
    }

    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        self.stream.read_exact(&mut self.buf)?;
        Ok(f(&self.buf))
    }
}
