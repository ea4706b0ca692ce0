//! The conditions verify runs an example under, besides the plain run its golden file
//! describes: the situations a user's machine creates and a quiet test machine does not.

use std::fmt;

use crate::runner::{Spec, StdoutMode};
use crate::sandbox::Isolation;

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
}

impl Condition {
    /// The conditions every example is checked under, once each, where `isolation` allows.
    pub fn robustness(isolation: &Isolation) -> Vec<Condition> {
        let mut conditions = vec![Condition::ClosedStdout, Condition::FullStdout];
        if matches!(isolation, Isolation::Namespaces { .. }) {
            conditions.push(Condition::FullShm);
        }
        conditions
    }

    /// Sets up `spec` for this condition.
    pub fn apply(self, spec: &mut Spec) {
        spec.stdout = match self {
            Condition::ClosedStdout => StdoutMode::CloseAfterLines(1),
            Condition::FullStdout => StdoutMode::DevFull,
            Condition::Plain | Condition::FullShm => StdoutMode::Capture,
        };
        spec.full_shm = self == Condition::FullShm;
        spec.stops_early = self != Condition::Plain;
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Condition::Plain => "plain",
            Condition::ClosedStdout => "stdout closed after 1 line",
            Condition::FullStdout => "stdout on /dev/full",
            Condition::FullShm => "/dev/shm full",
        })
    }
}
