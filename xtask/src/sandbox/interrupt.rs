//! Ctrl-C, SIGTERM and SIGHUP: stop everything this process started, remove what it made, and
//! exit with the conventional status (128 + the signal's number).
//!
//! Each example runs in its own process group, so the terminal's Ctrl-C never reaches it: only
//! xtask hears it. [`install`] blocks the three signals in every thread (before any thread
//! exists, so every later thread inherits the mask) and waits for them on a thread of its own.
//! A child process would inherit the blocked mask too (std's `Command` leaves it as it is), and
//! then never see Ctrl-C or SIGTERM: every command xtask starts goes through [`unblocked`].
//!
//! Whatever starts a process registers it here first, under one lock, so that a signal arriving
//! between "spawned" and "registered" cannot miss it: the handler takes the same lock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal, kill, killpg};
use nix::unistd::Pid;

use crate::sandbox::procs::{self, Proc};
use crate::sandbox::report::Report;

const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// How long a process that was passed the signal (the bench) gets to clean up and exit.
const FORWARD_GRACE: Duration = Duration::from_secs(10);

/// How long a build (a forwarded process group) gets before it is killed.
const BUILD_GRACE: Duration = Duration::from_millis(500);

#[derive(Default)]
pub struct Registry {
    interrupted: Option<Signal>,
    /// Runs in progress, by process group: the folder each made.
    runs: BTreeMap<i32, RunEntry>,
    /// Processes that clean up after themselves: they get the signal and time to exit. `true`:
    /// the process leads its own group, and the whole group gets the signal (cargo and the
    /// compilers it runs).
    forwarded: Vec<(Pid, bool)>,
    /// Processes of verify's own that no run may claim (the spinners of `--stress`).
    helpers: Vec<i32>,
    /// Folders of ours in the temp dir (see [`OwnedDir`]): removed on a stop.
    folders: Vec<PathBuf>,
}

struct RunEntry {
    /// The run's folder; in a sandbox, its report names the run's IPC namespace.
    dir: PathBuf,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    interrupted: None,
    runs: BTreeMap::new(),
    forwarded: Vec::new(),
    helpers: Vec::new(),
    folders: Vec::new(),
});

/// A new folder in the temp dir that a stop removes, whenever it comes. It is made and
/// registered under the registry's lock, and removed and unregistered under it, so that no
/// Ctrl-C can fall between the folder's existence and the handler's knowledge of it.
pub struct OwnedDir {
    path: PathBuf,
}

