//! What every mechanism provides: a link between two processes that carries whole messages of
//! one fixed size in both directions.
//!
//! Each mechanism module (`pipe`, `socketpair`, `mqueue`, `shm_spin`, `shm_sem`) has a
//! `link(spec)` that creates both ends in one process. The parent then forks; each process keeps
//! one end and drops the other. The measurement code in `measure` is generic over [`End`], so it
//! is compiled once per mechanism with no dynamic dispatch in the timed loops.

use std::io;
use std::time::Duration;

use crate::{mqueue, pipe, shm_sem, shm_spin, socketpair};

/// One process's end of a link.
pub trait End {
    /// Sends one whole message of the link's size, waiting for room if the link is full.
    fn send(&mut self, msg: &[u8]) -> io::Result<()>;

    /// Waits for one whole message and hands it to `f` while it is valid; returns what `f`
    /// returns. Shared memory lends its slot (no copy); the others read into a buffer.
    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R>;
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

/// How long one wait may last before we give up on the other process: far longer than any
/// message takes, short enough that a child that died is reported rather than waited for.
/// Pipes and sockets notice a dead peer at once (end of file); queues and shared memory cannot.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Pipe,
    Socketpair,
    Mqueue,
    ShmSpin,
    ShmSem,
}

impl Mechanism {
    pub const ALL: [Mechanism; 5] = [
        Mechanism::Pipe,
        Mechanism::Socketpair,
        Mechanism::Mqueue,
        Mechanism::ShmSpin,
        Mechanism::ShmSem,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Pipe => "pipe",
            Mechanism::Socketpair => "socketpair",
            Mechanism::Mqueue => "POSIX mqueue",
            Mechanism::ShmSpin => "shm + spin",
            Mechanism::ShmSem => "shm + semaphore",
        }
    }

    /// The name `--only` takes.
    pub fn id(self) -> &'static str {
        match self {
            Mechanism::Pipe => "pipe",
            Mechanism::Socketpair => "socketpair",
            Mechanism::Mqueue => "mqueue",
            Mechanism::ShmSpin => "shm-spin",
            Mechanism::ShmSem => "shm-sem",
        }
    }

    /// One line on how the mechanism is used here, for the report.
    pub fn how(self) -> &'static str {
        match self {
            Mechanism::Pipe => "two pipes (one per direction), write_all / read_exact",
            Mechanism::Socketpair => "one Unix stream socketpair, write_all / read_exact",
            Mechanism::Mqueue => "two queues, mq_send / mq_timedreceive, one message per call",
            Mechanism::ShmSpin => {
                "a ring per direction in shm_open memory; waits spin on an atomic, then yield"
            }
            Mechanism::ShmSem => "the same rings; waits block on process-shared semaphores (futex)",
        }
    }

    /// The largest message the mechanism can carry here, if it has a limit.
    pub fn max_size(self) -> Option<usize> {
        match self {
            Mechanism::Mqueue => Some(mqueue::max_msgsize()),
            _ => None,
        }
    }
}

/// Something to do with a link, whatever its mechanism: the generic half of the dispatch.
pub trait Experiment {
    type Output;
    fn run<E: End>(self, parent: E, child: E) -> crate::Result<Self::Output>;
}

/// Creates a link of `mechanism` and runs `experiment` on it.
pub fn with_link<X: Experiment>(
    mechanism: Mechanism,
    spec: Spec,
    experiment: X,
) -> crate::Result<X::Output> {
    match mechanism {
        Mechanism::Pipe => {
            let (parent, child) = pipe::link(spec)?;
            experiment.run(parent, child)
        }
        Mechanism::Socketpair => {
            let (parent, child) = socketpair::link(spec)?;
            experiment.run(parent, child)
        }
        Mechanism::Mqueue => {
            let (parent, child) = mqueue::link(spec)?;
            experiment.run(parent, child)
        }
        Mechanism::ShmSpin => {
            let (parent, child) = shm_spin::link(spec)?;
            experiment.run(parent, child)
        }
        Mechanism::ShmSem => {
            let (parent, child) = shm_sem::link(spec)?;
            experiment.run(parent, child)
        }
    }
}
