//! What every mechanism provides: a link between two processes that carries whole messages of
//! one fixed size in both directions.
//!
//! Each mechanism module (`pipe`, `socketpair`, `mqueue`, `shm_spin`, `shm_sem`) has a
//! `link(spec)` that creates both ends in one process; `mechanism` lists them and dispatches.
//! The parent then forks; each process keeps one end and drops the other. The measurement code
//! in `measure` is generic over [`End`], so it is compiled once per mechanism with no dynamic
//! dispatch in the timed loops. This module depends on no mechanism.

use std::io;
use std::time::Duration;

pub use crate::links::watch::Wake;

/// One process's end of a link.
pub trait End {
    /// Sends one whole message of the link's size, waiting for room if the link is full.
    fn send(&mut self, msg: &[u8]) -> io::Result<()>;

    /// Waits for one whole message and hands it to `f` while it is valid; returns what `f`
    /// returns. Shared memory lends its slot (no copy); the others read into a buffer.
    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R>;

    /// What the child's death must wake for this end's waits to notice it (see `watch`).
    fn wake(&self) -> Wake {
        Wake::Nothing
    }
}

/// What a link must carry.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Every message has exactly this many bytes.
    pub size: usize,
    /// Messages that may be in flight in one direction, where the mechanism lets us choose:
    /// the shared-memory ring's slots and the queue's `mq_maxmsg` (capped by the system).
    /// Pipes and sockets have kernel buffers instead (64 KiB and about 200 KiB by default).
    pub slots: usize,
}

/// How long a spinning wait may last before it gives up on the other process: far longer than
/// any message takes, short enough that a child that died is reported rather than waited for.
/// Blocking waits have no deadline: pipes and sockets see end of file, and the child's death
/// wakes a semaphore or a queue (`watch`).
pub const PATIENCE: Duration = Duration::from_secs(10);

pub fn gave_up(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "nothing {what} for {} s: the other process has stopped or died",
            PATIENCE.as_secs()
        ),
    )
}

/// Something to do with a link, whatever its mechanism: the generic half of the dispatch.
pub trait Experiment {
    type Output;
    fn run<E: End>(self, parent: E, child: E) -> crate::Result<Self::Output>;
}
