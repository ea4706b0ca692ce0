//! Progress of a long step, on stderr so that the report on stdout stays as it was: one line
//! rewritten in place on a terminal, and elsewhere a plain line at every tenth of the way.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Progress {
    /// What is counted: `runs`, `copies built`.
    what: &'static str,
    total: usize,
    done: AtomicUsize,
    terminal: bool,
}

impl Progress {
    pub fn new(what: &'static str, total: usize) -> Progress {
        Progress {
            what,
            total,
            done: AtomicUsize::new(0),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// One more is done.
    pub fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(line) = self.line(done) {
            // Progress that cannot be shown is no error: the report says what matters.
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }

    /// What to print once `done` are done, if anything.
    fn line(&self, done: usize) -> Option<String> {
        let (done, total, what) = (done, self.total, self.what);
        let end = if done == total { "\n" } else { "" };
        if self.terminal {
            return Some(format!("\r{what}: {done} of {total}{end}"));
        }
        let tenth = |n: usize| n * 10 / total.max(1);
        (total >= 10 && tenth(done) != tenth(done - 1))
            .then(|| format!("{what}: {done} of {total}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_a_terminal_a_line_at_every_tenth() {
        let progress =
            Progress { what: "runs", total: 50, done: AtomicUsize::new(0), terminal: false };
        let lines: Vec<String> = (1..=50).filter_map(|n| progress.line(n)).collect();
        assert_eq!(lines.len(), 10, "{lines:?}");
        assert_eq!(lines[0], "runs: 5 of 50\n");
        assert_eq!(lines[9], "runs: 50 of 50\n");
        let few = Progress { what: "runs", total: 3, done: AtomicUsize::new(0), terminal: false };
        assert!((1..=3).all(|n| few.line(n).is_none()), "a short step says nothing");
    }

    #[test]
    fn on_a_terminal_one_line_rewritten() {
        let progress =
            Progress { what: "runs", total: 3, done: AtomicUsize::new(0), terminal: true };
        assert_eq!(progress.line(1).as_deref(), Some("\rruns: 1 of 3"));
        assert_eq!(progress.line(3).as_deref(), Some("\rruns: 3 of 3\n"));
    }
}
