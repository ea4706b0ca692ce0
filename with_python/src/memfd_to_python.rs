//! Shared memory handed from Rust to Python with no name anywhere: Rust writes a message into
//! a memfd, seals it against shrinking and growing, and sends its descriptor over a socketpair
//! (SCM_RIGHTS, with one byte of data) to a Python child, which receives it with
//! `socket.recv_fds`, maps it with `mmap`, reads the message, fails to shrink it (the seal),
//! and says so. Nothing is left in /dev/shm whatever happens: the memory ends with its last
//! descriptor. Python: `socket.recv_fds` (3.9+), `mmap.mmap(fd, 0)`, `os.ftruncate`.
//! Run: `cargo run -p with_python -- memfd_to_python`
//! Copy: memfd_to_python.rs python.rs errors.rs memfd_to_python.py
//! Needs: anyhow@1, nix@0.31 (features fs, signal, socket, uio)

use std::fs::File;
use std::io::{BufRead, BufReader, IoSlice, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{Context, Result};
use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};

mod errors;
mod python;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let flags = MFdFlags::MFD_ALLOW_SEALING | MFdFlags::MFD_CLOEXEC;
    let mut memfd = File::from(memfd_create(c"message", flags).context("memfd_create")?);
    memfd.set_len(4096).context("sizing the memfd")?;
    memfd.write_all(b"hello from Rust, through a sealed memfd").context("writing the memfd")?;
    let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL;
    fcntl(&memfd, FcntlArg::F_ADD_SEALS(seals)).context("F_ADD_SEALS")?;
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    ours.set_read_timeout(Some(Duration::from_secs(5))).context("SO_RCVTIMEO")?;
    let child = python::start(include_str!("memfd_to_python.py"), &[], theirs)?;
    say!("rust: sealed a memfd of 4096 bytes; sending its descriptor to python3")?;
    let rights = [ControlMessage::ScmRights(&[memfd.as_raw_fd()])];
    sendmsg::<()>(ours.as_raw_fd(), &[IoSlice::new(b"x")], &rights, MsgFlags::empty(), None)
        .context("sendmsg SCM_RIGHTS")?;
    let mut answer = String::new();
    if BufReader::new(&ours).read_line(&mut answer).context("reading from python3")? == 0 {
        child.finish()?; // Python's own error says more
        anyhow::bail!("python3 ended without answering");
    }
    child.finish()?;
    Ok(say!("python: {}", answer.trim_end())?)
}
