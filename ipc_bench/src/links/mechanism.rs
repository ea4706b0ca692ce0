//! The mechanisms measured, and the dispatch from a mechanism to its link: the one module that
//! knows them all. Each mechanism module depends only on `link`.

use crate::links::link::{Experiment, Spec};
use crate::links::{mqueue, pipe, shm_sem, shm_spin, socketpair, unix_path};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Pipe,
    Socketpair,
    UnixPath,
    Mqueue,
    ShmSpin,
    ShmSem,
}

impl Mechanism {
    pub const ALL: [Mechanism; 6] = [
        Mechanism::Pipe,
        Mechanism::Socketpair,
        Mechanism::UnixPath,
        Mechanism::Mqueue,
        Mechanism::ShmSpin,
        Mechanism::ShmSem,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Pipe => "pipe",
            Mechanism::Socketpair => "socketpair",
            Mechanism::UnixPath => "Unix socket by path",
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
            Mechanism::UnixPath => "unix-path",
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
            Mechanism::UnixPath => "a Unix stream socket bound to a path, connected, accepted",
            Mechanism::Mqueue => "two queues, mq_send / mq_receive, one message per call",
            Mechanism::ShmSpin => {
                "a ring per direction in shm_open memory; waits spin on an atomic, then yield"
            }
            Mechanism::ShmSem => "the same rings; waits block on process-shared semaphores (futex)",
        }
    }

    /// Why the mechanism cannot carry messages of `size` bytes here, if it cannot.
    pub fn cannot_carry(self, size: usize) -> Option<String> {
        match self {
            Mechanism::Mqueue if size > mqueue::max_msgsize() => {
                Some(format!("too big for a queue (msgsize_max {})", mqueue::max_msgsize()))
            }
            _ => None,
        }
    }
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
        Mechanism::UnixPath => {
            let (parent, child) = unix_path::link(spec)?;
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
