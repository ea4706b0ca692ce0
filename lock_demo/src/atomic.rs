//! Threads adding to one counter through an atomic, with no lock at all: the total is exact.
//! An atomic suits one number or flag changed in one step; a `Mutex` suits anything updated
//! in several steps. Python: no atomics; `threading.Lock` around `counter += 1`.
//!
//! Run: `cargo run -p lock_demo -- atomic`
//! Copy: atomic.rs errors.rs
//! Needs: anyhow@1

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use anyhow::{Context, Result};

mod errors;
use errors::say;

const THREADS: u64 = 4;
const ADDS: u64 = 100_000;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let counter = AtomicU64::new(0);
    // Scoped threads may borrow `counter`: the scope joins them all before it returns (and
    // panics if one of them did), so no `Arc` is needed.
    thread::scope(|scope| -> Result<()> {
        for _ in 0..THREADS {
            thread::Builder::new()
                .spawn_scoped(scope, || {
                    for _ in 0..ADDS {
                        // Relaxed is enough: each add is indivisible, and orders nothing else.
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .context("spawning a thread")?;
        }
        Ok(())
    })?;
    let total = counter.load(Ordering::Relaxed);
    say!("AtomicU64: {THREADS} threads x {ADDS} adds = {total}")?;
    say!("use an atomic for a lone counter, a Mutex for anything updated in several steps")?;
    Ok(())
}
