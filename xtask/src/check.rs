//! Judging one run of an example against its golden files.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::capture::{Captured, KEEP, size};
use crate::conditions::Condition;
use crate::golden::{Golden, lines};
use crate::matcher::{Outcome as MatchOutcome, match_output};
use crate::runner::{Ending, Leftover, Outcome, signal_name};
use crate::view::explain_mismatch;
use crate::workspace::{Example, shown};

/// What an example must print: its parsed golden files.
pub struct Expectation {
    pub stdout: Golden,
    pub stdout_path: PathBuf,
    /// `None` when the example has no golden stderr file: then stderr must be empty.
    pub stderr: Option<Golden>,
    pub stderr_path: PathBuf,
}

impl Expectation {
    pub fn load(example: &Example) -> Result<Expectation> {
        let stdout_path = example.golden_stdout();
        let stderr_path = example.golden_stderr();
        let stderr = if stderr_path.exists() {
            Some(load_golden(&stderr_path)?)
        } else {
            None
        };
        Ok(Expectation {
            stdout: load_golden(&stdout_path)?,
            stdout_path,
            stderr,
            stderr_path,
        })
    }
}

pub fn load_golden(path: &Path) -> Result<Golden> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", shown(path)))?;
    // An editor's byte-order mark is invisible in a diff; it is not part of the expected text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Golden::parse(text).with_context(|| format!("malformed golden file {}", shown(path)))
}

/// Everything wrong with one run under `condition`; empty when it passed.
pub fn judge(
    condition: Condition,
    expect: &Expectation,
    run: &Outcome,
    timeout: Duration,
) -> Vec<String> {
    let plain = condition.judged_as_plain()
        || (condition == Condition::FullShm && run.ending == Ending::Exited(0));
    if plain {
        return problems(expect, run, timeout);
    }
    match condition {
        Condition::ClosedStdout => {
            let mut found = Vec::new();
            if let Some(wrong) = ending_problem(&run.ending, timeout) {
                found.push(format!(
                    "{wrong}; with its stdout closed (`| head -1`), an example must stop \
                     quietly with exit status 0"
                ));
            }
            if !run.stderr.bytes.is_empty() {
                found.push(format!(
                    "stderr is not empty; with its stdout closed, an example must stop \
                     quietly:\n{}",
                    indent(&String::from_utf8_lossy(&run.stderr.bytes))
                ));
            }
            found.extend(common_problems(run));
            found
        }
        _ => {
            let mut found = Vec::new();
            let what = if condition == Condition::FullStdout {
                "with stdout on a full disk, an example must fail"
            } else {
                "with /dev/shm full, an example must pass or fail"
            };
            match &run.ending {
                Ending::Exited(0) => found.push(format!(
                    "exit status: exited with 0; {what} with a non-zero status and one line on \
                     stderr"
                )),
                Ending::Exited(101) => found.push(format!(
                    "exit status: exited with 101, a panic; {what} with an error, not a panic"
                )),
                Ending::Exited(_) => {}
                other => found.push(format!(
                    "{}; {what} with an error, not die",
                    ending_problem(other, timeout).unwrap_or_default()
                )),
            }
            let stderr = String::from_utf8_lossy(&run.stderr.bytes);
            if stderr.lines().count() != 1 {
                found.push(format!(
                    "stderr has {} lines; {what} with one line saying what went wrong:\n{}",
                    stderr.lines().count(),
                    indent(&crate::view::head(&stderr, crate::view::MAX_REPORT_LINES))
                ));
            }
            found.extend(common_problems(run));
            found
        }
    }
}

/// What is wrong with how a run ended, if anything: exiting with 0 is right.
fn ending_problem(ending: &Ending, timeout: Duration) -> Option<String> {
    Some(match ending {
        Ending::Exited(0) => return None,
        Ending::Exited(code) => format!("exit status: exited with {code}"),
        Ending::Signaled(signal) => format!("exit status: killed by {}", signal_name(*signal)),
        Ending::TimedOut { main_exited: None } => format!(
            "timed out after {}: every process of the run was killed",
            seconds(timeout)
        ),
        Ending::TimedOut {
            main_exited: Some(how),
        } => format!(
            "timed out after {}: the main process had {how}, but its output pipe was still held \
             open by a process it started; every process of the run was killed",
            seconds(timeout)
        ),
        Ending::NotRun(why) => format!("verify could not run it: {why}"),
    })
}

/// What is checked under every condition: the output pipes, and what the run left behind.
fn common_problems(run: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    if run.output_abandoned {
        problems.push(format!(
            "the output pipe stayed open for {} s after every process of the run that verify \
             could find was killed; verify stopped reading",
            crate::runner::KILL_GRACE.as_secs()
        ));
    }
    if !run.leftovers.is_empty() {
        let list: Vec<String> = run.leftovers.iter().map(describe_leftover).collect();
        problems.push(format!("left behind:\n  {}", list.join("\n  ")));
    }
    problems
}

