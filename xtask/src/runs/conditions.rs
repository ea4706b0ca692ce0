//! The conditions verify runs an example under, besides the plain run its golden file
//! describes: the situations a user's machine creates and a quiet test machine does not.

use std::fmt;

use nix::sched::CpuSet;

use crate::sandbox::launcher::{Isolation, Limits};
use crate::sandbox::runner::{Spec, StdoutMode};

/// File descriptors allowed under [`Condition::FewDescriptors`], by run: the first run gets
/// stdin, stdout, stderr and two; with `--stress`, every limit from 4 to 12, where a program
/// may fail at each step of its setup, and must still leave nothing behind.
const FEW_DESCRIPTORS: [u64; 9] = [5, 4, 6, 7, 8, 9, 10, 11, 12];

/// The runs of [`Condition::FewDescriptors`] that try each limit once.
pub fn every_descriptor_limit() -> Vec<u32> {
    (1..=FEW_DESCRIPTORS.len() as u32).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Condition {
    /// As the golden file describes it.
    Plain,
    /// stdout closed after one line, as by `| head -1`: the example must end quietly, with
    /// exit status 0 and nothing on stderr.
    ClosedStdout,
    /// stdout on `/dev/full`, like a full disk: the example must fail with one line on stderr.
    FullStdout,
    /// No room left in /dev/shm (a full container's): the example must pass as usual or fail
    /// with one line on stderr, never die of a signal such as SIGBUS.
    FullShm,
    /// Only a few file descriptors (`ulimit -n 5`, or 4 to 12 by run): pass, or fail with one
    /// line naming the call.
    FewDescriptors,
    /// POSIX queues limited to 2 messages (msg_max, in the run's namespace): pass, or fail with
    /// one line naming the limit.
    SmallQueues,
    /// Pinned to one CPU: threads and processes take turns instead of running side by side.
    /// Judged like a plain run.
    OneCpu,
    /// Every CPU kept busy by a spinning process: the example competes for its time slices.
    /// Judged like a plain run.
    Busy,
}

impl Condition {
    /// The conditions every example is checked under, once each, where `isolation` allows.
    pub fn robustness(isolation: &Isolation) -> Vec<Condition> {
        let mut conditions =
            vec![Condition::ClosedStdout, Condition::FullStdout, Condition::FewDescriptors];
        match isolation {
            Isolation::Namespaces { user: false, .. } => {
                conditions.extend([Condition::FullShm, Condition::SmallQueues])
            }
            Isolation::Namespaces { user: true, .. } => conditions.push(Condition::FullShm),
            Isolation::Shared { .. } => {}
        }
        conditions
    }

    /// The conditions that change the scheduling (`verify --stress`, and bless's runs).
    pub fn stress() -> Vec<Condition> {
        vec![Condition::OneCpu, Condition::Busy]
    }

    /// Whether the output must match the golden file, as in a plain run.
    pub fn judged_as_plain(self) -> bool {
        matches!(self, Condition::Plain | Condition::OneCpu | Condition::Busy)
    }

    /// Sets up `spec` for this condition. [`Condition::Busy`] also needs [`crate::sandbox::spin`]
    /// running while the run goes on.
    pub fn apply(self, spec: &mut Spec, run: u32) {
        spec.stdout = match self {
            Condition::ClosedStdout => StdoutMode::CloseAfterLines(1),
            Condition::FullStdout => StdoutMode::DevFull,
            _ => StdoutMode::Capture,
        };
        spec.limits = Limits {
            full_shm: self == Condition::FullShm,
            nofile: (self == Condition::FewDescriptors)
                .then(|| FEW_DESCRIPTORS[(run.max(1) as usize - 1) % FEW_DESCRIPTORS.len()]),
            msg_max: (self == Condition::SmallQueues).then_some(2),
        };
        spec.stops_early = !self.judged_as_plain();
        spec.cpu = (self == Condition::OneCpu).then(first_cpu);
    }
}

/// The first CPU this process may run on (CPU 0 is not always one of them).
fn first_cpu() -> usize {
    nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .ok()
        .and_then(|set| (0..CpuSet::count()).find(|&cpu| set.is_set(cpu).unwrap_or(false)))
        .unwrap_or(0)
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Condition::Plain => "plain",
            Condition::ClosedStdout => "stdout closed after 1 line",
            Condition::FullStdout => "stdout on /dev/full",
            Condition::FullShm => "/dev/shm full",
            Condition::FewDescriptors => "ulimit -n 5 (and 4 to 12 with --stress)",
            Condition::SmallQueues => "queues of at most 2 messages",
            Condition::OneCpu => "pinned to one CPU",
            Condition::Busy => "every CPU busy",
        })
    }
}
