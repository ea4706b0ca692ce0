//! Judging one run of an example against its golden files.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::golden::format::{Golden, lines};
use crate::golden::matcher::{Outcome as MatchOutcome, match_output};
use crate::golden::view::explain_mismatch;
use crate::judge::problem::Problem;
use crate::project::workspace::{Example, shown};
use crate::runs::conditions::Condition;
use crate::sandbox::capture::Captured;
use crate::sandbox::runner::{Ending, Outcome, Poke};
use nix::sys::signal::Signal;

/// What an example must print: its parsed golden files.
pub struct Expectation {
    /// The example crate's name, which its recipes' error messages start with.
    pub name: String,
    pub stdout: Golden,
    pub stdout_path: PathBuf,
    /// `None` when the example has no golden stderr file: then stderr must be empty.
    pub stderr: Option<Golden>,
    pub stderr_path: PathBuf,
    /// The exit status of a plain run: 0 unless `golden/RECIPE.status` says otherwise.
    pub status: i32,
}

impl Expectation {
    pub fn load(example: &Example) -> Result<Expectation> {
        let stdout_path = example.golden_stdout();
        let stderr_path = example.golden_stderr();
        let stderr = if stderr_path.exists() { Some(load_golden(&stderr_path)?) } else { None };
        Ok(Expectation {
            name: example.package.clone(),
            stdout: load_golden(&stdout_path)?,
            stdout_path,
            stderr,
            stderr_path,
            status: example.expected_status()?,
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
) -> Vec<Problem> {
    let may_pass = matches!(
        condition,
        Condition::FullShm | Condition::FewDescriptors | Condition::SmallQueues
    );
    let plain =
        condition.judged_as_plain() || (may_pass && run.ending == Ending::Exited(expect.status));
    if plain {
        return problems(expect, run, timeout);
    }
    let mut found = Vec::new();
    let stderr = String::from_utf8_lossy(&run.stderr.bytes).into_owned();
    if let Some(poke) = condition.signal() {
        found.extend(signalled(poke, expect, run, &stderr, timeout));
    } else if condition == Condition::ClosedStdout {
        if run.ending != Ending::Exited(0) {
            found.push(Problem::Ending {
                ending: run.ending.clone(),
                timeout,
                rule: Some(
                    "with its stdout closed (`| head -1`), an example must stop quietly with \
                     exit status 0",
                ),
            });
        }
        if !stderr.is_empty() {
            found.push(Problem::NotQuiet { text: stderr });
        }
    } else {
        let rule = match condition {
            Condition::FullStdout => "with stdout on a full disk, an example must fail",
            Condition::FullShm => "with /dev/shm full, an example must pass or fail",
            Condition::FewDescriptors => "with few file descriptors, an example must pass or fail",
            _ => "with small queues, an example must pass or fail",
        };
        let wrong = match &run.ending {
            // Only a full stdout gets here with status 0: the others passed or were judged
            // as plain runs above.
            Ending::Exited(0) => {
                Some("with stdout on a full disk, an example must fail with a non-zero status")
            }
            Ending::Exited(101) => Some("exit status 101 is a panic: fail with an error instead"),
            Ending::Exited(_) => None,
            _ => Some("fail with an error, do not die"),
        };
        if let Some(rule) = wrong {
            found.push(Problem::Ending { ending: run.ending.clone(), timeout, rule: Some(rule) });
        }
        if stderr.lines().count() != 1 {
            found.push(Problem::NotOneLine { rule, text: stderr });
        } else if !displayed(&expect.name, &stderr) {
            found.push(Problem::NotDisplayed {
                name: expect.name.clone(),
                text: stderr.trim_end().to_string(),
            });
        } else if DEATHS.iter().any(|death| stderr.contains(death)) {
            found.push(Problem::ChildDied { text: stderr.trim_end().to_string() });
        }
    }
    found.extend(common_problems(run));
    found
}

/// How an error line reports a process of the run that a signal killed, as std's `ExitStatus`
/// and nix's `Signal` print it, where a careful program fails instead.
const DEATHS: [&str; 3] = ["(SIGBUS)", "(SIGSEGV)", "killed by SIGBUS"];

/// What is wrong with a run that was sent `poke`: it must end on time with the status a shell
/// expects (0 if it was done already, its golden status, 128 + a signal it stops on, or death
/// by the signal before it could block it), or fail with one displayed line; and say at most
/// one line on stderr.
fn signalled(
    poke: Poke,
    expect: &Expectation,
    run: &Outcome,
    stderr: &str,
    timeout: Duration,
) -> Vec<Problem> {
    let (Poke::Program(sent) | Poke::Group(sent)) = poke;
    let stops_on = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];
    let fine = match run.ending {
        Ending::Exited(0) => true,
        Ending::Exited(code) if code == expect.status => true,
        Ending::Exited(code) => stops_on.iter().any(|s| code == 128 + *s as i32) || code == 1,
        Ending::Signaled(signal) => signal == sent as i32,
        _ => false,
    };
    let mut found = Vec::new();
    if !fine {
        let rule = Some("sent a signal, an example must stop with 128 + its number, or fail");
        found.push(Problem::Ending { ending: run.ending.clone(), timeout, rule });
    }
    let lines = stderr.lines().count();
    if lines > 1 || (run.ending == Ending::Exited(1) && lines != 1) {
        let rule = "sent a signal, an example may say one line on stderr, and must when it fails";
        found.push(Problem::NotOneLine { rule, text: stderr.to_string() });
    } else if lines == 1 && !displayed(&expect.name, stderr) {
        found.push(Problem::NotDisplayed {
            name: expect.name.clone(),
            text: stderr.trim_end().to_string(),
        });
    }
    found
}

/// Pieces of a `Debug` form, which an error line must not contain: the rule is `Display`.
const DEBUG_FORMS: [&str; 9] =
    ["Os {", " { ", "Pid(", "Exited(", "Signaled(", "StillAlive", "Some(", "Ok(", "Err("];

/// Whether a one-line error reads like `NAME: what failed: why`, as the examples write them: no
/// `Debug` form (`Error: Os { code: 24, kind: .. }`, `Exited(Pid(7), 3)`), and an OS error
/// only after a context that says what failed (`NAME: mq_open /q: EMFILE ...`, never `NAME:
/// Too many open files (os error 24)`).
fn displayed(name: &str, line: &str) -> bool {
    let Some(message) = line.strip_prefix(&format!("{name}: ")) else {
        return false;
    };
    let context_first = match message.find("(os error") {
        Some(at) => message[..at].contains(": "),
        None => true,
    };
    context_first && !DEBUG_FORMS.iter().any(|form| message.contains(form))
}

/// What is checked under every condition: the output pipes, and what the run left behind.
fn common_problems(run: &Outcome) -> Vec<Problem> {
    let mut problems = Vec::new();
    if run.output_abandoned {
        problems.push(Problem::OutputHeldOpen);
    }
    if !run.leftovers.is_empty() {
        problems.push(Problem::LeftBehind(run.leftovers.clone()));
    }
    problems
}

/// Everything wrong with one plain run; empty when it passed.
pub fn problems(expect: &Expectation, run: &Outcome, timeout: Duration) -> Vec<Problem> {
    let mut problems = Vec::new();
    if run.ending != Ending::Exited(expect.status) {
        let rule = (expect.status != 0).then_some("its golden .status file names another status");
        problems.push(Problem::Ending { ending: run.ending.clone(), timeout, rule });
    }
    compare("stdout", &run.stdout, Some(&expect.stdout), &expect.stdout_path, &mut problems);
    compare("stderr", &run.stderr, expect.stderr.as_ref(), &expect.stderr_path, &mut problems);
    problems.extend(common_problems(run));
    problems
}

fn compare(
    stream: &'static str,
    captured: &Captured,
    golden: Option<&Golden>,
    path: &Path,
    problems: &mut Vec<Problem>,
) {
    if captured.dropped > 0 {
        // Runaway output: the kept part is shown below; matching it could pass by accident.
        problems.push(Problem::Runaway {
            stream,
            printed: captured.bytes.len() as u64 + captured.dropped,
        });
    }
    let text = match std::str::from_utf8(&captured.bytes) {
        Ok(text) => text,
        Err(e) => {
            problems.push(Problem::NotUtf8 { stream, offset: e.valid_up_to() });
            return;
        }
    };
    let Some(golden) = golden else {
        if !text.is_empty() {
            problems.push(Problem::NotEmpty {
                stream,
                golden: path.to_path_buf(),
                text: text.to_string(),
            });
        }
        return;
    };
    let output = lines(text);
    match match_output(golden, &output) {
        MatchOutcome::Match(_) => {}
        MatchOutcome::Mismatch(_) => problems.push(Problem::Mismatch {
            stream,
            golden: path.to_path_buf(),
            explanation: explain_mismatch(golden, &output),
        }),
        MatchOutcome::GaveUp => {
            problems.push(Problem::GaveUp { stream, golden: path.to_path_buf() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::capture::Captured;
    use crate::sandbox::leftovers::Leftover;

    fn expectation(stdout: &str) -> Expectation {
        Expectation {
            name: "ex".to_string(),
            stdout: Golden::parse(stdout).unwrap(),
            stdout_path: "ex/golden.stdout".into(),
            stderr: None,
            stderr_path: "ex/golden.stderr".into(),
            status: 0,
        }
    }

    fn outcome(stdout: &[u8], stderr: &[u8], ending: Ending) -> Outcome {
        Outcome {
            ending,
            stdout: Captured { bytes: stdout.to_vec(), dropped: 0 },
            stderr: Captured { bytes: stderr.to_vec(), dropped: 0 },
            elapsed: Duration::from_millis(1),
            leftovers: Vec::new(),
            output_abandoned: false,
            poked: false,
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
            name: "ex".to_string(),
            stdout: golden,
            stdout_path: path,
            stderr: None,
            stderr_path: "ex/golden.stderr".into(),
            status: 0,
        };
        assert!(problems(&expect, &run, Duration::from_secs(1)).is_empty());
    }

    #[test]
    fn truncated_output_never_passes() {
        let mut run = outcome(b"hi\n", b"", Ending::Exited(0));
        run.stdout.dropped = 10 << 20;
        let p: Vec<String> = problems(&expectation("hi\n"), &run, Duration::from_secs(1))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            p,
            vec!["stdout: 10.0 MiB printed; verify kept the first 4.0 MiB and dropped the rest"]
        );
    }

    #[test]
    fn a_debug_printed_error_is_not_a_message() {
        let expect = expectation("hi\n");
        let judged = |stderr: &[u8]| -> Vec<String> {
            let run = outcome(b"", stderr, Ending::Exited(1));
            judge(Condition::FewDescriptors, &expect, &run, Duration::from_secs(1))
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert!(judged(b"ex: pipe: Too many open files (os error 24)\n").is_empty());
        let p = judged(b"Error: Os { code: 24, kind: Uncategorized, message: \"x\" }\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("is not a message"), "{p:?}");
        let p = judged(b"ex: one\nex: two\n");
        assert!(p[0].starts_with("stderr has 2 lines"), "{p:?}");
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
        let p: Vec<String> = problems(&expectation("hi\n"), &run, Duration::from_secs(1))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(p.len(), 4, "{p:?}");
        assert_eq!(p[0], "exit status: killed by SIGKILL");
        assert!(p[1].starts_with("stdout is not UTF-8 (invalid byte at offset 0)"));
        assert!(p[2].starts_with("stderr is not empty"));
        assert_eq!(p[3], "left behind:\n  shared-memory object /dev/shm/q");
    }

    #[test]
    fn timeout_with_exited_main_says_who_held_the_pipe() {
        let run =
            outcome(b"hi\n", b"", Ending::TimedOut { main_exited: Some("exited with 0".into()) });
        let p: Vec<String> = problems(&expectation("hi\n"), &run, Duration::from_millis(1500))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("timed out after 1.5 s: the main process had exited with 0"));
    }

    #[test]
    fn an_error_line_is_displayed_with_its_context() {
        for good in [
            "ipc_shm: shm_open /x-7: Too many open files (os error 24)",
            "ipc_pipe: child 7 exited with status 3",
            "lock_demo: child 7: opening /tmp/l: Permission denied (os error 13)",
        ] {
            assert!(displayed(name(good), good), "refused {good}");
        }
        for (name, bad) in [
            ("with_python", "with_python: invalid digit found (os error 22)"),
            ("ipc_shm", "ipc_shm: Too many open files (os error 24)"),
            ("ipc_shm", "ipc_shm: child Pid(7): Exited(Pid(7), 3)"),
            ("ipc_mqueue", "ipc_mqueue: a send to a full queue gave Ok(())"),
            ("ipc_shm", "Error: Os { code: 24, kind: Uncategorized }"),
            ("ipc_shm", "other_name: mq_open: EMFILE"),
        ] {
            assert!(!displayed(name, bad), "accepted {bad}");
        }
    }

    fn name(line: &str) -> &str {
        line.split(':').next().unwrap_or_default()
    }

    #[test]
    fn a_signalled_run_stops_with_a_shell_status_or_one_line() {
        let expect = expectation("");
        let poke = Poke::Group(Signal::SIGINT);
        let judged = |ending: Ending, stderr: &[u8]| {
            let run = outcome(b"", stderr, ending);
            signalled(poke, &expect, &run, &String::from_utf8_lossy(stderr), Duration::from_secs(1))
        };
        for ending in
            [Ending::Exited(0), Ending::Exited(130), Ending::Exited(143), Ending::Signaled(2)]
        {
            assert!(judged(ending.clone(), b"").is_empty(), "{ending:?}");
        }
        assert!(judged(Ending::Exited(1), b"ex: a worker ended before it was ready\n").is_empty());
        assert!(!judged(Ending::Exited(1), b"").is_empty(), "a failure must say why");
        assert!(!judged(Ending::Exited(2), b"").is_empty());
        assert!(!judged(Ending::Signaled(9), b"").is_empty(), "killed by another signal");
        assert!(!judged(Ending::Exited(130), b"one\ntwo\n").is_empty(), "two lines");
    }
}
