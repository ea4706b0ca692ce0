//! Running one program the way verify needs it: isolated, bounded in time, and checked for
//! what it leaves behind.
//!
//! Each run gets stdin from `/dev/null`, a cleared environment with `LANG=C`, a fresh empty
//! `TMPDIR`, and its own process group. The group is the handle on everything the program
//! starts: at the timeout the whole group is killed, so a grandchild that holds the output pipe
//! cannot stretch the wait, and after a normal exit any process still in the group is a leftover.
//! Call [`become_subreaper`] once first so that orphans of the program are re-parented to us and
//! can be seen (an unreaped child shows up as a zombie in the group) and reaped.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// How long to wait for the output pipes to close after the process group was killed. Longer
/// means a process escaped the group (a new session), and we stop reading.
const KILL_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Signaled(i32),
    /// Killed at the timeout. `main_exited` is set when the main process had already ended and
    /// something else (a grandchild holding stdout) kept the run going.
    TimedOut {
        main_exited: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// A process of the example's group still alive after the example ended.
    Process { pid: i32, name: String },
    /// A child that had exited but that nobody reaped (a zombie handed to us).
    Unreaped { pid: i32, name: String },
    /// A file or directory left in the run's TMPDIR.
    TmpFile(String),
    /// A POSIX shared-memory object left under /dev/shm.
    Shm(String),
    /// A POSIX message queue left under the mqueue mount.
    Queue(String),
}

#[derive(Debug)]
pub struct Outcome {
    pub ending: Ending,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
    pub leftovers: Vec<Leftover>,
    /// Set when the output pipes stayed open even after the kill.
    pub output_abandoned: bool,
}

enum Event {
    Exit(io::Result<ExitStatus>),
    Stdout(io::Result<Vec<u8>>),
    Stderr(io::Result<Vec<u8>>),
}

/// Makes this process the reaper of orphans from the programs it runs (`PR_SET_CHILD_SUBREAPER`).
pub fn become_subreaper() -> io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true).map_err(io::Error::from)
}

/// Runs `spec` to completion or timeout and checks for leftover processes and TMPDIR files.
pub fn run(spec: &Spec) -> io::Result<Outcome> {
    let tmpdir = tempfile::Builder::new().prefix("xtask-run-").tempdir()?;
    let start = Instant::now();
    let mut child = Command::new(&spec.program)
        .args(&spec.args)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("TMPDIR", tmpdir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot start {}: {e}", spec.program.display()),
            )
        })?;
    let pgid = Pid::from_raw(i32::try_from(child.id()).expect("pids fit in i32"));

    let (tx, rx) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("stdout was piped");
    let mut stderr = child.stderr.take().expect("stderr was piped");
    spawn_reader(tx.clone(), move || Event::Stdout(read_all(&mut stdout)))?;
    spawn_reader(tx.clone(), move || Event::Stderr(read_all(&mut stderr)))?;
    spawn_reader(tx, move || Event::Exit(child.wait()))?;

    let mut exit: Option<ExitStatus> = None;
    let mut out: Option<Vec<u8>> = None;
    let mut err: Option<Vec<u8>> = None;
    let deadline = start + spec.timeout;
    let mut timed_out = false;
    // How the main process had ended when the timeout struck, if it had.
    let mut main_at_timeout = None;
    let mut leftovers = Vec::new();
    while exit.is_none() || out.is_none() || err.is_none() {
        let now = Instant::now();
        let wait = if timed_out {
            (deadline + KILL_GRACE).saturating_duration_since(now)
        } else {
            deadline.saturating_duration_since(now)
        };
        match rx.recv_timeout(wait) {
            Ok(event) => {
                if let Err(e) = record(event, &mut exit, &mut out, &mut err) {
                    // Leave nothing running behind an error either.
                    kill_group(pgid)?;
                    return Err(e);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if !timed_out => {
                timed_out = true;
                main_at_timeout = exit.map(describe_status);
                // Name what was still running before it is gone.
                leftovers.extend(group_members(pgid)?);
                kill_group(pgid)?;
            }
            Err(_) => break,
        }
    }
    let elapsed = start.elapsed();
    let output_abandoned = out.is_none() || err.is_none();

    if !timed_out {
        leftovers.extend(group_members(pgid)?);
        if !leftovers.is_empty() {
            kill_group(pgid)?;
        }
    }
    reap_group(pgid)?;

    leftovers.extend(list_dir(tmpdir.path())?.into_iter().map(Leftover::TmpFile));

    let ending = match (timed_out, exit) {
        (true, _) => Ending::TimedOut {
            main_exited: main_at_timeout,
        },
        (false, Some(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => Ending::Exited(code),
            (None, Some(signal)) => Ending::Signaled(signal),
            (None, None) => unreachable!("an ended process has a code or a signal"),
        },
        (false, None) => unreachable!("the loop ends only with an exit status or at the timeout"),
    };
    Ok(Outcome {
        ending,
        stdout: out.unwrap_or_default(),
        stderr: err.unwrap_or_default(),
        elapsed,
        leftovers,
        output_abandoned,
    })
}

fn spawn_reader(
    tx: mpsc::Sender<Event>,
    f: impl FnOnce() -> Event + Send + 'static,
) -> io::Result<()> {
    thread::Builder::new()
        .name("xtask-run-io".into())
        .spawn(move || {
            // The receiver is gone only when the run was abandoned; nothing is waiting for this.
            let _ = tx.send(f());
        })
        .map(drop)
}

fn read_all(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.read_to_end(&mut buf)?;
    Ok(buf)
}

fn record(
    event: Event,
    exit: &mut Option<ExitStatus>,
    out: &mut Option<Vec<u8>>,
    err: &mut Option<Vec<u8>>,
) -> io::Result<()> {
    match event {
        Event::Exit(status) => *exit = Some(status?),
        Event::Stdout(bytes) => *out = Some(bytes?),
        Event::Stderr(bytes) => *err = Some(bytes?),
    }
    Ok(())
}

pub fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with {code}"),
        (None, Some(signal)) => format!("killed by {}", signal_name(signal)),
        (None, None) => format!("{status}"),
    }
}

