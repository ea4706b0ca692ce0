//! Shared memory, waiting on process-shared semaphores: the rings of `shm`, with `items`
//! counting published messages and `spaces` counting free slots (the classic bounded buffer).
//!
//! glibc's semaphores are a futex: `sem_post` and a `sem_wait` that finds the count above zero
//! are one atomic instruction each, with no system call; only a wait that must sleep, and the
//! post that wakes it, enter the kernel. `sem_post` and `sem_wait` are full barriers, so they
//! also order the slot's bytes between the processes.
//!
//! A wait spins briefly before it sleeps when the peer runs on another CPU ([`SPIN_TRIES`]), and
//! has no deadline, so it costs what a plain `sem_wait` costs: a parent whose child died is
//! woken by the child's death instead (`watch`), and a child dies with its parent.

use std::io;

use nix::errno::Errno;

use crate::links::link::{End, Spec, Wake};
use crate::links::shm::{Ring, rings};
use crate::links::watch;
use crate::sys;

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
        SemEnd { tx: down.clone(), rx: up.clone(), sent: 0, received: 0 },
        SemEnd { tx: up, rx: down, sent: 0, received: 0 },
    ))
}

/// `sem_trywait`s before a wait may sleep, where the peer can post meanwhile (on another CPU).
/// About 3 µs here: shorter than a sleep and its wake-up (a futex wait, then a post that must
/// enter the kernel to wake it, about 5 µs each way on this machine), so a wait that ends
/// within it costs neither side a system call. On one CPU the peer cannot post while we spin:
/// there it is skipped. Measured, alternated in one run: see the README ("The semaphore's wait").
const SPIN_TRIES: u32 = 200;

/// Decrements `sem`, spinning briefly and then sleeping while it is zero, with no deadline.
fn wait(sem: *mut libc::sem_t, what: &str) -> io::Result<()> {
    // `sem_trywait`, not `sem_wait`, while spinning: glibc's `sem_trywait` retries its atomic
    // update until it succeeds or finds the count at zero, while `sem_wait` tries once and, if
    // the other process touched the word at that moment, registers as a waiter, which makes
    // the next `sem_post` a futex system call.
    let tries = if sys::peer_may_run_meanwhile() { SPIN_TRIES } else { 1 };
    for _ in 0..tries {
        // Safety: `sem` is an initialised semaphore in a mapping the caller's ring keeps alive.
        match Errno::result(unsafe { libc::sem_trywait(sem) }) {
            Ok(_) => return checked(what),
            Err(Errno::EAGAIN | Errno::EINTR) => std::hint::spin_loop(),
            Err(error) => return Err(error.into()),
        }
    }
    loop {
        // Safety: as above.
        match Errno::result(unsafe { libc::sem_wait(sem) }) {
            Ok(_) => return checked(what),
            // A signal (SIGCHLD, a stop and continue) interrupts the wait: wait again.
            Err(Errno::EINTR) => continue,
            Err(error) => return Err(error.into()),
        }
    }
}

/// After a wait: the child's death posts the semaphore too, and then the slot holds nothing.
#[inline]
fn checked(what: &str) -> io::Result<()> {
    if watch::child_ended() {
        return Err(watch::child_gone(what));
    }
    Ok(())
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

    fn wake(&self) -> Wake {
        Wake::Semaphores(self.rx.items(), self.tx.spaces())
    }
}
