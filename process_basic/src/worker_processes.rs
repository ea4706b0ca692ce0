//! Five worker processes, each handed its index by being a copy of the parent; the parent
//! reaps every one before it reports. Python: `multiprocessing.Process(target=worker,
//! args=(i,))`, `.start()`, `.join()`.
//!
//! Run: `cargo run -p process_basic -- worker_processes`
//! Copy: worker_processes.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal)

use anyhow::Result;
use nix::unistd::{getpid, getppid};

mod errors;
mod fork;
use errors::say;

const WORKERS: usize = 5;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let mut children = Vec::new();
    for index in 0..WORKERS {
        // `fork` copies every variable: that is how `args=(i,)` reaches a forked worker.
        let child = fork::fork(|| {
            say!("worker {index}: pid {}, parent {}", getpid(), getppid())?;
            Ok(())
        })?;
        children.push(child);
    }
    // The workers run at once and print in any order. Reaping them all before printing keeps
    // the parent's lines after theirs.
    let mut reaped = Vec::new();
    for child in children {
        reaped.push(child.pid);
        fork::wait(child)?;
    }
    for (index, pid) in reaped.iter().enumerate() {
        say!("parent: worker {index} (pid {pid}) exited with 0")?;
    }
    Ok(())
}
