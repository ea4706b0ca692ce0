//! Parent and child add to one counter in shared memory at the same time, through an atomic:
//! the total is exact. Python: `multiprocessing.Value('Q', 0)` with its lock.
//!
//! Run: `cargo run -p ipc_shm -- atomic_counter`
//! Copy: atomic_counter.rs shm.rs fork.rs errors.rs
//! Needs: anyhow, libc, memmap2, nix (features fs, mman, process, signal)

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
    let (mut map, _name) = shm::create(size_of::<AtomicU64>())?;
    // Safety: `from_ptr` needs an aligned pointer, valid for as long as the reference lives,
    // and accessed only atomically meanwhile. The mapping starts on a page boundary and holds
    // 8 bytes; it lives until the end of `run`, like `counter`; and both processes reach the
    // bytes through `counter` alone (zero bytes are a valid AtomicU64).
    let counter = unsafe { AtomicU64::from_ptr(map.as_mut_ptr().cast()) };
    // Across processes this works because Linux maps both processes' pages onto the same
    // memory and x86_64's lock-free atomic instructions act on that memory. Rust's memory
    // model speaks only of threads, so this rests on the platform (C++ calls such atomics
    // address-free), not on a language guarantee.
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
    say!("parent: child exited with 0; each process added 1 {ADDS} times; counter = {total}")?;
    Ok(())
}
