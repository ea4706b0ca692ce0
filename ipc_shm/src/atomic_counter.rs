//! Parent and child add to one counter in shared memory at the same time, through an atomic:
//! the total is exact. Python: `multiprocessing.Value('Q', 0)` with its lock.
//!
//! Run: `cargo run -p ipc_shm -- atomic_counter`
//! Copy: atomic_counter.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features mman, process, signal)

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};

mod errors;
mod fork;
use errors::say;

const ADDS: u64 = 100_000;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let counter = map_shared()?;
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
    Ok(say!("parent: child exited with 0; each process added 1 {ADDS} times; counter = {total}")?)
}

/// Maps an 8-byte counter, at 0, that every child forked from now on shares. The mapping is
/// anonymous and shared, as `multiprocessing.Value` maps it: no name, nothing to clean up.
fn map_shared() -> Result<&'static AtomicU64> {
    let size = std::num::NonZeroUsize::new(size_of::<AtomicU64>()).expect("8 bytes");
    let rw = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
    // Safety: a new mapping overlaps no Rust object, and it is never unmapped.
    let map = unsafe { mmap_anonymous(None, size, rw, MapFlags::MAP_SHARED) }.context("mmap")?;
    // Safety: the mapping is page-aligned, zeroed (a valid AtomicU64) and lives as long as the
    // process, as `'static` says; every process reaches it through atomic operations alone.
    Ok(unsafe { AtomicU64::from_ptr(map.as_ptr().cast()) })
}
