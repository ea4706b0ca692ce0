//! The report a launcher writes into its run folder (`RUNDIR/report`) and verify reads back:
//! the run's IPC namespace, what the program left in it, and how the program ended.

use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use crate::sandbox::procs::signal_name;

/// The report's file name inside the run folder.
pub const REPORT: &str = "report";

/// What a launcher reported, read back by verify.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub ipc_ns: Option<u64>,
    /// The example's own ending: `None` if the launcher did not get that far.
    pub ending: Option<LauncherEnding>,
    pub shm: Vec<String>,
    pub queues: Vec<String>,
    pub sysv: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LauncherEnding {
    Exited(i32),
    Signaled(i32),
}

impl fmt::Display for LauncherEnding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LauncherEnding::Exited(code) => write!(f, "exited with {code}"),
            LauncherEnding::Signaled(signal) => {
                write!(f, "killed by {}", signal_name(*signal))
            }
        }
    }
}

impl Report {
    /// Reads `RUNDIR/report`; a missing file is an empty report.
    pub fn read(run_dir: &Path) -> io::Result<Report> {
        match fs::read_to_string(run_dir.join(REPORT)) {
            Ok(text) => Ok(Report::parse(&text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Report::default()),
            Err(e) => Err(e),
        }
    }

    pub fn parse(text: &str) -> Report {
        let mut report = Report::default();
        for line in text.lines() {
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            match word {
                "ns" => report.ipc_ns = rest.parse().ok(),
                "shm" => report.shm.push(rest.to_string()),
                "queue" => report.queues.push(rest.to_string()),
                "sysv" => report.sysv.push(rest.to_string()),
                "error" => report.error = Some(rest.to_string()),
                "status" => {
                    report.ending = match rest.split_once(' ') {
                        Some(("exited", n)) => n.parse().ok().map(LauncherEnding::Exited),
                        Some(("signaled", n)) => n.parse().ok().map(LauncherEnding::Signaled),
                        _ => None,
                    }
                }
                _ => {}
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_round_trip() {
        let r = Report::parse(
            "ns 4026532\nshm ipc_shm-1\nqueue q\nsysv shared memory id 3 key 0\nstatus exited 3\n",
        );
        assert_eq!(r.ipc_ns, Some(4026532));
        assert_eq!(r.shm, vec!["ipc_shm-1"]);
        assert_eq!(r.queues, vec!["q"]);
        assert_eq!(r.sysv, vec!["shared memory id 3 key 0"]);
        assert_eq!(r.ending, Some(LauncherEnding::Exited(3)));
        assert_eq!(
            Report::parse("ns 1\nstatus signaled 9\n").ending,
            Some(LauncherEnding::Signaled(9))
        );
        assert_eq!(Report::parse("ns 1\n").ending, None);
    }
}
