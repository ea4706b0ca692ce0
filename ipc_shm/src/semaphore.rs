//! A process-shared semaphore: the parent sleeps until the child's result is ready, without
//! polling, and both keep running; a second one acknowledges. The memory is an anonymous
//! shared mapping, the simplest for a parent and its forked children: no name to clean up.
//! Python: `multiprocessing.Semaphore` with `multiprocessing.Value`.
//!
//! Run: `cargo run -p ipc_shm -- semaphore`
//! Copy: semaphore.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features mman, process, signal, time)
//! Man pages: sem_overview(7), sem_init(3), sem_timedwait(3), mmap(2).

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};
use nix::sys::signal::{Signal, kill};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

mod errors;
mod fork;
use errors::say;

/// The shared layout; `repr(C)` fixes its fields' offsets. Only raw pointers reach it: a
/// `&Handoff` would promise that nobody else writes it while it lives.
#[repr(C)]
struct Handoff {
    ready: libc::sem_t, // posted by the child once `value` is written
    ack: libc::sem_t,   // posted by the parent once it has read `value`
    value: u64,
}

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let size = size_of::<Handoff>().try_into().expect("a Handoff is not 0 bytes");
    let rw = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
    // Safety: a new mapping overlaps no Rust object. It is never unmapped, so every pointer
    // into it below stays valid; its pages start zeroed, a valid value for every field.
    let map = unsafe { mmap_anonymous(None, size, rw, MapFlags::MAP_SHARED) };
    let h = map.context("mmap")?.as_ptr().cast::<Handoff>();
    // Safety: `h` points to a live, aligned Handoff; `&raw mut` makes no reference.
    let (ready, ack, value) =
        unsafe { (&raw mut (*h).ready, &raw mut (*h).ack, &raw mut (*h).value) };
    for sem in [ready, ack] {
        // Safety: no other process can use it yet; pshared = 1: it works wherever it is mapped.
        Errno::result(unsafe { libc::sem_init(sem, 1, 0) }).context("sem_init")?;
    }
    // Safety (each sem_* call below): initialised above, mapped while either process lives.
    let child = fork::fork(|| {
        let result = 6 * 7;
        // Safety: the parent reads `value` only after `ready` is posted.
        unsafe { value.write(result) };
        // Post before anything that can fail: a child that died first would stall the parent.
        Errno::result(unsafe { libc::sem_post(ready) }).context("sem_post")?;
        // No deadline needed here: a parent that dies takes this child with it (fork.rs).
        while Errno::result(unsafe { libc::sem_wait(ack) }) == Err(Errno::EINTR) {}
        say!("child: wrote {result} and posted; the parent acknowledged; now exiting")?;
        Ok(())
    })?;
    // A plain sem_wait would wait for ever for a child that died first: wait with a deadline.
    let now = clock_gettime(ClockId::CLOCK_REALTIME).context("clock_gettime")?;
    let deadline = now + TimeSpec::new(10, 0);
    while let Err(e) = Errno::result(unsafe { libc::sem_timedwait(ready, deadline.as_ref()) }) {
        match e {
            Errno::EINTR => continue,
            Errno::ETIMEDOUT => {
                let _ = kill(child.pid, Signal::SIGKILL); // ends it if stuck; a dead one ignores it
                fork::wait(child)?; // a child that failed says why
                bail!("the child did not post in 10 s");
            }
            e => return Err(e).context("sem_timedwait"),
        }
    }
    // Safety: the child wrote `value` before posting `ready` and never writes it again;
    // sem_post and sem_timedwait order that write before this read.
    let result = unsafe { value.read() };
    say!("parent: woke up on the semaphore, read {result}; the child is still running")?;
    Errno::result(unsafe { libc::sem_post(ack) }).context("sem_post")?;
    fork::wait(child)?;
    // No sem_destroy: it matters only for memory that is used again, and this is not.
    say!("parent: child exited with 0")?;
    Ok(())
}
