//! What can be wrong with one run: a typed value per problem, with the words for the report in
//! its `Display`. Verify groups runs that failed the same way by comparing these values.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::golden::view::{MAX_REPORT_LINES, head};
use crate::project::workspace::shown;
use crate::sandbox::capture::{KEEP, size};
use crate::sandbox::leftovers::Leftover;
use crate::sandbox::procs::signal_name;
use crate::sandbox::runner::{Ending, KILL_GRACE};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The run ended wrongly for its condition; `rule` says what was required, when it is not
    /// simply "exit with 0".
    Ending {
        ending: Ending,
        timeout: Duration,
        rule: Option<&'static str>,
    },
    /// The output pipes stayed open after every process verify could find was killed.
    OutputHeldOpen,
    /// More than [`KEEP`] bytes came on `stream`; the rest was dropped.
    Runaway {
        stream: &'static str,
        printed: u64,
    },
    NotUtf8 {
        stream: &'static str,
        offset: usize,
    },
    /// Output where none was expected (no golden file for the stream).
    NotEmpty {
        stream: &'static str,
        golden: PathBuf,
        text: String,
    },
    /// The output does not match the golden file; `explanation` is the matcher's reason and a
    /// diff.
    Mismatch {
        stream: &'static str,
        golden: PathBuf,
        explanation: String,
    },
    GaveUp {
        stream: &'static str,
        golden: PathBuf,
    },
    /// stderr was not empty where the run had to stop quietly.
    NotQuiet {
        text: String,
    },
    /// stderr did not hold exactly one line where the run had to fail with one.
    NotOneLine {
        rule: &'static str,
        text: String,
    },
    /// The one line is not a message a user can read (`Error: Os { code: .. }`).
    NotDisplayed {
        name: String,
        text: String,
    },
    /// The one line reports a process of the run (a Python child, say) killed by a signal
    /// that a careful program never gets: SIGBUS from shared memory it did not reserve.
    ChildDied {
        text: String,
    },
    LeftBehind(Vec<Leftover>),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Ending { ending, timeout, rule } => {
                f.write_str(&describe_ending(ending, *timeout))?;
                match rule {
                    Some(rule) => write!(f, "; {rule}"),
                    None => Ok(()),
                }
            }
            Problem::OutputHeldOpen => write!(
                f,
                "the output pipe stayed open for {} s after every process of the run that verify \
                 could find was killed; verify stopped reading",
                KILL_GRACE.as_secs()
            ),
            Problem::Runaway { stream, printed } => write!(
                f,
                "{stream}: {} printed; verify kept the first {} and dropped the rest",
                size(*printed),
                size(KEEP as u64)
            ),
            Problem::NotUtf8 { stream, offset } => write!(
                f,
                "{stream} is not UTF-8 (invalid byte at offset {offset}); golden files are text"
            ),
            Problem::NotEmpty { stream, golden, text } => write!(
                f,
                "{stream} is not empty (add {} if this output is intended):\n{}",
                shown(golden),
                indent(&head(text, MAX_REPORT_LINES))
            ),
            Problem::Mismatch { stream, golden, explanation } => {
                write!(f, "{stream} does not match {}:\n{}", shown(golden), indent(explanation))
            }
            Problem::GaveUp { stream, golden } => write!(
                f,
                "{stream}: the matcher gave up on {} (too many ways to place its placeholders); \
                 use fewer named placeholders inside blocks",
                shown(golden)
            ),
            Problem::NotQuiet { text } => write!(
                f,
                "stderr is not empty; with its stdout closed, an example must stop quietly:\n{}",
                indent(&head(text, MAX_REPORT_LINES))
            ),
            Problem::NotOneLine { rule, text } => write!(
                f,
                "stderr has {} lines; {rule} with one line saying what went wrong:\n{}",
                text.lines().count(),
                indent(&head(text, MAX_REPORT_LINES))
            ),
            Problem::NotDisplayed { name, text } => write!(
                f,
                "stderr `{text}` is not a message: write errors as `{name}: what failed: why`, \
                 with `Display` (a `Debug` print such as `Error: Os {{ code: 24, .. }}` tells a \
                 user nothing)"
            ),
            Problem::ChildDied { text } => write!(
                f,
                "stderr `{text}` reports a process that died of a signal instead of failing: \
                 reserve shared memory with posix_fallocate (ftruncate alone makes a full \
                 /dev/shm a SIGBUS), and check what may fail"
            ),
            Problem::LeftBehind(leftovers) => {
                let list: Vec<String> = leftovers.iter().map(describe_leftover).collect();
                write!(f, "left behind:\n  {}", list.join("\n  "))
            }
        }
    }
}

fn describe_ending(ending: &Ending, timeout: Duration) -> String {
    match ending {
        Ending::Exited(code) => format!("exit status: exited with {code}"),
        Ending::Signaled(signal) => format!("exit status: killed by {}", signal_name(*signal)),
        Ending::TimedOut { main_exited: None } => {
            format!("timed out after {}: every process of the run was killed", seconds(timeout))
        }
        Ending::TimedOut { main_exited: Some(how) } => format!(
            "timed out after {}: the main process had {how}, but its output pipe was still held \
             open by a process it started; every process of the run was killed",
            seconds(timeout)
        ),
        Ending::NotRun(why) => format!("verify could not run it: {why}"),
    }
}

pub fn describe_leftover(leftover: &Leftover) -> String {
    match leftover {
        Leftover::Process(what) => {
            format!("process {what} was still running (verify killed it)")
        }
        Leftover::Unreaped(what) => {
            format!("child {what} exited but was never reaped with wait")
        }
        Leftover::TmpFile(name) => format!("file `{name}` in TMPDIR"),
        Leftover::WorkFile(name) => format!("file `{name}` in the working directory"),
        Leftover::Shm(name) => format!("shared-memory object /dev/shm/{name}"),
        Leftover::Queue(name) => format!("message queue /{name}"),
        Leftover::SysV(what) => format!("SysV {what}"),
    }
}

pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

pub fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}