impl OwnedDir {
    pub fn create(prefix: &str) -> std::io::Result<OwnedDir> {
        let mut registry = registry();
        if let Some(signal) = registry.interrupted() {
            return Err(std::io::Error::other(format!("stopped by {}", signal.as_str())));
        }
        let path = tempfile::Builder::new().prefix(prefix).tempdir()?.keep();
        registry.folders.push(path.clone());
        Ok(OwnedDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for OwnedDir {
    fn drop(&mut self) {
        let mut registry = registry();
        let _ = std::fs::remove_dir_all(&self.path);
        registry.folders.retain(|p| *p != self.path);
    }
}

/// The registry, locked. A panic elsewhere must not stop Ctrl-C from cleaning up.
pub fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Registry {
    /// `Some(signal)` once a stop was asked for: start nothing new.
    pub fn interrupted(&self) -> Option<Signal> {
        self.interrupted
    }

    pub fn add_run(&mut self, pgid: Pid, dir: PathBuf) {
        self.runs.insert(pgid.as_raw(), RunEntry { dir });
    }

    pub fn remove_run(&mut self, pgid: Pid) {
        self.runs.remove(&pgid.as_raw());
    }

    /// Whether `pid` leads one of the runs in progress (the process xtask started for it).
    pub fn is_run_leader(&self, pid: i32) -> bool {
        self.runs.contains_key(&pid)
    }

    /// Whether `p` is a process of the run led by `leader`, the leader itself excluded: in its
    /// process group, in its IPC namespace (which `setsid` does not change), or an orphan handed
    /// to us that belongs to no other run and is not one of our helpers.
    pub fn belongs_to_run(&self, p: &Proc, leader: i32, ipc_ns: Option<u64>) -> bool {
        let me = std::process::id() as i32;
        p.pid != me
            && p.pid != leader
            && (p.pgrp == leader
                || (ipc_ns.is_some() && p.ipc_ns == ipc_ns)
                || (p.ppid == me
                    && !self.is_run_leader(p.pid)
                    && !self.is_run_leader(p.pgrp)
                    && !self.is_helper(p.pid)))
    }

    /// Whether a process of a run sent a signal to verify. An example's child that signals its
    /// parent (`kill(getppid(), SIGINT)`) reaches verify once its parent is gone, since verify
    /// is the reaper of the runs' orphans: that is not a user's Ctrl-C, and is ignored.
    fn sent_by_a_run(&self, sender: i32) -> bool {
        let me = std::process::id() as i32;
        if sender <= 0 || sender == me {
            return false;
        }
        let found = procs::scan(|p| p.pid == sender).unwrap_or_default();
        found.iter().any(|p| {
            self.runs.contains_key(&p.pgrp)
                || (p.ppid == me
                    && !self.is_helper(p.pid)
                    && !self.forwarded.iter().any(|f| f.0.as_raw() == p.pid))
        })
    }

    pub fn add_helper(&mut self, pid: Pid) {
        self.helpers.push(pid.as_raw());
    }

    pub fn remove_helper(&mut self, pid: Pid) {
        self.helpers.retain(|p| *p != pid.as_raw());
    }

    pub fn is_helper(&self, pid: i32) -> bool {
        self.helpers.contains(&pid)
    }

    /// `own_group`: the process leads a process group of its own.
    pub fn add_forwarded(&mut self, pid: Pid, own_group: bool) {
        self.forwarded.push((pid, own_group));
    }

    pub fn remove_forwarded(&mut self, pid: Pid) {
        self.forwarded.retain(|(p, _)| *p != pid);
    }
}

/// A program xtask runs for the user (cargo, the bench, pip), which a SIGTERM sent to xtask
/// alone, or a Ctrl-C, reaches too, until it has been waited for.
pub struct Forwarded {
    child: std::process::Child,
}

/// Starts `command` with no signal blocked and passes signals on to it (see [`stop`]).
/// `own_group`: the command was made to lead a process group of its own.
pub fn spawn_forwarded(
    command: &mut std::process::Command,
    own_group: bool,
) -> std::io::Result<Forwarded> {
    unblocked(command);
    let mut registry = registry();
    if let Some(signal) = registry.interrupted() {
        return Err(std::io::Error::other(format!("stopped by {}", signal.as_str())));
    }
    let child = command.spawn()?;
    registry.add_forwarded(Pid::from_raw(child.id() as i32), own_group);
    Ok(Forwarded { child })
}

/// Runs `command` to its end, started as [`spawn_forwarded`] starts it, and returns its status.
pub fn run_forwarded(
    command: &mut std::process::Command,
    own_group: bool,
) -> std::io::Result<std::process::ExitStatus> {
    spawn_forwarded(command, own_group)?.wait()
}

impl Forwarded {
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    pub fn wait(mut self) -> std::io::Result<std::process::ExitStatus> {
        let status = self.child.wait();
        registry().remove_forwarded(Pid::from_raw(self.child.id() as i32));
        status
    }
}

/// Makes `command` start its process with no signal blocked, as it would from a shell.
pub fn unblocked(command: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // Safety: the closure runs in the forked child before exec and makes one async-signal-safe
    // call (sigprocmask) on a set built in the closure's own stack; it allocates nothing.
    unsafe {
        command.pre_exec(|| {
            nix::sys::signal::sigprocmask(
                nix::sys::signal::SigmaskHow::SIG_SETMASK,
                Some(&SigSet::empty()),
                None,
            )
            .map_err(std::io::Error::from)
        })
    }
}

/// Blocks SIGINT, SIGTERM and SIGHUP and starts the thread that handles them. Call it before
/// any other thread is started.
pub fn install() -> std::io::Result<()> {
    let mut set = SigSet::empty();
    for signal in SIGNALS {
        set.add(signal);
    }
    set.thread_block().map_err(std::io::Error::from)?;
    thread::Builder::new().name("xtask-signals".into()).spawn(move || {
        loop {
            if let Some((signal, sender)) = wait_for_signal(&set)
                && !registry().sent_by_a_run(sender)
            {
                stop(signal);
            }
        }
    })?;
    Ok(())
}

/// The next of `set`'s signals, and the PID of the process that sent it (0 from the kernel or a
/// terminal).
fn wait_for_signal(set: &SigSet) -> Option<(Signal, i32)> {
    let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::uninit();
    // Safety: sigwaitinfo fills `info` when it returns a signal number; `set` is a valid set.
    let number = unsafe { libc::sigwaitinfo(set.as_ref(), info.as_mut_ptr()) };
    if number < 0 {
        return None; // EINTR: wait again
    }
    // Safety: sigwaitinfo returned a signal, so it wrote `info`.
    let sender = unsafe { info.assume_init().si_pid() };
    Some((Signal::try_from(number).ok()?, sender))
}

/// Kills every run, passes the signal on to the processes that clean up for themselves,
/// removes the runs' folders and exits. Never returns.
fn stop(signal: Signal) -> ! {
    let mut registry = registry();
    registry.interrupted = Some(signal);
    let runs = registry.runs.len();
    for &pgid in registry.runs.keys() {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    // What left its group (setsid) is found by its namespace, or as an orphan given to us.
    let runs_and_namespaces: Vec<(i32, Option<u64>)> = registry
        .runs
        .iter()
        .map(|(&leader, run)| (leader, Report::read(&run.dir).ok().and_then(|r| r.ipc_ns)))
        .collect();
    let forwarded = registry.forwarded.clone();
    let forwarded_group = |p: &procs::Proc| {
        forwarded.iter().any(|&(pid, own)| pid.as_raw() == p.pid || (own && pid.as_raw() == p.pgrp))
    };
    for _ in 0..50 {
        let Ok(found) = procs::scan(|p| {
            !p.is_zombie()
                && !forwarded_group(p)
                && (registry.is_helper(p.pid)
                    || runs_and_namespaces
                        .iter()
                        .any(|&(leader, ns)| registry.belongs_to_run(p, leader, ns)))
        }) else {
            break;
        };
        if found.is_empty() {
            break;
        }
        for p in found {
            let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
        }
        thread::sleep(Duration::from_millis(5));
    }
    for &(pid, own_group) in &forwarded {
        let _ = if own_group { killpg(pid, signal) } else { kill(pid, signal) };
    }
    let started = Instant::now();
    let mut escalated = false;
    while started.elapsed() < FORWARD_GRACE
        && procs::scan(|p| !p.is_zombie() && forwarded_group(p))
            .is_ok_and(|found| !found.is_empty())
    {
        // cargo finishes the compilers it runs before it obeys SIGTERM; a build has nothing to
        // clean up that SIGKILL would skip, so it gets a short grace only.
        if !escalated && started.elapsed() > BUILD_GRACE {
            escalated = true;
            for &(pid, own_group) in &forwarded {
                if own_group {
                    let _ = killpg(pid, Signal::SIGKILL);
                }
            }
        }
        thread::sleep(Duration::from_millis(10));
    }
    for run in registry.runs.values() {
        let _ = std::fs::remove_dir_all(&run.dir);
    }
    for folder in &registry.folders {
        let _ = std::fs::remove_dir_all(folder);
    }
    if runs > 0 {
        eprintln!(
            "xtask: {}: killed {runs} run{} in progress and removed {}",
            signal.as_str(),
            if runs == 1 { "" } else { "s" },
            if runs == 1 { "its folder" } else { "their folders" }
        );
    }
    std::process::exit(128 + signal as i32)
}
