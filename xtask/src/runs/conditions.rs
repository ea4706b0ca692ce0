//! The conditions verify runs an example under, besides the plain run its golden file
//! describes: the situations a user's machine creates and a quiet test machine does not.

use std::fmt;

use std::time::Duration;

use nix::sched::CpuSet;
use nix::sys::signal::Signal;

use crate::sandbox::launcher::{Isolation, Limits};
use crate::sandbox::runner::{Poke, Spec, StdoutMode};

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
    /// SIGTERM to the program at a moment of the run that changes from run to run, as `kill`
    /// sends it: the program must stop in time, leave nothing, and say at most one line.
    Sigterm,
    /// SIGINT to the run's whole process group at such a moment, as Ctrl-C at a terminal.
    GroupSigint,
}

/// The examples whose recipes exist to survive a signal from outside: only they are sent one.
const SIGNALLED_EXAMPLES: [&str; 1] = ["signals"];

/// When a signal condition's run `run` gets its signal, the same for the same run number every
/// time: three runs in four within the first 40 ms, where these recipes start, work and stop,
/// and the fourth within the next 1.2 s, where the slower ones wait.
pub fn signal_delay(run: u32) -> Duration {
    let spread = u64::from(run).wrapping_mul(2_654_435_761) >> 7;
    let ms = if run.is_multiple_of(4) { 40 + spread % 1200 } else { spread % 40 };
    Duration::from_millis(ms)
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

    /// The conditions that send a signal from outside, for the examples made to survive one.
    pub fn signals() -> Vec<Condition> {
        vec![Condition::Sigterm, Condition::GroupSigint]
    }

    /// Whether the recipes of `package` are run under this condition.
    pub fn applies_to(self, package: &str) -> bool {
        !Condition::signals().contains(&self) || SIGNALLED_EXAMPLES.contains(&package)
    }

    /// The signal this condition sends, with its target.
    pub fn signal(self) -> Option<Poke> {
        match self {
            Condition::Sigterm => Some(Poke::Program(Signal::SIGTERM)),
            Condition::GroupSigint => Some(Poke::Group(Signal::SIGINT)),
            _ => None,
        }
    }

    /// Whether the output must match the golden file, as in a plain run.
    pub fn judged_as_plain(self) -> bool {
        matches!(self, Condition::Plain | Condition::OneCpu | Condition::Busy)
    }

    /// Sets up `spec` for this condition. [`Condition::Busy`] also needs [`crate::sandbox::spin`]
    /// running while the run goes on.
    pub fn apply(self, spec: &mut Spec, run: u32) {
        spec.poke = self.signal().map(|poke| (poke, signal_delay(run)));
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
        // A signalled run may end before its children: they follow it by a moment.
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
            Condition::Sigterm => "SIGTERM at a moment of the run",
            Condition::GroupSigint => "SIGINT to the group at a moment of the run",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_go_to_the_signal_recipes_at_moments_spread_over_their_runs() {
        assert!(Condition::Sigterm.applies_to("signals"));
        assert!(!Condition::GroupSigint.applies_to("ipc_shm"));
        assert!(Condition::Plain.applies_to("ipc_shm"));
        let delays: Vec<Duration> = (1..=40).map(signal_delay).collect();
        assert_eq!(delays, (1..=40).map(signal_delay).collect::<Vec<_>>(), "the same every time");
        let early = delays.iter().filter(|d| **d < Duration::from_millis(40)).count();
        assert_eq!(early, 30, "three in four within the first 40 ms");
        assert!(delays.iter().all(|d| *d < Duration::from_millis(1240)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 25, "{distinct:?}");
    }
}
