//! Running one program the way verify needs it: isolated, bounded in time and memory, and
//! checked for everything it leaves behind.
//!
//! Each run gets a folder of its own (`xtask-run-*` in the temp dir) holding an empty working
//! directory and an empty `TMPDIR`; stdin from `/dev/null`; an environment of `PATH`, `LANG=C`,
//! `LC_ALL=C` and `TMPDIR` only; its own process group; and, where the kernel allows it, its own
//! IPC and mount namespaces ([`crate::sandbox::launcher`]).
//!
//! Every process the run starts is found, however it detached itself: by its process group, by
//! its IPC namespace (which `setsid` does not change), or as an orphan handed to us (verify is
//! the *subreaper* of the examples' orphans, see [`become_subreaper`]). Each is named in the
//! report and killed; at the timeout, all of them are killed at once.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::sandbox::capture::{Captured, KEEP, read_bounded, read_lines_then_close};
use crate::sandbox::interrupt;
use crate::sandbox::launcher::{self, Isolation, Limits};
use crate::sandbox::leftovers::{Leftover, list_dir};
use crate::sandbox::procs::signal_name;
use crate::sandbox::procs::{self, Proc};
use crate::sandbox::report::{LauncherEnding, Report};

/// How long to wait for the output pipes to close after everything was killed. Longer means a
/// process escaped every way of finding it, and we stop reading.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub timeout: Duration,
    pub isolation: Isolation,
    pub stdout: StdoutMode,
    /// Limits the program meets (some need namespaces and are ignored without).
    pub limits: Limits,
    /// Pin the run, and so everything it starts, to this CPU.
    pub cpu: Option<usize>,
    /// The run is expected to stop early, on an error: its children may outlive it by a
    /// moment (until their parent-death signal arrives) and are left for init to reap, as
    /// they would be outside verify. Only those still running after [`SETTLE`] count.
    pub stops_early: bool,
    /// A folder put first on the run's `PATH` (the project's Python environment).
    pub path_first: Option<PathBuf>,
    /// A signal sent this long after the start, if the run still goes on.
    pub poke: Option<(Poke, Duration)>,
}

/// A signal from outside, and whom it goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poke {
    /// The program (not the sandbox's launcher), as `kill PID` sends it.
    Program(Signal),
    /// The run's whole process group, as Ctrl-C at a terminal sends it.
    Group(Signal),
}

/// How long the children of a run that stopped early get to follow it.
pub const SETTLE: Duration = Duration::from_millis(500);

/// Where the program's stdout goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdoutMode {
    /// A pipe read to its end (bounded, see [`crate::sandbox::capture`]).
    Capture,
    /// A pipe closed after this many lines, like `| head -N`.
    CloseAfterLines(usize),
    /// `/dev/full`: every write fails with ENOSPC, like a full disk.
    DevFull,
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
    /// Verify could not run it at all (no thread or process left under `ulimit -u`, ...).
    NotRun(String),
}

#[derive(Debug)]
pub struct Outcome {
    pub ending: Ending,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
    pub leftovers: Vec<Leftover>,
    /// Set when the output pipes stayed open even after the kill.
    pub output_abandoned: bool,
    /// Set when the run's [`Spec::poke`] was sent while the program still ran.
    pub poked: bool,
}

enum Event {
    Exit(io::Result<ExitStatus>),
    Stdout(io::Result<Captured>),
    Stderr(io::Result<Captured>),
}

/// The run's `PATH`: ours, with `first` before it.
fn run_path(first: Option<&Path>) -> io::Result<OsString> {
    let ours = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    let folders = first.map(Path::to_path_buf).into_iter().chain(std::env::split_paths(&ours));
    std::env::join_paths(folders).map_err(io::Error::other)
}

/// Makes this process the reaper of orphans from the programs it runs (`PR_SET_CHILD_SUBREAPER`).
pub fn become_subreaper() -> io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true).map_err(io::Error::from)
}

/// Runs `spec` to completion or timeout. A run verify could not even start is an outcome too
/// ([`Ending::NotRun`]), so that one failure does not stop the others.
pub fn run(spec: &Spec) -> Outcome {
    let start = Instant::now();
    run_inner(spec, start).unwrap_or_else(|e| Outcome {
        ending: Ending::NotRun(e.to_string()),
        stdout: Captured::default(),
        stderr: Captured::default(),
        elapsed: start.elapsed(),
        leftovers: Vec::new(),
        output_abandoned: false,
        poked: false,
    })
}

