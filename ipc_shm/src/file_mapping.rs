//! One file mapped by several processes. The parent creates a file (mode 0600) and reserves
//! its pages with `posix_fallocate`, so that a full disk is an ENOSPC now, not a SIGBUS at the
//! first write. Three children each map the file themselves, MAP_SHARED, and add 1 to a
//! counter at its start 10,000 times, through an atomic: their additions meet in the file's
//! pages. Once all three are reaped, the parent maps it too, reads 30,000, flushes the mapping
//! to the file with msync (what makes it durable), and reads the same number back with read().
//!
//! The traps: a process that truncates the file turns the others' next access beyond the new
//! end into SIGBUS, so map only a file nobody else can shrink; and a `&[u8]` or `&mut [u8]`
//! over bytes another process may write is undefined behaviour in Rust, so go through atomics,
//! or read only after the writers have ended.
//!
//! Python: `mmap.mmap(f.fileno(), n)` in several processes, `mm.flush()`. Man pages: mmap(2),
//! msync(2), posix_fallocate(3). Run: `cargo run -p ipc_shm -- file_mapping`
//! Copy: file_mapping.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, memmap2@0.9, nix@0.31 (features fs, process, signal), tempfile@3

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use memmap2::MmapMut;
use nix::fcntl::posix_fallocate;

mod errors;
mod fork;
use errors::say;

const CHILDREN: u64 = 3;
const ADDS: u64 = 10_000;

/// Maps the whole file at `path`, shared: what one process writes, every mapping sees.
fn map(path: &Path) -> Result<MmapMut> {
    let file = File::options().read(true).write(true).open(path);
    let file = file.with_context(|| format!("opening {}", path.display()))?;
    // Safety: the file was created by this program and no process of it shrinks it, so no
    // access to the mapping can fall beyond the file's end (a SIGBUS).
    unsafe { MmapMut::map_mut(&file) }.with_context(|| format!("mmap {}", path.display()))
}

/// The counter at the start of the mapping.
fn counter(map: &MmapMut) -> &AtomicU64 {
    // Safety: the mapping starts on a page boundary and is 4096 bytes long, so the pointer is
    // aligned for a u64; the reference lives no longer than the mapping; and every process
    // reaches these bytes through an atomic alone (zero bytes are a valid AtomicU64).
    unsafe { AtomicU64::from_ptr(map.as_ptr().cast_mut().cast()) }
}

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let file = tempfile::NamedTempFile::new().context("creating the file")?;
    posix_fallocate(file.as_file(), 0, 4096).context("posix_fallocate 4096 bytes")?;
    let mut children = Vec::new();
    for _ in 0..CHILDREN {
        children.push(fork::fork(|| {
            let map = map(file.path())?;
            for _ in 0..ADDS {
                counter(&map).fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })?);
    }
    for child in children {
        fork::wait(child)?; // every child's additions are in before the count is read
    }
    let map = map(file.path())?;
    let total = counter(&map).load(Ordering::Relaxed);
    say!("{CHILDREN} processes mapped the file and added 1 {ADDS} times each: {total}")?;
    map.flush().context("msync")?;
    let mut bytes = [0; 8];
    file.as_file().read_exact_at(&mut bytes, 0).context("reading the file")?;
    say!("after msync, read() finds {} in the file itself", u64::from_ne_bytes(bytes))?;
    Ok(())
}
