//! A POSIX shared-memory object for a parent and the children it forks: created under a
//! unique name, its name removed at once, its memory reserved, mapped shared.

use anyhow::{Context, Result};
use memmap2::MmapMut;
use nix::fcntl::{OFlag, posix_fallocate};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;

/// Creates an object of `size` bytes named after `program`, and maps it shared (memmap2's
/// `map_anon` is MAP_PRIVATE: after `fork`, each process would write its own copy).
pub fn create(program: &str, size: usize) -> Result<(MmapMut, String)> {
    static CREATED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // O_EXCL: never share an object that someone else made (or planted) under our name.
    let name = format!("/{program}-{}-{n}", std::process::id());
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let fd = shm_open(name.as_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR)
        .with_context(|| format!("shm_open {name}"))?;
    // The descriptor keeps the object alive: without its name, even a SIGKILL leaks nothing.
    shm_unlink(name.as_str()).with_context(|| format!("shm_unlink {name}"))?;
    // `ftruncate` alone succeeds on a full /dev/shm, and the first write to a page that cannot
    // be had kills the writer with SIGBUS; reserving every page now fails with ENOSPC instead.
    let len = size
        .try_into()
        .context("the size of a shared-memory object")?;
    posix_fallocate(&fd, 0, len).with_context(|| {
        format!("posix_fallocate {name}, {size} bytes (ENOSPC: /dev/shm is full)")
    })?;
    // Safety: a mapped file turns into SIGBUS if it shrinks. Nobody shrinks it: it was made
    // here (O_EXCL), its name is gone, and only this process and its children hold it.
    let map = unsafe { MmapMut::map_mut(&std::fs::File::from(fd)) }.context("mmap")?;
    Ok((map, name))
}