fn run_inner(spec: &Spec, start: Instant) -> io::Result<Outcome> {
    // Registered with the Ctrl-C handler from the moment it exists (see `OwnedDir`).
    let dir = interrupt::OwnedDir::create("xtask-run-")?;
    let tmp = dir.path().join("tmp");
    let work = dir.path().join("work");
    fs::create_dir(&tmp)?;
    fs::create_dir(&work)?;
    let mut command = match &spec.isolation {
        Isolation::Namespaces { launcher, user } => {
            fs::create_dir(dir.path().join(launcher::MQUEUE_DIR))?;
            launcher::launcher_command(
                launcher,
                *user,
                dir.path(),
                spec.limits,
                &spec.program,
                &spec.args,
            )
        }
        Isolation::Shared { .. } => {
            let mut command = Command::new(&spec.program);
            command.args(&spec.args);
            if let Some(n) = spec.limits.nofile {
                launcher::limit_descriptors(&mut command, n)?;
            }
            command
        }
    };
    match spec.isolation {
        // The launcher starts with SIGINT, SIGTERM and SIGHUP blocked: a signal sent to the
        // run's group at its first instant must not kill it before it can report.
        Isolation::Namespaces { .. } => launcher::stops_blocked(&mut command),
        Isolation::Shared { .. } => interrupt::unblocked(&mut command),
    };
    command
        .env_clear()
        .env("PATH", run_path(spec.path_first.as_deref())?)
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("TMPDIR", &tmp)
        .current_dir(&work)
        .stdin(match spec.isolation {
            // The launcher waits for end of file here before it starts the program.
            Isolation::Namespaces { .. } => Stdio::piped(),
            Isolation::Shared { .. } => Stdio::null(),
        })
        .stdout(match spec.stdout {
            StdoutMode::DevFull => {
                Stdio::from(fs::OpenOptions::new().write(true).open("/dev/full")?)
            }
            StdoutMode::Capture | StdoutMode::CloseAfterLines(_) => Stdio::piped(),
        })
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(cpu) = spec.cpu {
        let mut set = CpuSet::new();
        set.set(cpu)
            .map_err(|e| io::Error::other(format!("no CPU {cpu} to pin the run to: {e}")))?;
        // Safety: the closure runs in the forked child before exec and makes one
        // async-signal-safe system call on a set prepared before the fork; it allocates
        // nothing and takes no lock. The affinity passes to everything the program starts.
        unsafe {
            command.pre_exec(move || {
                sched_setaffinity(Pid::from_raw(0), &set).map_err(io::Error::from)
            });
        }
    }

    let mut child = {
        // Spawn and register under one lock: Ctrl-C in between would otherwise miss this run.
        let mut registry = interrupt::registry();
        if let Some(signal) = registry.interrupted() {
            return Err(io::Error::other(format!("stopped by {}", signal.as_str())));
        }
        let child = command.spawn().map_err(|e| {
            io::Error::new(e.kind(), format!("cannot start {}: {e}", spec.program.display()))
        })?;
        registry.add_run(pid_of(&child), dir.path().to_path_buf());
        child
    };
    let leader = pid_of(&child);
    let namespace = match child.stdin.take() {
        Some(go) => hold_namespace(leader, dir.path(), go, start + spec.timeout),
        None => Ok(None),
    };
    let result = namespace.and_then(|namespace| {
        let outcome = watch(spec, &mut child, leader, dir.path(), start, namespace.as_ref());
        // The namespace is let go only now that every process of the run is gone.
        drop(namespace);
        outcome
    });
    // The leader was left unreaped, so that its PID (and group ID) could not be reused while
    // the run's processes were being killed by them: reap it now.
    let _ = waitpid(leader, None);
    interrupt::registry().remove_run(leader);
    let mut outcome = result?;
    for (folder, wrap) in
        [(&tmp, Leftover::TmpFile as fn(String) -> Leftover), (&work, Leftover::WorkFile)]
    {
        outcome.leftovers.extend(list_dir(folder)?.into_iter().map(wrap));
    }
    Ok(outcome)
}

/// A run's IPC namespace, held open for as long as the run is checked.
struct Namespace {
    inode: u64,
    _handle: fs::File,
}

