//! Contention: while the parent holds a file's lock, a child's `try_lock` fails at once with
//! "would block" instead of waiting; once the parent unlocks, it succeeds. Python:
//! `fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)` raising `BlockingIOError`.
//!
//! Run: `cargo run -p lock_demo -- try_lock`
//! Copy: try_lock.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal), tempfile@3

use std::fs::{File, TryLockError};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use anyhow::{Context, Result, bail};

mod errors;
mod fork;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    // Removed when dropped; see flock_processes.rs.
    let lock_file = tempfile::Builder::new().prefix("lock_demo-").tempfile();
    let lock_file = lock_file.context("creating the lock file")?;
    let (path, holder) = (lock_file.path(), lock_file.as_file());
    holder.lock().context("flock")?;
    say!("parent: holding the exclusive lock")?;
    // One byte each way says "tried" and "released"; nothing but the lock is timed by sleeps.
    let (mut parent_end, mut child_end) = UnixStream::pair().context("socketpair")?;
    let child = fork::fork(move || {
        // The child opens the file itself, since an inherited descriptor shares the parent's lock.
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Err(TryLockError::WouldBlock) => say!("child: try_lock failed: would block")?,
            Ok(()) => bail!("try_lock on a locked file succeeded, where it was due to fail"),
            Err(e) => return Err(e).context("try_lock on a locked file"),
        }
        child_end.write_all(b"t").context("telling the parent")?;
        // A parent that dies takes this child with it (fork.rs), so this read cannot hang.
        child_end.read_exact(&mut [0]).context("waiting for the parent")?;
        file.try_lock().context("try_lock after the parent unlocked")?;
        say!("child: try_lock succeeded after the parent unlocked")?;
        Ok(())
    })?;
    // EOF instead of the child's byte means it ended early: its exit status says why.
    if parent_end.read_exact(&mut [0]).is_err() {
        let pid = child.pid;
        fork::wait(child)?;
        bail!("child {pid} exited without trying the lock");
    }
    holder.unlock().context("unlocking")?;
    say!("parent: released the lock")?;
    parent_end.write_all(b"r").context("telling the child")?;
    fork::wait(child)?;
    say!("parent: child exited with 0")?;
    Ok(())
}
