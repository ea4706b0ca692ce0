//! Processes adding to a number kept in a file, each holding an exclusive `flock` for its
//! read-modify-write: no increment is lost. Python: `fcntl.flock(fd, fcntl.LOCK_EX)` ...
//! `LOCK_UN`, `multiprocessing.Lock()`.
//!
//! Run: `cargo run -p lock_demo -- flock_processes`
//! Copy: flock_processes.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal), tempfile@3
//!
//! Man pages: flock(2) (a lock belongs to the open file description).

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use anyhow::{Context, Result};

mod errors;
mod fork;
use errors::say;

const WORKERS: usize = 4;
const ADDS: usize = 50;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    // A new file (O_EXCL, mode 0600), removed when `lock_file` is dropped. A forked child
    // never drops it: it ends with _exit (fork.rs). After a SIGKILL the file stays, holding
    // no lock: a lock ends with the last descriptor of its file description.
    let lock_file = tempfile::Builder::new().prefix("lock_demo-").tempfile();
    let lock_file = lock_file.context("creating the lock file")?;
    // The count is 8 bytes at offset 0, read and written with pread/pwrite: no shared offset.
    let file = lock_file.as_file();
    file.write_all_at(&0u64.to_le_bytes(), 0).context("writing the count")?;
    let mut children = Vec::new();
    for _ in 0..WORKERS {
        children.push(fork::fork(|| add(lock_file.path()))?);
    }
    // The count is right only if every worker finished its increments.
    for child in children {
        fork::wait(child)?;
    }
    let mut count = [0; 8];
    file.read_exact_at(&mut count, 0).context("reading the count")?;
    let total = u64::from_le_bytes(count);
    say!("{WORKERS} processes x {ADDS} locked increments: the file holds {total}")?;
    Ok(())
}

/// One worker's increments.
fn add(path: &Path) -> Result<()> {
    // Each process opens the file itself. A descriptor inherited from the parent shares one
    // lock with every process that inherited it: no exclusion at all (inherited_lock.rs).
    let file = File::options().read(true).write(true).open(path);
    let file = file.with_context(|| format!("opening {}", path.display()))?;
    for _ in 0..ADDS {
        // Blocks while another open file description holds the lock.
        file.lock().context("flock")?;
        let mut count = [0; 8];
        file.read_exact_at(&mut count, 0).context("reading the count")?;
        let next = u64::from_le_bytes(count) + 1;
        file.write_all_at(&next.to_le_bytes(), 0).context("writing the count")?;
        file.unlock().context("unlocking")?;
    }
    Ok(())
}