/// Waits for the launcher to report its namespace, opens it, and lets the launcher go on (by
/// closing `go`, its stdin). `None` when the launcher failed before it got that far (its report
/// says why).
fn hold_namespace(
    leader: Pid,
    dir: &Path,
    go: std::process::ChildStdin,
    deadline: Instant,
) -> io::Result<Option<Namespace>> {
    loop {
        let report = Report::read(dir)?;
        if let Some(inode) = report.ipc_ns {
            let handle = fs::File::open(format!("/proc/{leader}/ns/ipc"))?;
            let link = fs::read_link(format!("/proc/{leader}/ns/ipc"))?;
            if !link.to_string_lossy().contains(&format!("[{inode}]")) {
                return Err(io::Error::other(format!(
                    "the launcher reported namespace {inode} but is in {}",
                    link.display()
                )));
            }
            drop(go);
            return Ok(Some(Namespace { inode, _handle: handle }));
        }
        if report.error.is_some() || Instant::now() > deadline {
            drop(go);
            return Ok(None);
        }
        // Has the launcher exited without a word? Then there is nothing to hold.
        match nix::sys::wait::waitid(
            nix::sys::wait::Id::Pid(leader),
            nix::sys::wait::WaitPidFlag::WEXITED
                | nix::sys::wait::WaitPidFlag::WNOHANG
                | nix::sys::wait::WaitPidFlag::WNOWAIT,
        ) {
            Ok(nix::sys::wait::WaitStatus::StillAlive) => {}
            _ => {
                drop(go);
                return Ok(None);
            }
        }
        thread::sleep(Duration::from_micros(200));
    }
}

/// Everything between spawning the run's first process and its last one being gone.
fn watch(
    spec: &Spec,
    child: &mut Child,
    leader: Pid,
    dir: &Path,
    start: Instant,
    namespace: Option<&Namespace>,
) -> io::Result<Outcome> {
    let ipc_ns = namespace.map(|n| n.inode);
    let (tx, rx) = mpsc::channel();
    let stdout_mode = spec.stdout;
    let readers = [
        child.stdout.take().map(|mut out| {
            spawn_thread(tx.clone(), move || {
                Event::Stdout(match stdout_mode {
                    StdoutMode::CloseAfterLines(lines) => read_lines_then_close(&mut out, lines),
                    StdoutMode::Capture | StdoutMode::DevFull => read_bounded(&mut out, KEEP),
                })
            })
        }),
        child.stderr.take().map(|mut err| {
            spawn_thread(tx.clone(), move || Event::Stderr(read_bounded(&mut err, KEEP)))
        }),
    ];
    for reader in readers {
        if let Some(Err(e)) = reader {
            kill_everything(leader, None)?;
            let _ = child.wait();
            return Err(io::Error::new(
                e.kind(),
                format!("verify cannot start a thread to read the output: {e}"),
            ));
        }
    }
    // The waiter owns a second handle on the same process: `Child::wait` needs `&mut`.
    let pid = leader;
    if let Err(e) = spawn_thread(tx, move || Event::Exit(wait_for(pid))) {
        kill_everything(leader, None)?;
        let _ = child.wait();
        return Err(io::Error::new(
            e.kind(),
            format!("verify cannot start a thread to wait for the run: {e}"),
        ));
    }

    let mut exit: Option<ExitStatus> = None;
    // With stdout on /dev/full there is nothing to read.
    let mut out: Option<Captured> = (spec.stdout == StdoutMode::DevFull).then(Captured::default);
    let mut err: Option<Captured> = None;
    let deadline = start + spec.timeout;
    let mut timed_out = false;
    // How the main process had ended when the timeout struck, if it had.
    let mut main_at_timeout = None;
    let mut leftovers = Vec::new();
    // A poke's delay counts from here, when the launcher has been let go to start the program,
    // not from the start of the run, which includes the sandbox's own setup.
    let (mut poke, mut poked, poke_start) = (spec.poke, false, Instant::now());
    while exit.is_none() || out.is_none() || err.is_none() {
        let now = Instant::now();
        let mut wait = if timed_out {
            (deadline + KILL_GRACE).saturating_duration_since(now)
        } else {
            deadline.saturating_duration_since(now)
        };
        if let Some((what, after)) = poke {
            if now >= poke_start + after {
                if exit.is_none() {
                    poked = send(what, spec, leader, ipc_ns)?;
                }
                poke = None;
                continue;
            }
            wait = wait.min(poke_start + after - now);
        }
        match rx.recv_timeout(wait) {
            Ok(Event::Exit(status)) => exit = Some(status?),
            Ok(Event::Stdout(bytes)) => out = Some(bytes?),
            Ok(Event::Stderr(bytes)) => err = Some(bytes?),
            Err(mpsc::RecvTimeoutError::Timeout) if poke.is_some() => {}
            Err(mpsc::RecvTimeoutError::Timeout) if !timed_out => {
                timed_out = true;
                let report = report_of(spec, dir)?;
                main_at_timeout = main_ending(spec, exit, &report);
                // Name what was still running before it is gone; the main process is not a
                // leftover, it is what timed out.
                let found = descendants(leader, ipc_ns)?;
                leftovers.extend(
                    found
                        .iter()
                        .filter(|p| p.pid != leader.as_raw() && p.ppid != leader.as_raw())
                        .map(as_leftover),
                );
                kill_everything(leader, ipc_ns)?;
            }
            Err(_) => break,
        }
    }
    let elapsed = start.elapsed();
    let output_abandoned = out.is_none() || err.is_none();

    let report = report_of(spec, dir)?;
    if !timed_out {
        let mut found = descendants(leader, ipc_ns)?;
        if spec.stops_early {
            let settled = Instant::now() + SETTLE;
            while found.iter().any(|p| !p.is_zombie()) && Instant::now() < settled {
                thread::sleep(Duration::from_millis(5));
                found = descendants(leader, ipc_ns)?;
            }
            found.retain(|p| !p.is_zombie());
        }
        leftovers.extend(found.iter().map(as_leftover));
    }
    kill_everything(leader, ipc_ns)?;

    let ending = if timed_out {
        Ending::TimedOut { main_exited: main_at_timeout }
    } else {
        let status = exit.expect("the loop ends with an exit status unless it timed out");
        match (&spec.isolation, &report) {
            (Isolation::Shared { .. }, _) => ending_of(status),
            (_, Report { error: Some(e), .. }) => Ending::NotRun(format!("sandbox: {e}")),
            (_, Report { ending: Some(e), .. }) => match e {
                LauncherEnding::Exited(code) => Ending::Exited(*code),
                LauncherEnding::Signaled(signal) => Ending::Signaled(*signal),
            },
            (_, _) => Ending::NotRun(format!(
                "the sandbox launcher {} without a report",
                describe_status(status)
            )),
        }
    };
    leftovers.extend(report.shm.iter().cloned().map(Leftover::Shm));
    leftovers.extend(report.queues.iter().cloned().map(Leftover::Queue));
    leftovers.extend(report.sysv.iter().cloned().map(Leftover::SysV));
    Ok(Outcome {
        ending,
        stdout: out.unwrap_or_default(),
        stderr: err.unwrap_or_default(),
        elapsed,
        leftovers,
        output_abandoned,
        poked,
    })
}

