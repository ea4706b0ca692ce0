//! A POSIX shared-memory object for a parent and the children it forks: created under a
//! unique name, its name removed at once, its memory reserved, mapped shared.

use anyhow::{Context, Result};
use memmap2::MmapMut;
use nix::fcntl::{OFlag, posix_fallocate};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;

/// Creates an object of `size` bytes and maps it; returns the mapping and the name it had.
///
/// Not `MmapMut::map_anon`: memmap2 maps anonymous memory MAP_PRIVATE, so after `fork` each
/// process writes its own copy. A mapped descriptor (`map_mut`) is MAP_SHARED.
pub fn create(size: usize) -> Result<(MmapMut, String)> {
    static CREATED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // O_EXCL: never share an object that someone else made (or planted) under our name.
    let name = format!("/{}-{}-{n}", env!("CARGO_PKG_NAME"), std::process::id());
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let fd = shm_open(name.as_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR)
        .with_context(|| format!("shm_open {name}"))?;
    // The descriptor keeps the object alive; without its name, even a SIGKILL from here on
    // leaves nothing in /dev/shm.
    shm_unlink(name.as_str()).with_context(|| format!("shm_unlink {name}"))?;
    // Reserve every page now. `ftruncate` alone succeeds on a full /dev/shm, and the first
    // write to a page that cannot be had then kills the writer with SIGBUS.
    posix_fallocate(&fd, 0, size.try_into()?).with_context(|| {
        format!("posix_fallocate {name}, {size} bytes (ENOSPC: /dev/shm is full)")
    })?;
    // Safety: a mapping of a file turns into SIGBUS if another process shrinks the file.
    // Nobody can: the object was made here (O_EXCL), its name is gone, and only this process
    // and its children hold it, none of which truncates it.
    let map = unsafe { MmapMut::map_mut(&std::fs::File::from(fd)) }.context("mmap")?;
    Ok((map, name))
}
