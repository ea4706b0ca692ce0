//! Shared memory, waiting by spinning: each side watches the other's counter in the ring (see
//! `shm`) until its condition holds. No system call on the fast path, so this is the lowest
//! latency two processes can get, as long as each has a core of its own.
//!
//! The gotcha is one core: a process spinning there burns the time the other process needs to
//! make progress. So the wait spins a short while (about a microsecond) and then calls
//! `sched_yield`, which hands the core to the other process if it is waiting to run, and costs
//! one cheap system call if it is not.

use std::hint::spin_loop;
use std::io;
use std::sync::atomic::Ordering;
use std::time::Instant;

use nix::sched::sched_yield;

use crate::links::link::{End, PATIENCE, Spec, gave_up};
use crate::links::shm::{Ring, rings};

/// Spins before the first yield. `spin_loop` is the x86 PAUSE instruction: a few to a few dozen
/// nanoseconds depending on the CPU.
const SPINS: u32 = 32;

pub struct SpinEnd {
    tx: Ring,
    rx: Ring,
    sent: u64,
    received: u64,
}

/// Both ends; the parent keeps the first.
pub fn link(spec: Spec) -> crate::Result<(SpinEnd, SpinEnd)> {
    let (down, up) = rings(spec)?;
    Ok((
        SpinEnd { tx: down.clone(), rx: up.clone(), sent: 0, received: 0 },
        SpinEnd { tx: up, rx: down, sent: 0, received: 0 },
    ))
}

/// Returns once `ready()` holds: spins, then yields, and gives up after [`PATIENCE`].
pub fn wait_until(mut ready: impl FnMut() -> bool, what: &str) -> io::Result<()> {
    for _ in 0..SPINS {
        if ready() {
            return Ok(());
        }
        spin_loop();
    }
    let deadline = Instant::now() + PATIENCE;
    loop {
        if ready() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(gave_up(what));
        }
        sched_yield()?;
    }
}

impl End for SpinEnd {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        let n = self.sent;
        let ring = &self.tx;
        // Acquire pairs with the consumer's release of `tail`: its reads of the slot are done.
        wait_until(
            || n - ring.tail().load(Ordering::Acquire) < ring.slots(),
            "was taken from the ring",
        )?;
        // Safety: this process is the ring's only producer, and the slot was released (above).
        unsafe { ring.write(n, msg) };
        // Release: the slot's bytes are visible to whoever sees the new `head`.
        ring.head().store(n + 1, Ordering::Release);
        self.sent = n + 1;
        Ok(())
    }

    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        let n = self.received;
        let ring = &self.rx;
        // Acquire pairs with the producer's release of `head`: the slot's bytes are visible.
        wait_until(|| ring.head().load(Ordering::Acquire) > n, "arrived in the ring")?;
        // Safety: this process is the ring's only consumer, and message `n` is published.
        let result = unsafe { ring.read(n, f) };
        // Release: our reads of the slot happen before the producer may reuse it.
        ring.tail().store(n + 1, Ordering::Release);
        self.received = n + 1;
        Ok(result)
    }
}
