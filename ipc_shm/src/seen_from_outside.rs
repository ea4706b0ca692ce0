//! What the kernel shows of a shared mapping: its name gone from /dev/shm right after
//! `shm_open`, the mapping still listed as shared in /proc/self/maps, and still shared with a
//! child forked after the unlink. Python: `SharedMemory(create=True)`, `shm.unlink()`. Man
//! pages: shm_overview(7), proc_pid_maps(5).
//!
//! Run: `cargo run -p ipc_shm -- seen_from_outside`
//! Copy: seen_from_outside.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, memmap2@0.9, nix@0.31 (features fs, mman, process, signal)

use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use memmap2::MmapMut;
use nix::fcntl::{OFlag, posix_fallocate};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;

mod errors;
mod fork;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    // O_EXCL makes shm_open fail rather than open an object someone made (or planted) first.
    let name = format!("/seen_from_outside-{}", std::process::id());
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let fd = shm_open(name.as_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR)
        .with_context(|| format!("shm_open {name}"))?;
    // The descriptor keeps the object alive: without its name, even a SIGKILL leaks nothing.
    shm_unlink(name.as_str()).with_context(|| format!("shm_unlink {name}"))?;
    // `ftruncate` alone succeeds on a full /dev/shm, and the first write to a page that cannot
    // be had kills the writer with SIGBUS; reserving every page now fails with ENOSPC instead.
    posix_fallocate(&fd, 0, 4096).with_context(|| {
        format!("posix_fallocate {name}, 4096 bytes (ENOSPC: /dev/shm is full)")
    })?;
    let map = map(fd)?;
    say!("size: the mapping is {} bytes", map.len())?;
    let path = Path::new("/dev/shm").join(name.trim_start_matches('/'));
    let state = ["is gone (unlinked right after shm_open)", "still exists"][path.exists() as usize];
    say!("name: {} {state}", path.display())?;
    // The mapping is listed with `s` (shared) in its permissions, and the old name marked
    // "(deleted)": the memory outlives its name.
    let maps = std::fs::read_to_string("/proc/self/maps").context("reading /proc/self/maps")?;
    let line = maps.lines().find(|l| l.contains(&name));
    let fields: Vec<&str> =
        line.context("no mapping in /proc/self/maps")?.split_whitespace().collect();
    let (perms, file) = (fields[1], fields[5..].join(" ")); // address perms offset dev inode path
    say!("maps: permissions {perms} (s = shared), file {file}")?;
    let cell = counter(&map);
    let child = fork::fork(|| {
        cell.store(42, Ordering::Relaxed);
        Ok(())
    })?;
    fork::wait(child)?;
    let seen = cell.load(Ordering::Relaxed);
    Ok(say!("shared: the child stored 42 after the unlink; the parent reads {seen}")?)
}

/// Maps the whole object, shared: what one process writes, every mapping sees.
fn map(object: OwnedFd) -> Result<MmapMut> {
    // Safety: a mapped file turns into SIGBUS if it shrinks. Nobody shrinks this one: it was
    // made here (O_EXCL), its name is gone, and only this process and its child hold it.
    unsafe { MmapMut::map_mut(&std::fs::File::from(object)) }.context("mmap")
}

/// The counter at the start of the mapping.
fn counter(map: &MmapMut) -> &AtomicU64 {
    // Safety: the mapping starts on a page boundary and is 4096 bytes long, so the pointer is
    // aligned for a u64; the reference lives no longer than the mapping; and every process
    // reaches these bytes through an atomic alone (zero bytes are a valid AtomicU64).
    unsafe { AtomicU64::from_ptr(map.as_ptr().cast_mut().cast()) }
}
