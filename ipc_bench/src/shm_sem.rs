//! Shared memory, waiting on process-shared semaphores: the rings of `shm`, with `items`
//! counting published messages and `spaces` counting free slots (the classic bounded buffer).
//!
//! glibc's semaphores are a futex: `sem_post` and a `sem_wait` that finds the count above zero
//! are one atomic instruction each, with no system call; only a wait that must sleep, and the
//! post that wakes it, enter the kernel. `sem_post` and `sem_wait` are full barriers, so they
//! also order the slot's bytes between the processes.

use std::io;

use nix::errno::Errno;
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

use crate::link::{End, PATIENCE, Spec, gave_up};
use crate::shm::{Ring, rings};

pub struct SemEnd {
    tx: Ring,
    rx: Ring,
    sent: u64,
    received: u64,
}

/// Both ends; the parent keeps the first.
///
/// The semaphores are never `sem_destroy`ed: a process may destroy one only when nobody can be
/// waiting on it, and on Linux it frees nothing; the memory goes with the mapping.
pub fn link(spec: Spec) -> crate::Result<(SemEnd, SemEnd)> {
    let (down, up) = rings(spec)?;
    Ok((
        SemEnd {
            tx: down.clone(),
            rx: up.clone(),
            sent: 0,
            received: 0,
        },
        SemEnd {
            tx: up,
            rx: down,
            sent: 0,
            received: 0,
        },
    ))
}

/// Decrements `sem`, sleeping while it is zero, for at most [`PATIENCE`].
fn wait(sem: *mut libc::sem_t, what: &str) -> io::Result<()> {
    // The fast path: the count is above zero. Trying first keeps the clock read that the
    // deadline needs off this path.
    // Safety: `sem` is an initialised semaphore in a mapping the caller's ring keeps alive.
    match Errno::result(unsafe { libc::sem_trywait(sem) }) {
        Ok(_) => return Ok(()),
        Err(Errno::EAGAIN | Errno::EINTR) => {}
        Err(error) => return Err(error.into()),
    }
    let deadline = clock_gettime(ClockId::CLOCK_REALTIME)? + TimeSpec::from_duration(PATIENCE);
    loop {
        // Safety: as above; `deadline` is a valid timespec that outlives the call.
        match Errno::result(unsafe { libc::sem_timedwait(sem, deadline.as_ref()) }) {
            Ok(_) => return Ok(()),
            // A stop and continue (Ctrl-Z, fg) interrupts the wait; the deadline stays.
            Err(Errno::EINTR) => continue,
            Err(Errno::ETIMEDOUT) => return Err(gave_up(what)),
            Err(error) => return Err(error.into()),
        }
    }
}

fn post(sem: *mut libc::sem_t) -> io::Result<()> {
    // Safety: as in `wait`.
    Errno::result(unsafe { libc::sem_post(sem) })?;
    Ok(())
}

impl End for SemEnd {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        wait(self.tx.spaces(), "was taken from the ring")?;
        // Safety: this process is the ring's only producer, and `spaces` said a slot is free:
        // the consumer posted it after its last read of that slot.
        unsafe { self.tx.write(self.sent, msg) };
        self.sent += 1;
        post(self.tx.items())
    }

    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        wait(self.rx.items(), "arrived in the ring")?;
        // Safety: this process is the ring's only consumer, and `items` said the message is
        // published: the producer posted it after writing the slot.
        let result = unsafe { self.rx.read(self.received, f) };
        self.received += 1;
        post(self.rx.spaces())?;
        Ok(result)
    }
}
