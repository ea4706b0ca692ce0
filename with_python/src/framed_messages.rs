//! Framed messages both ways between a Rust parent and a Python child, in the framing of
//! Python's `multiprocessing.connection.Connection`: a 4-byte big-endian signed length, then
//! the bytes (`send_bytes`/`recv_bytes`). `send(obj)` is the same frame around a pickle, so a
//! Rust peer should stay with bytes. Python: `multiprocessing.Pipe()`, which is this socketpair.
//! Run: `cargo run -p with_python -- framed_messages`
//! Copy: framed_messages.rs python.rs errors.rs framed_child.py
//! Needs: anyhow@1, nix@0.31 (features signal)

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

use anyhow::{Context, Result, bail};

mod errors;
mod python;
use errors::say;

/// Largest frame accepted: a length read from a confused peer must not allocate gigabytes.
const MAX_FRAME: usize = 1 << 20;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn send(mut socket: &UnixStream, message: &[u8]) -> io::Result<()> {
    let length = i32::try_from(message.len()).map_err(io::Error::other)?;
    let frame = [&length.to_be_bytes()[..], message].concat();
    socket.write_all(&frame) // One write: a frame is never split between two writers.
}

/// The next frame, or `None` at end of file (the peer closed or died).
fn receive(mut socket: &UnixStream) -> Result<Option<Vec<u8>>> {
    let mut length = [0u8; 4];
    match socket.read_exact(&mut length) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other.context("reading a frame's length")?,
    }
    // -1 announces an 8-byte length (messages over 2 GiB), far above MAX_FRAME here.
    let length = usize::try_from(i32::from_be_bytes(length)).unwrap_or(usize::MAX);
    if length > MAX_FRAME {
        bail!("python3 sent a frame longer than {MAX_FRAME} bytes");
    }
    let mut message = vec![0u8; length];
    socket.read_exact(&mut message).context("reading a frame")?;
    Ok(Some(message))
}

fn run() -> Result<()> {
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    ours.set_read_timeout(Some(std::time::Duration::from_secs(5))).context("SO_RCVTIMEO")?;
    let child = python::start(include_str!("framed_child.py"), &[], theirs)?;
    say!("rust: started python3 with one end of a socketpair as its stdin")?;
    for message in [&b"hello from Rust"[..], &[b'x'; 100_000], b"pickle, please"] {
        send(&ours, message).context("sending to python3")?;
        let Some(answer) = receive(&ours)? else {
            child.finish()?; // Its error, if it had one, says more than ours.
            bail!("python3 closed the socket without answering");
        };
        match answer[..] {
            // A pickle starts with PROTO (0x80) and its protocol's number.
            [0x80, protocol, ..] => say!(
                "python: sent {} bytes of pickle (protocol {protocol}), opaque to Rust",
                answer.len()
            )?,
            _ => say!("python: {}", String::from_utf8_lossy(&answer))?,
        }
    }
    // Shutting our writing half down makes Python's recv_bytes raise EOFError, and it ends.
    ours.shutdown(std::net::Shutdown::Write).context("shutdown")?;
    child.finish()?;
    Ok(say!("rust: shut down my sending side; python3 saw EOF and exited with 0")?)
}
