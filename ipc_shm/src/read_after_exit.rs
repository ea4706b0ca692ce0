//! Shared memory between a parent and its forked child: the child writes three
//! length-prefixed messages into slots that fit them, and the parent reads them only after
//! `waitpid` says the child exited cleanly. Python: `mmap.mmap(-1, size)` + `os.fork()`,
//! `multiprocessing.shared_memory.SharedMemory`.
//!
//! Run: `cargo run -p ipc_shm -- read_after_exit`
//! Copy: read_after_exit.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features mman, process, signal)
//! Man pages: shm_overview(7), shm_open(3), mmap(2).

use anyhow::{Context, Result, ensure};
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};

mod errors;
mod fork;
use errors::say;

/// Each slot holds one message: a byte that says its length, then its bytes.
const SLOT: usize = 64;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let map = map_shared(3 * SLOT)?;
    say!("parent: mapped {} bytes, shared and anonymous: no name to remove", map.len())?;
    // The closure borrows the mapping, `&mut`, and that is sound across processes here only
    // because the parent touches none of its bytes until the child has exited.
    let child = fork::fork(|| {
        for (i, slot) in map.chunks_exact_mut(SLOT).enumerate() {
            let msg = format!("Message {} from the child", i + 1);
            ensure!(msg.len() < SLOT, "{msg:?} is too long for a slot");
            slot[0] = msg.len() as u8; // less than SLOT, so less than 256
            slot[1..1 + msg.len()].copy_from_slice(msg.as_bytes());
            say!("child: wrote {msg:?} into slot {i}")?;
        }
        Ok(())
    })?;
    // After waitpid the child's writes are all done and visible; and only after a clean exit
    // are they whole: a child that failed or was killed may have left half a message.
    fork::wait(child)?;
    say!("parent: child exited with 0")?;
    for (i, slot) in map.chunks_exact(SLOT).enumerate() {
        let text = &slot[1..1 + usize::from(slot[0])]; // the child checked the length
        let text = std::str::from_utf8(text).with_context(|| format!("slot {i} is not UTF-8"))?;
        say!("parent: slot {i}: {text:?}")?;
    }
    Ok(())
}

/// Maps `size` zeroed bytes that every child forked from now on shares. The mapping is
/// anonymous and shared, as Python's `mmap.mmap(-1, size)`: no name, nothing to clean up.
fn map_shared(size: usize) -> Result<&'static mut [u8]> {
    let length = std::num::NonZeroUsize::new(size).context("mapping 0 bytes")?;
    let rw = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
    // Safety: a new mapping overlaps no Rust object, and it is never unmapped.
    let start =
        unsafe { mmap_anonymous(None, length, rw, MapFlags::MAP_SHARED) }.context("mmap")?;
    // Safety: the mapping is `size` bytes, zeroed and never unmapped, and this is the one
    // slice over it; `run` lets one process at a time use it.
    Ok(unsafe { std::slice::from_raw_parts_mut(start.as_ptr().cast::<u8>(), size) })
}
