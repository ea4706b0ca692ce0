//! Byte-range locks that behave: open-file-description (OFD) locks, `F_OFD_SETLK`. Such a lock
//! belongs to the open file it was taken through, so two opens of one file exclude each other
//! by range, in one process or in two: writers A and B lock bytes 0-99 and 100-199 at once, and
//! C, asking for 50-149, is refused until A closes its file. The classic POSIX locks that
//! Python's `fcntl.lockf` takes belong to the process instead: they never exclude the process's
//! own opens, and closing *any* descriptor of the file drops them, as happens below when the
//! file is opened and closed again, the way a library might behind your back. An OFD lock
//! survives that. And on Linux, `flock` (std's `File::lock`) and these locks ignore each other.
//!
//! Each check opens the file anew and asks (`F_OFD_GETLK`) whether it could lock the range,
//! which is exactly what another process would find. Two real processes, one of them Python:
//! `with_python/src/lockf_and_ofd.rs`. std has only whole-file `flock`; nix makes the calls.
//!
//! Python: `fcntl.lockf(f, LOCK_EX | LOCK_NB, length, start)`, `fcntl.fcntl(f, F_OFD_SETLK, ..)`.
//! Man pages: fcntl(2) ("Open file description locks"). Run: `cargo run -p lock_demo --
//! record_locks`
//! Copy: record_locks.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features fs), tempfile@3

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, fcntl};

mod errors;
use errors::say;

/// An exclusive lock on `len` bytes from `start`, as fcntl takes it.
fn range(start: i64, len: i64) -> libc::flock {
    let (l_type, l_whence) = (libc::F_WRLCK as i16, libc::SEEK_SET as i16);
    libc::flock { l_type, l_whence, l_start: start, l_len: len, l_pid: 0 }
}

/// Locks the range through `file` if no other lock holds any of it; `false` if one does.
fn try_lock(file: &File, start: i64, len: i64) -> Result<bool> {
    match fcntl(file, FcntlArg::F_OFD_SETLK(&range(start, len))) {
        Ok(_) => Ok(true),
        Err(Errno::EAGAIN) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("F_OFD_SETLK on {len} bytes from {start}")),
    }
}

/// Whether another open of `path`, in this process or any other, could lock the range now.
fn free(path: &Path, start: i64, len: i64) -> Result<bool> {
    let probe = open(path)?;
    let mut lock = range(start, len);
    fcntl(&probe, FcntlArg::F_OFD_GETLK(&mut lock)).context("F_OFD_GETLK")?;
    Ok(lock.l_type == libc::F_UNLCK as i16) // else `lock` now describes the lock in the way
}

fn open(path: &Path) -> Result<File> {
    let opened = File::options().read(true).write(true).open(path);
    opened.with_context(|| format!("opening {}", path.display()))
}

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let file = tempfile::NamedTempFile::new().context("creating the file")?; // mode 0600
    let path = file.path();
    let (a, b, c) = (open(path)?, open(path)?, open(path)?);
    ensure!(try_lock(&a, 0, 100)? && try_lock(&b, 100, 100)?, "A or B was refused");
    say!("A and B: locked bytes 0-99 and 100-199, at the same time")?;
    ensure!(!try_lock(&c, 50, 100)?, "C locked bytes that A and B hold");
    say!("C: refused bytes 50-149, which overlap both (EAGAIN)")?;
    drop(a); // closing A's open file ends A's lock
    ensure!(try_lock(&c, 50, 50)?, "C was refused bytes that nobody holds");
    say!("C: A closed its file; C locked bytes 50-99")?;

    let classic = open(path)?;
    let lock = range(200, 100);
    fcntl(&classic, FcntlArg::F_SETLK(&lock)).context("F_SETLK on bytes 200-299")?;
    say!("classic POSIX lock on bytes 200-299: free for others: {}", free(path, 200, 100)?)?;
    drop(open(path)?); // any descriptor of the file, opened and closed
    say!("the file opened and closed again: free for others: {}", free(path, 200, 100)?)?;
    let ofd = open(path)?;
    ensure!(try_lock(&ofd, 200, 100)?, "the OFD lock on bytes 200-299 was refused");
    drop(open(path)?);
    say!("OFD lock on the same bytes, the same open and close: free: {}", free(path, 200, 100)?)?;

    let whole = open(path)?;
    whole.lock().context("flock on the whole file")?;
    say!("flock on the whole file; bytes 300-399 free for OFD locks: {}", free(path, 300, 100)?)?;
    Ok(())
}
