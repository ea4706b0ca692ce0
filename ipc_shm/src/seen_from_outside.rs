//! What the kernel shows of a shared mapping: its name gone from /dev/shm right after
//! `shm_open`, the mapping still listed as shared in /proc/self/maps, and still shared with a
//! child forked after the unlink. Python: `SharedMemory(create=True)`, `shm.unlink()`. Man
//! pages: shm_overview(7), proc_pid_maps(5).
//!
//! Run: `cargo run -p ipc_shm -- seen_from_outside`
//! Copy: seen_from_outside.rs shm.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, memmap2@0.9, nix@0.31 (features fs, mman, process, signal)

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

mod errors;
mod fork;
mod shm;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (mut map, name) = shm::create("seen_from_outside", 4096)?;
    say!("size: the mapping is {} bytes", map.len())?;
    let path = Path::new("/dev/shm").join(name.trim_start_matches('/'));
    let state = match path.exists() {
        true => "still exists",
        false => "is gone (unlinked right after shm_open)",
    };
    say!("name: {} {state}", path.display())?;
    // The mapping is listed with `s` (shared) in its permissions, and the old name marked
    // "(deleted)": the memory outlives its name.
    let maps = std::fs::read_to_string("/proc/self/maps").context("reading /proc/self/maps")?;
    let found = maps.lines().find(|l| l.contains(&name));
    let line = found.context("no line for the mapping in /proc/self/maps")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let file = fields.get(5..).map(|f| f.join(" ")).unwrap_or_default();
    let perms = fields.get(1).unwrap_or(&"?");
    say!("maps: permissions {perms} (s = shared), file {file}")?;
    // Safety: as in atomic_counter.rs: aligned, 4096 bytes, alive until the end of `run`,
    // and reached by both processes through `cell` alone.
    let cell = unsafe { AtomicU64::from_ptr(map.as_mut_ptr().cast()) };
    let child = fork::fork(|| {
        cell.store(42, Ordering::Relaxed);
        Ok(())
    })?;
    fork::wait(child)?;
    let seen = cell.load(Ordering::Relaxed);
    say!("shared: the child stored 42 after the unlink; the parent reads {seen}")?;
    Ok(())
}