/// Sends a [`Poke`]: to the group, or to the program, which in a sandbox is the launcher's
/// child (none yet, or none left: nothing is sent). Returns whether it was sent.
fn send(poke: Poke, spec: &Spec, leader: Pid, ipc_ns: Option<u64>) -> io::Result<bool> {
    let sent = match poke {
        Poke::Group(signal) => killpg(leader, signal),
        Poke::Program(signal) => {
            let program = match spec.isolation {
                Isolation::Shared { .. } => Some(leader),
                Isolation::Namespaces { .. } => descendants(leader, ipc_ns)?
                    .iter()
                    .find(|p| p.ppid == leader.as_raw() && !p.is_zombie())
                    .map(|p| Pid::from_raw(p.pid)),
            };
            match program {
                Some(pid) => kill(pid, signal),
                None => return Ok(false),
            }
        }
    };
    match sent {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(io::Error::other(format!("cannot send {poke:?}: {e}"))),
    }
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).expect("pids fit in i32"))
}

fn spawn_thread(
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

/// Waits for the run's main process to end, without reaping it (`WNOWAIT`): until it is reaped
/// at the very end, its PID, which is also the run's process group ID, cannot be given to
/// another process, so killing by it cannot hit anything else.
fn wait_for(pid: Pid) -> io::Result<ExitStatus> {
    loop {
        // Safety: an all-zero siginfo_t is a valid value for waitid to fill in.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // Safety: waitid writes one siginfo_t through a pointer to a live local.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid.as_raw() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            // Safety: after a successful waitid with WEXITED, si_status is set.
            let status = unsafe { info.si_status() };
            return Ok(ExitStatus::from_raw(match info.si_code {
                libc::CLD_EXITED => (status & 0xff) << 8,
                libc::CLD_DUMPED => status | 0x80,
                _ => status,
            }));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn report_of(spec: &Spec, dir: &Path) -> io::Result<Report> {
    match spec.isolation {
        Isolation::Namespaces { .. } => Report::read(dir),
        Isolation::Shared { .. } => Ok(Report::default()),
    }
}

/// How the example itself had ended, if it had.
fn main_ending(spec: &Spec, exit: Option<ExitStatus>, report: &Report) -> Option<String> {
    match spec.isolation {
        Isolation::Namespaces { .. } => report.ending.map(|e| e.to_string()),
        Isolation::Shared { .. } => exit.map(describe_status),
    }
}

fn ending_of(status: ExitStatus) -> Ending {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signaled(signal),
        (None, None) => unreachable!("an ended process has a code or a signal"),
    }
}

pub fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with {code}"),
        (None, Some(signal)) => format!("killed by {}", signal_name(signal)),
        (None, None) => format!("{status}"),
    }
}

