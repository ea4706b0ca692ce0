//! A process-shared semaphore. The parent maps shared memory that holds two semaphores and a
//! number, then forks. The child writes the number and posts `ready`; the parent, asleep on
//! `ready` without polling, wakes, reads it and posts `ack`; the child, still running, sees
//! `ack` and exits. Every wait ends after 10 s, so a partner that died cannot hang the other.
//! Python: `multiprocessing.Semaphore` with `multiprocessing.Value`.
//!
//! Run: `cargo run -p ipc_shm -- semaphore`
//! Copy: semaphore.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features mman, process, signal, time)
//! Man pages: sem_overview(7), sem_init(3), sem_timedwait(3), mmap(2).

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

mod errors;
mod fork;
use errors::say;

/// What the two processes share. The semaphores sit in `UnsafeCell`s and the number is atomic,
/// so a shared `&Handoff` is sound while the other process changes them.
#[repr(C)]
struct Handoff {
    ready: UnsafeCell<libc::sem_t>, // posted by the child once `value` is written
    ack: UnsafeCell<libc::sem_t>,   // posted by the parent once it has read `value`
    value: AtomicU64,
}

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let handoff = map_shared()?;
    let child = fork::fork(|| {
        handoff.value.store(6 * 7, Relaxed); // sem_post orders this store before the reader
        post(&handoff.ready)?; // before anything that can fail, or the parent waits in vain
        wait(&handoff.ack).context("waiting for the parent's ack")?;
        say!("child: wrote 42 and posted; the parent acknowledged; now exiting")?;
        Ok(())
    })?;
    wait(&handoff.ready).context("waiting for the child's post")?;
    let result = handoff.value.load(Relaxed);
    say!("parent: woke up on the semaphore, read {result}; the child is still running")?;
    post(&handoff.ack)?;
    fork::wait(child)?;
    say!("parent: child exited with 0")?;
    Ok(())
}

/// Maps zeroed memory that every child forked from now on shares, and never unmaps it;
/// makes both semaphores 0, shared between processes (pshared = 1).
fn map_shared() -> Result<&'static Handoff> {
    let size = size_of::<Handoff>().try_into().expect("a Handoff is not 0 bytes");
    let rw = ProtFlags::PROT_READ | ProtFlags::PROT_WRITE;
    // Safety: a new mapping overlaps no Rust object; it is page-aligned, its zero bytes are a
    // valid Handoff, and it lives as long as the process, as `'static` promises.
    let handoff: &Handoff =
        unsafe { mmap_anonymous(None, size, rw, MapFlags::MAP_SHARED)?.cast().as_ref() };
    for sem in [&handoff.ready, &handoff.ack] {
        // Safety: `sem` is mapped memory that no process uses as a semaphore yet.
        Errno::result(unsafe { libc::sem_init(sem.get(), 1, 0) }).context("sem_init")?;
    }
    Ok(handoff)
}

/// Adds one to `sem` and wakes one process asleep in `wait` on it.
fn post(sem: &UnsafeCell<libc::sem_t>) -> Result<()> {
    // Safety: `map_shared` made `sem` a semaphore, mapped for as long as this process lives.
    Errno::result(unsafe { libc::sem_post(sem.get()) }).map(drop).context("sem_post")
}

/// Sleeps until `sem` is above 0 and takes one; an error if nothing is posted in 10 s.
fn wait(sem: &UnsafeCell<libc::sem_t>) -> Result<()> {
    let now = clock_gettime(ClockId::CLOCK_REALTIME).context("clock_gettime")?;
    let deadline = now + TimeSpec::new(10, 0);
    loop {
        // Safety: as in `post`; sem_timedwait reads `deadline` and keeps no pointer to it.
        match Errno::result(unsafe { libc::sem_timedwait(sem.get(), deadline.as_ref()) }) {
            Err(Errno::EINTR) => continue, // a signal's handler ran; wait on
            Err(Errno::ETIMEDOUT) => bail!("sem_timedwait: nothing posted in 10 s"),
            taken => return taken.map(drop).context("sem_timedwait"),
        }
    }
}
