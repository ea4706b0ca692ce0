//! Results come back through `JoinHandle::join`: no shared variable, no lock. Python:
//! `concurrent.futures`' `future.result()`, or a list the threads append to under a lock.
//!
//! Run: `cargo run -p thread_basic -- join_results`
//! Copy: join_results.rs errors.rs
//! Needs: anyhow@1

use std::thread;

use anyhow::{Context, Result};

mod errors;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let limits = [1000u64, 2000, 3000, 4000, 5000];
    let handles = limits
        .iter()
        .map(|&n| {
            thread::Builder::new()
                .name(format!("sum-{n}"))
                .spawn(move || (1..=n).sum::<u64>())
                .with_context(|| format!("spawning thread sum-{n}"))
        })
        .collect::<Result<Vec<_>>>()?;
    // Joining in spawn order gives the results in spawn order, whichever thread finished first.
    for (n, handle) in limits.iter().zip(handles) {
        let sum = handle.join().expect("a summing thread panicked");
        say!("main: sum of 1..={n} is {sum}")?;
    }
    Ok(())
}