/// Every process of the run led by `leader` except the leader itself: its process group, its
/// IPC namespace, and the orphans handed to us that belong to no other run.
fn descendants(leader: Pid, ipc_ns: Option<u64>) -> io::Result<Vec<Proc>> {
    let registry = interrupt::registry();
    procs::scan(|p| registry.belongs_to_run(p, leader.as_raw(), ipc_ns))
}

fn as_leftover(p: &Proc) -> Leftover {
    if p.is_zombie() { Leftover::Unreaped(p.describe()) } else { Leftover::Process(p.describe()) }
}

/// Kills the group and every process of the run, until none is left, and reaps those that
/// were handed to us. The leader itself is reaped by its waiter thread.
fn kill_everything(leader: Pid, ipc_ns: Option<u64>) -> io::Result<()> {
    match killpg(leader, Signal::SIGKILL) {
        Ok(()) | Err(Errno::ESRCH) | Err(Errno::EPERM) => {}
        Err(e) => {
            return Err(io::Error::other(format!("cannot kill process group {leader}: {e}")));
        }
    }
    let me = std::process::id() as i32;
    // A process can fork while we kill its parent; a few rounds catch the latecomers.
    for _ in 0..100 {
        let found = descendants(leader, ipc_ns)?;
        if found.is_empty() {
            return Ok(());
        }
        for p in &found {
            if p.is_zombie() {
                if p.ppid == me {
                    // Reaping an orphan that was handed to us; it is ours, nobody else waits.
                    let _ = waitpid(Pid::from_raw(p.pid), None);
                }
            } else {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
            }
        }
        thread::sleep(Duration::from_millis(2));
    }
    Err(io::Error::other(format!(
        "processes of the run led by {leader} keep appearing after 100 rounds of SIGKILL"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Orphans are told apart by process group only where namespaces are not used, as here:
    /// tests that run at once in this process could take each other's. One at a time.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn sh(script: &str, timeout_ms: u64) -> Outcome {
        let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        become_subreaper().expect("prctl works on Linux");
        run(&Spec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            timeout: Duration::from_millis(timeout_ms),
            isolation: Isolation::Shared { why: "unit test".into() },
            stdout: StdoutMode::Capture,
            limits: Limits::default(),
            stops_early: false,
            cpu: None,
            path_first: None,
            poke: None,
        })
    }

    /// The PID the fixture printed with `echo $!`.
    fn printed_pid(o: &Outcome) -> i32 {
        String::from_utf8_lossy(&o.stdout.bytes).trim().parse().expect("the fixture prints a PID")
    }

    fn alive(pid: i32) -> bool {
        // After a SIGKILL the process can linger as a zombie for a moment; /proc tells the state.
        procs::scan(|p| p.pid == pid).is_ok_and(|found| found.iter().any(|p| !p.is_zombie()))
    }

    #[test]
    fn clean_run_reports_output_and_status() {
        let o = sh("echo out; echo err >&2; exit 3", 5000);
        assert_eq!(o.ending, Ending::Exited(3));
        assert_eq!(o.stdout.bytes, b"out\n");
        assert_eq!(o.stderr.bytes, b"err\n");
        assert!(o.leftovers.is_empty(), "{:?}", o.leftovers);
    }

    #[test]
    fn environment_is_fixed_and_stdin_is_empty() {
        let o = sh(
            "echo \"$LANG $HOME\"; test -d \"$TMPDIR\" && echo tmp; cat; echo end; \
             test \"$(ls -A)\" = '' && echo empty cwd",
            5000,
        );
        assert_eq!(String::from_utf8_lossy(&o.stdout.bytes), "C \ntmp\nend\nempty cwd\n");
    }

    #[test]
    fn signal_is_reported() {
        let o = sh("kill -TERM $$", 5000);
        assert_eq!(o.ending, Ending::Signaled(15));
    }

    #[test]
    fn hang_is_killed_at_the_timeout_and_is_not_a_leftover() {
        let o = sh("echo before; exec sleep 30", 300);
        assert!(matches!(o.ending, Ending::TimedOut { main_exited: None }));
        assert_eq!(o.stdout.bytes, b"before\n");
        assert!(o.elapsed < Duration::from_millis(1300), "{:?}", o.elapsed);
        assert!(o.leftovers.is_empty(), "{:?}", o.leftovers);
    }

    #[test]
    fn grandchild_holding_stdout_does_not_stretch_the_timeout() {
        let start = Instant::now();
        // The shell exits at once; its background `sleep` keeps the stdout pipe open.
        let o = sh("sleep 30 & echo $! ; exit 0", 500);
        let waited = start.elapsed();
        assert!(waited < Duration::from_millis(1500), "took {waited:?}");
        assert_eq!(o.ending, Ending::TimedOut { main_exited: Some("exited with 0".into()) });
        let pid = printed_pid(&o);
        assert_eq!(o.leftovers, vec![Leftover::Process(format!("{pid} (sleep 30)"))]);
        assert!(!alive(pid), "the grandchild was killed");
    }

    #[test]
    fn process_left_running_is_reported_and_killed() {
        let o = sh("sleep 30 >/dev/null 2>&1 & echo $!", 5000);
        assert_eq!(o.ending, Ending::Exited(0));
        let pid = printed_pid(&o);
        assert_eq!(o.leftovers, vec![Leftover::Process(format!("{pid} (sleep 30)"))]);
        assert!(!alive(pid));
    }

    #[test]
    fn process_that_left_the_group_is_found_and_killed() {
        // setsid puts `sleep` in a new session and process group; its parent (the subshell)
        // exits, so it is handed to us as an orphan.
        let o = sh("(setsid sleep 31 >/dev/null 2>&1 &); sleep 0.1; echo done", 5000);
        assert_eq!(o.ending, Ending::Exited(0));
        let found: Vec<&Leftover> = o
            .leftovers
            .iter()
            .filter(|l| matches!(l, Leftover::Process(what) if what.ends_with("(sleep 31)")))
            .collect();
        assert_eq!(found.len(), 1, "{:?}", o.leftovers);
        assert!(procs::scan(|p| p.cmdline == "sleep 31").unwrap().is_empty());
    }

    #[test]
    fn unreaped_child_is_reported() {
        // The shell starts `true` and then becomes `sleep`, which never waits for it: when sleep
        // exits, the zombie is handed to us.
        let o = sh("/bin/true & exec sleep 0.2", 5000);
        assert_eq!(o.ending, Ending::Exited(0));
        assert!(
            matches!(o.leftovers.as_slice(), [Leftover::Unreaped(what)] if what.ends_with("(true)")),
            "{:?}",
            o.leftovers
        );
    }

    #[test]
    fn files_left_in_tmpdir_and_working_directory_are_reported() {
        let o = sh("touch \"$TMPDIR/stale.lock\"; mkdir \"$TMPDIR/d\"; touch out.txt", 5000);
        assert_eq!(
            o.leftovers,
            vec![
                Leftover::TmpFile("d".into()),
                Leftover::TmpFile("stale.lock".into()),
                Leftover::WorkFile("out.txt".into()),
            ]
        );
    }

    #[test]
    fn runaway_output_is_bounded_and_reported_on_time() {
        let start = Instant::now();
        let o = sh("yes 'a line of runaway output'", 500);
        assert!(start.elapsed() < Duration::from_millis(2500), "{:?}", start.elapsed());
        assert!(matches!(o.ending, Ending::TimedOut { .. }));
        assert_eq!(o.stdout.bytes.len(), KEEP);
        assert!(o.stdout.dropped > 0);
    }

    #[test]
    fn a_program_that_cannot_start_is_a_failed_run() {
        become_subreaper().expect("prctl works on Linux");
        let o = run(&Spec {
            program: "/nonexistent/program".into(),
            args: Vec::new(),
            timeout: Duration::from_secs(1),
            isolation: Isolation::Shared { why: "test".into() },
            stdout: StdoutMode::Capture,
            limits: Limits::default(),
            stops_early: false,
            cpu: None,
            path_first: None,
            poke: None,
        });
        assert!(
            matches!(&o.ending, Ending::NotRun(why) if why.starts_with("cannot start /nonexistent/program")),
            "{:?}",
            o.ending
        );
    }
}