/// Everything wrong with one plain run; empty when it passed.
pub fn problems(expect: &Expectation, run: &Outcome, timeout: Duration) -> Vec<String> {
    let mut problems: Vec<String> = ending_problem(&run.ending, timeout).into_iter().collect();
    compare(
        "stdout",
        &run.stdout,
        Some(&expect.stdout),
        &expect.stdout_path,
        &mut problems,
    );
    compare(
        "stderr",
        &run.stderr,
        expect.stderr.as_ref(),
        &expect.stderr_path,
        &mut problems,
    );
    problems.extend(common_problems(run));
    problems
}

fn compare(
    stream: &str,
    captured: &Captured,
    golden: Option<&Golden>,
    path: &Path,
    problems: &mut Vec<String>,
) {
    if captured.dropped > 0 {
        // Runaway output: the kept part is shown below; matching it could pass by accident.
        problems.push(format!(
            "{stream}: {} printed; verify kept the first {} and dropped the rest",
            size(captured.bytes.len() as u64 + captured.dropped),
            size(KEEP as u64)
        ));
    }
    let bytes = &captured.bytes[..];
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            problems.push(format!(
                "{stream} is not UTF-8 (invalid byte at offset {}); golden files are text",
                e.valid_up_to()
            ));
            return;
        }
    };
    let Some(golden) = golden else {
        if !text.is_empty() {
            problems.push(format!(
                "{stream} is not empty (add {} if this output is intended):\n{}",
                shown(path),
                indent(&crate::view::head(text, crate::view::MAX_REPORT_LINES))
            ));
        }
        return;
    };
    let output = lines(text);
    match match_output(golden, &output) {
        MatchOutcome::Match(_) => {}
        MatchOutcome::Mismatch(_) => problems.push(format!(
            "{stream} does not match {}:\n{}",
            shown(path),
            indent(&explain_mismatch(golden, &output))
        )),
        MatchOutcome::GaveUp => problems.push(format!(
            "{stream}: the matcher gave up on {} (too many ways to place its placeholders); use \
             fewer named placeholders inside [unordered] blocks",
            shown(path)
        )),
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

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expectation(stdout: &str) -> Expectation {
        Expectation {
            stdout: Golden::parse(stdout).unwrap(),
            stdout_path: "ex/golden.stdout".into(),
            stderr: None,
            stderr_path: "ex/golden.stderr".into(),
        }
    }

    fn outcome(stdout: &[u8], stderr: &[u8], ending: Ending) -> Outcome {
        Outcome {
            ending,
            stdout: Captured {
                bytes: stdout.to_vec(),
                dropped: 0,
            },
            stderr: Captured {
                bytes: stderr.to_vec(),
                dropped: 0,
            },
            elapsed: Duration::from_millis(1),
            leftovers: Vec::new(),
            output_abandoned: false,
        }
    }

    #[test]
    fn byte_order_mark_is_not_part_of_the_golden_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("golden.stdout");
        fs::write(&path, "\u{feff}[unordered]\nb\na\n[/unordered]\n").unwrap();
        let golden = load_golden(&path).unwrap();
        let run = outcome(b"a\nb\n", b"", Ending::Exited(0));
        let expect = Expectation {
            stdout: golden,
            stdout_path: path,
            stderr: None,
            stderr_path: "ex/golden.stderr".into(),
        };
        assert!(problems(&expect, &run, Duration::from_secs(1)).is_empty());
    }

    #[test]
    fn truncated_output_never_passes() {
        let mut run = outcome(b"hi\n", b"", Ending::Exited(0));
        run.stdout.dropped = 10 << 20;
        let p = problems(&expectation("hi\n"), &run, Duration::from_secs(1));
        assert_eq!(
            p,
            vec!["stdout: 10.0 MiB printed; verify kept the first 4.0 MiB and dropped the rest"]
        );
    }

    #[test]
    fn clean_run_has_no_problems() {
        let p = problems(
            &expectation("hi\n"),
            &outcome(b"hi\n", b"", Ending::Exited(0)),
            Duration::from_secs(1),
        );
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn each_failure_is_named() {
        let mut run = outcome(b"\xff\n", b"oops\n", Ending::Signaled(9));
        run.leftovers.push(Leftover::Shm("q".into()));
        let p = problems(&expectation("hi\n"), &run, Duration::from_secs(1));
        assert_eq!(p.len(), 4, "{p:?}");
        assert_eq!(p[0], "exit status: killed by SIGKILL");
        assert!(p[1].starts_with("stdout is not UTF-8 (invalid byte at offset 0)"));
        assert!(p[2].starts_with("stderr is not empty"));
        assert_eq!(p[3], "left behind:\n  shared-memory object /dev/shm/q");
    }

    #[test]
    fn timeout_with_exited_main_says_who_held_the_pipe() {
        let run = outcome(
            b"hi\n",
            b"",
            Ending::TimedOut {
                main_exited: Some("exited with 0".into()),
            },
        );
        let p = problems(&expectation("hi\n"), &run, Duration::from_millis(1500));
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("timed out after 1.5 s: the main process had exited with 0"));
    }
}
