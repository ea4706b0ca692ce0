//! Processes adding to a number kept in a file, each holding an exclusive `flock` for its
//! read-modify-write: no increment is lost. Python: `fcntl.flock(fd, fcntl.LOCK_EX)` ...
//! `LOCK_UN`, `multiprocessing.Lock()`.
//!
//! Run: `cargo run -p lock_demo -- flock_processes`
//! Copy: flock_processes.rs fork.rs errors.rs
//! Needs: anyhow, libc, nix (features process, signal), tempfile
//!
//! Man pages: flock(2) (a lock belongs to the open file description).

use std::fs::{self, File};
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
    let lock_file = tempfile::Builder::new()
        .prefix("lock_demo-")
        .tempfile()
        .context("creating the lock file")?;
    let path = lock_file.path();
    fs::write(path, "0\n").with_context(|| format!("writing {}", path.display()))?;
    let mut children = Vec::new();
    for _ in 0..WORKERS {
        children.push(fork::fork(|| add(path))?);
    }
    // The file's number counts only if every worker finished its increments.
    for child in children {
        fork::wait(child)?;
    }
    let total = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    say!(
        "{WORKERS} processes x {ADDS} locked increments: the file holds {}",
        total.trim()
    )?;
    Ok(())
}

/// One worker's increments.
fn add(path: &Path) -> Result<()> {
    // Each process opens the file itself. A descriptor inherited from the parent shares one
    // lock with every process that inherited it: no exclusion at all (inherited_lock.rs).
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    for _ in 0..ADDS {
        // Blocks while another open file description holds the lock.
        file.lock()
            .with_context(|| format!("flock {}", path.display()))?;
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let n: u64 = text
            .trim()
            .parse()
            .with_context(|| format!("not a number: {text:?}"))?;
        fs::write(path, format!("{}\n", n + 1))
            .with_context(|| format!("writing {}", path.display()))?;
        file.unlock()
            .with_context(|| format!("unlocking {}", path.display()))?;
    }
    Ok(())
}
