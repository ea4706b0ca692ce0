//! A Python process and a Rust one lock ranges of one file. Python takes bytes 0-99 with
//! `fcntl.lockf`, a classic POSIX record lock; Rust asks for the same bytes with an OFD lock
//! (`F_OFD_SETLK`) and is refused, and locks bytes 100-199 beside them; Python, asked to take
//! bytes 150-249, is refused in turn. The two kinds of record lock exclude each other. The trap
//! is `flock`, std's `File::lock`: it takes the whole file while Python holds its bytes, because
//! on Linux flock and record locks do not see each other. Use record locks on both sides.
//! Python: `fcntl.lockf(f, LOCK_EX | LOCK_NB, length, start)` on one side, Rust's
//! `fcntl(F_OFD_SETLK)` on the other.
//! Run: `cargo run -p with_python -- lockf_and_ofd`
//! Copy: lockf_and_ofd.rs python.rs errors.rs lockf_and_ofd.py
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features fs, signal), tempfile@3

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, fcntl};

mod errors;
mod python;
use errors::say;

/// Whether an OFD lock on `len` bytes from `start` was taken: `false` if another lock holds any.
fn try_lock(file: &File, start: i64, len: i64) -> Result<bool> {
    let (l_type, l_whence) = (libc::F_WRLCK as i16, libc::SEEK_SET as i16);
    let lock = libc::flock { l_type, l_whence, l_start: start, l_len: len, l_pid: 0 };
    match fcntl(file, FcntlArg::F_OFD_SETLK(&lock)) {
        Ok(_) => Ok(true),
        Err(Errno::EAGAIN) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("F_OFD_SETLK on {len} bytes from {start}")),
    }
}

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let shared = tempfile::NamedTempFile::new().context("creating the file")?; // mode 0600
    let path = shared.path().to_str().context("a temporary path that is not UTF-8")?;
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    ours.set_read_timeout(Some(Duration::from_secs(5))).context("SO_RCVTIMEO")?;
    let child = python::start(include_str!("lockf_and_ofd.py"), &[path], theirs)?;
    let (mut lines, mut socket) = (BufReader::new(&ours).lines(), &ours);
    let Some(Ok(locked)) = lines.next() else {
        child.finish()?; // Python's own error says more
        bail!("python3 ended before it locked");
    };
    say!("python: {locked}")?;
    let file = File::options().read(true).write(true).open(path).context("opening the file")?;
    let refused = !try_lock(&file, 0, 100)?;
    say!("rust: an OFD lock on bytes 0-99 is refused: {refused}")?;
    say!("rust: an OFD lock on bytes 100-199 is taken: {}", try_lock(&file, 100, 100)?)?;
    socket.write_all(b"150\n").context("writing to python3")?;
    let answer = lines.next().context("python3 ended without answering")?;
    say!("python: {}", answer.context("reading from python3")?)?;
    let flocked = File::open(path).context("opening the file")?.try_lock().is_ok();
    say!("rust: File::try_lock (flock) on the whole file is taken anyway: {flocked}")?;
    socket.write_all(b"done\n").context("writing to python3")?;
    child.finish()?;
    say!("rust: python3 exited; bytes 0-99 are free: {}", try_lock(&file, 0, 100)?)?;
    Ok(())
}
