//! Parent and child add to one counter in shared memory at the same time, through an atomic:
//! the total is exact. Python: `multiprocessing.Value('Q', 0)` with its lock.
//!
//! Run: `cargo run -p ipc_shm -- atomic_counter`
//! Copy: atomic_counter.rs shm.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, memmap2@0.9, nix@0.31 (features fs, mman, process, signal)

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;

mod errors;
mod fork;
mod shm;
use errors::say;

const ADDS: u64 = 100_000;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (mut map, _name) = shm::create("atomic_counter", size_of::<AtomicU64>())?;
    // Safety: the mapping is page-aligned, 8 zero bytes (a valid AtomicU64), lives as long as
    // `counter`, and both processes reach it through `counter` alone, atomically.
    let counter = unsafe { AtomicU64::from_ptr(map.as_mut_ptr().cast()) };
    // Rust's memory model speaks of threads only: across processes this rests on the platform.
    // Both processes' pages are the same memory, and x86_64's lock-free atomic instructions
    // act on memory (C++ calls such atomics address-free).
    let child = fork::fork(|| {
        for _ in 0..ADDS {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    })?;
    for _ in 0..ADDS {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    fork::wait(child)?;
    let total = counter.load(Ordering::Relaxed);
    Ok(say!(
        "parent: child exited with 0; each process added 1 {ADDS} times; counter = {total}"
    )?)
}
