//! Shared memory between a parent and its forked child: the child writes three
//! length-prefixed messages into slots that fit them, and the parent reads them only after
//! `waitpid` says the child exited cleanly. Python: `mmap.mmap(-1, size)` + `os.fork()`,
//! `multiprocessing.shared_memory.SharedMemory`.
//!
//! Run: `cargo run -p ipc_shm -- read_after_exit`
//! Copy: read_after_exit.rs shm.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, memmap2@0.9, nix@0.31 (features fs, mman, process, signal)
//! Man pages: shm_overview(7), shm_open(3), mmap(2).

use anyhow::{Context, Result, ensure};

mod errors;
mod fork;
mod shm;
use errors::say;

const SLOT: usize = 64;
/// Each slot starts with its message's length, a little-endian u32.
const LEN: usize = size_of::<u32>();

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (mut map, name) = shm::create("read_after_exit", 3 * SLOT)?;
    say!("parent: created and unlinked {name}, {} bytes", map.len())?;
    // The closure borrows the mapping, `&mut`, and that is sound across processes here only
    // because the parent touches none of its bytes until the child has exited.
    let child = fork::fork(|| {
        for (i, slot) in map.chunks_exact_mut(SLOT).enumerate() {
            let msg = format!("Message {} from the child", i + 1);
            ensure!(LEN + msg.len() <= SLOT, "{msg:?} is too long for a slot");
            slot[..LEN].copy_from_slice(&u32::try_from(msg.len())?.to_le_bytes());
            slot[LEN..LEN + msg.len()].copy_from_slice(msg.as_bytes());
            say!("child: wrote {msg:?} into slot {i}")?;
        }
        Ok(())
    })?;
    // After waitpid the child's writes are all done and visible; and only after a clean exit
    // are they whole: a child that failed or was killed may have left half a message.
    fork::wait(child)?;
    say!("parent: child exited with 0")?;
    for (i, slot) in map.chunks_exact(SLOT).enumerate() {
        let len = u32::from_le_bytes(slot[..LEN].try_into()?) as usize;
        let text = slot.get(LEN..LEN + len).context("bad length")?;
        say!("parent: slot {i}: {:?}", std::str::from_utf8(text)?)?;
    }
    Ok(())
}
