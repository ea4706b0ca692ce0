//! Threads adding to one counter under a `Mutex`: the total is exact, and the data can be
//! reached only through the lock. Python: `threading.Lock()` and `with lock: counter += 1`.
//!
//! Run: `cargo run -p lock_demo -- mutex`
//! Copy: mutex.rs errors.rs
//! Needs: anyhow@1

use std::sync::{Arc, Mutex};
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
    let counter = Arc::new(Mutex::new(0u64));
    let mut handles = Vec::new();
    for _ in 0..THREADS {
        let counter = Arc::clone(&counter);
        let handle = thread::Builder::new().spawn(move || {
            for _ in 0..ADDS {
                // `with lock:`. The guard unlocks when it goes out of scope, at the `;`. A
                // lock is poisoned only if a thread panicked holding it, and none can here.
                *counter.lock().expect("no thread panics holding the lock") += 1;
            }
        });
        handles.push(handle.context("spawning a thread")?);
    }
    for handle in handles {
        handle.join().expect("the adding loop cannot panic");
    }
    let total = *counter.lock().expect("no thread panics holding the lock");
    say!("Mutex<u64>: {THREADS} threads x {ADDS} adds = {total}")?;
    Ok(())
}
