//! The trap: a lock belongs to the open file description, and a descriptor inherited over
//! `fork` shares it. The child "takes" the parent's held lock, and its unlock releases the
//! parent's. Python: the same with `fcntl.flock` on a file object opened before `os.fork()`.
//!
//! Run: `cargo run -p lock_demo -- inherited_lock`
//! Copy: inherited_lock.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal), tempfile@3
//!
//! Man pages: flock(2), open(2) (what an open file description is).

use std::fs::{File, TryLockError};

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
    let (path, inherited) = (lock_file.path(), lock_file.as_file());
    inherited.lock().context("flock")?;
    say!("parent: holding the exclusive lock")?;
    let child = fork::fork(|| {
        // One open file description, so flock sees one owner: this "succeeds" while the
        // parent believes it holds the lock alone.
        inherited.try_lock().context("try_lock on the inherited descriptor")?;
        say!("child: try_lock on the inherited descriptor succeeded")?;
        let own = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        match own.try_lock() {
            Err(TryLockError::WouldBlock) => {
                say!("child: on a descriptor it opened itself: would block")?
            }
            Ok(()) => bail!("try_lock on a fresh descriptor succeeded, where it was due to fail"),
            Err(e) => return Err(e).context("try_lock on a fresh descriptor"),
        }
        inherited.unlock().context("unlocking")?;
        say!("child: unlocked the inherited descriptor")?;
        Ok(())
    })?;
    fork::wait(child)?;
    say!("parent: child exited with 0")?;
    let fresh = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    match fresh.try_lock() {
        Ok(()) => {
            say!("parent: a fresh descriptor locks the file: the child's unlock released my lock")?
        }
        Err(e) => say!("parent: a fresh descriptor cannot lock the file: {e}")?,
    }
    say!("so: every process that competes for a lock must open the file itself")?;
    Ok(())
}