pub fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"))
}

fn kill_group(pgid: Pid) -> io::Result<()> {
    match killpg(pgid, Signal::SIGKILL) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(io::Error::other(format!(
            "cannot kill process group {pgid}: {e}"
        ))),
    }
}

/// Reaps every child of ours still in the group (orphans re-parented to us), blocking until they
/// have exited. Must run only after the main process was reaped by its waiter thread.
fn reap_group(pgid: Pid) -> io::Result<()> {
    loop {
        match waitpid(Pid::from_raw(-pgid.as_raw()), Some(WaitPidFlag::__WALL)) {
            Ok(WaitStatus::StillAlive) => return Ok(()),
            Ok(_) => continue,
            Err(Errno::ECHILD) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::other(format!("waitpid: {e}"))),
        }
    }
}

/// The processes whose process group is `pgid`, read from /proc.
fn group_members(pgid: Pid) -> io::Result<Vec<Leftover>> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        // A process can exit between read_dir and this read; that is not an error.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(stat) = ProcStat::parse(&stat) else {
            continue;
        };
        if stat.pgrp != pgid.as_raw() {
            continue;
        }
        found.push(if stat.state == 'Z' {
            Leftover::Unreaped {
                pid,
                name: stat.comm,
            }
        } else {
            Leftover::Process {
                pid,
                name: stat.comm,
            }
        });
    }
    found.sort_by_key(|l| match l {
        Leftover::Process { pid, .. } | Leftover::Unreaped { pid, .. } => *pid,
        _ => 0,
    });
    Ok(found)
}

struct ProcStat {
    comm: String,
    state: char,
    pgrp: i32,
}

impl ProcStat {
    /// Parses `/proc/PID/stat`: `pid (comm) state ppid pgrp ...`. The command name may itself
    /// contain spaces and parentheses, so split at the last `)`.
    fn parse(stat: &str) -> Option<ProcStat> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_string();
        let mut fields = stat.get(close + 1..)?.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let _ppid = fields.next()?;
        let pgrp = fields.next()?.parse().ok()?;
        Some(ProcStat { comm, state, pgrp })
    }
}

/// Names of the entries directly under `dir`, sorted.
pub fn list_dir(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout_ms: u64) -> Outcome {
        become_subreaper().expect("prctl works on Linux");
        run(&Spec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            timeout: Duration::from_millis(timeout_ms),
        })
        .expect("the fixture runs")
    }

    fn alive(pid: i32) -> bool {
        // After a SIGKILL the process can linger as a zombie for a moment; /proc tells the state.
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| ProcStat::parse(&s))
            .is_some_and(|s| s.state != 'Z')
    }

    #[test]
    fn clean_run_reports_output_and_status() {
        let o = sh("echo out; echo err >&2; exit 3", 5000);
        assert_eq!(o.ending, Ending::Exited(3));
        assert_eq!(o.stdout, b"out\n");
        assert_eq!(o.stderr, b"err\n");
        assert!(o.leftovers.is_empty(), "{:?}", o.leftovers);
    }

    #[test]
    fn environment_is_fixed_and_stdin_is_empty() {
        let o = sh(
            "echo \"$LANG $HOME\"; test -d \"$TMPDIR\" && echo tmp; cat; echo end",
            5000,
        );
        assert_eq!(String::from_utf8_lossy(&o.stdout), "C \ntmp\nend\n");
    }

    #[test]
    fn signal_is_reported() {
        let o = sh("kill -TERM $$", 5000);
        assert_eq!(o.ending, Ending::Signaled(15));
    }

    #[test]
    fn hang_is_killed_at_the_timeout() {
        let o = sh("echo before; exec sleep 30", 300);
        assert!(matches!(o.ending, Ending::TimedOut { main_exited: None }));
        assert_eq!(o.stdout, b"before\n");
        assert!(o.elapsed < Duration::from_millis(1300), "{:?}", o.elapsed);
    }

    #[test]
    fn grandchild_holding_stdout_does_not_stretch_the_timeout() {
        let start = Instant::now();
        // The shell exits at once; its background `sleep` keeps the stdout pipe open.
        let o = sh("sleep 30 & echo $! ; exit 0", 500);
        let waited = start.elapsed();
        assert!(waited < Duration::from_millis(1500), "took {waited:?}");
        assert_eq!(
            o.ending,
            Ending::TimedOut {
                main_exited: Some("exited with 0".into())
            }
        );
        let pid: i32 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        assert!(
            o.leftovers.iter().any(
                |l| matches!(l, Leftover::Process { pid: p, name } if *p == pid && name == "sleep")
            ),
            "{:?}",
            o.leftovers
        );
        assert!(!alive(pid), "the grandchild was killed");
    }

    #[test]
    fn process_left_running_is_reported_and_killed() {
        let o = sh("sleep 30 >/dev/null 2>&1 & echo $!", 5000);
        assert_eq!(o.ending, Ending::Exited(0));
        let pid: i32 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        assert_eq!(
            o.leftovers,
            vec![Leftover::Process {
                pid,
                name: "sleep".into()
            }]
        );
        assert!(!alive(pid));
    }

    #[test]
    fn unreaped_child_is_reported() {
        // The shell starts `true` and then becomes `sleep`, which never waits for it: when sleep
        // exits, the zombie is handed to us.
        let o = sh("/bin/true & exec sleep 0.2", 5000);
        assert_eq!(o.ending, Ending::Exited(0));
        assert!(
            matches!(o.leftovers.as_slice(), [Leftover::Unreaped { name, .. }] if name == "true"),
            "{:?}",
            o.leftovers
        );
    }

    #[test]
    fn file_left_in_tmpdir_is_reported() {
        let o = sh("touch \"$TMPDIR/stale.lock\"; mkdir \"$TMPDIR/d\"", 5000);
        assert_eq!(
            o.leftovers,
            vec![
                Leftover::TmpFile("d".into()),
                Leftover::TmpFile("stale.lock".into())
            ]
        );
    }

    #[test]
    fn proc_stat_parses_names_with_parentheses() {
        let s = ProcStat::parse("42 (a (b) c) S 1 77 77 0 -1").unwrap();
        assert_eq!(s.comm, "a (b) c");
        assert_eq!(s.state, 'S');
        assert_eq!(s.pgrp, 77);
    }
}
