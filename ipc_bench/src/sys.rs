//! Process plumbing every benchmark shares: forking by the rules the examples teach, placing the
//! two processes on CPUs, and holding off interrupts while a named object has a name.

use std::fs;
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill, sigprocmask};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, getpid, getppid};

use crate::Result;

/// fork is only safe in a process with one thread: the child of a multithreaded process gets
/// one thread and possibly locks held by threads that no longer exist. This program never
/// starts a thread; this check makes sure no library did either.
pub fn check_single_threaded() -> Result<()> {
    let threads = fs::read_dir("/proc/self/task")?.count();
    if threads != 1 {
        return Err(
            format!("ipc_bench forks, so it must run one thread, but it has {threads}").into()
        );
    }
    Ok(())
}

/// Waits (up to 100 ms) for threads that were joined a moment ago to leave /proc, then checks
/// that this process has one thread: call it before forking after threads have run.
pub fn settle_single_threaded() -> Result<()> {
    for _ in 0..100 {
        if check_single_threaded().is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    check_single_threaded()
}

/// A name for a POSIX queue or shared-memory object, unique per process and call. Created with
/// O_EXCL, a name someone else holds (or planted) fails instead of being shared.
pub fn unique_name(kind: &str) -> String {
    static CREATED: AtomicU32 = AtomicU32::new(0);
    format!("/ipc_bench-{kind}-{}-{}", getpid(), CREATED.fetch_add(1, Ordering::Relaxed))
}

/// While alive, SIGINT, SIGTERM, SIGHUP and SIGQUIT are held pending instead of delivered.
///
/// Named IPC objects are unlinked right after they are opened, but between the two calls a
/// Ctrl-C would kill the process and leave the name behind until reboot. Holding the signals
/// across that window closes it: a pending Ctrl-C is delivered, and kills the process, when the
/// guard is dropped, after the unlink. (SIGKILL cannot be held; see README.md.)
pub struct SignalsHeld {
    previous: SigSet,
}

impl SignalsHeld {
    pub fn new() -> Result<SignalsHeld> {
        let mut held = SigSet::empty();
        for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT] {
            held.add(signal);
        }
        let mut previous = SigSet::empty();
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&held), Some(&mut previous))?;
        Ok(SignalsHeld { previous })
    }
}

impl Drop for SignalsHeld {
    fn drop(&mut self) {
        // Cannot fail with a valid `how` and set; there is nothing useful to do if it did.
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.previous), None);
    }
}

/// Where the two processes of a measurement run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Wherever the scheduler puts them.
    Unpinned,
    /// Both pinned to one CPU: every hand-over is a context switch.
    SameCore,
    /// Pinned to two different CPUs: every hand-over crosses between cores.
    DifferentCores,
}

impl Placement {
    pub const ALL: [Placement; 3] =
        [Placement::Unpinned, Placement::SameCore, Placement::DifferentCores];

    pub fn name(self) -> &'static str {
        match self {
            Placement::Unpinned => "unpinned",
            Placement::SameCore => "same core",
            Placement::DifferentCores => "different cores",
        }
    }
}

/// The CPUs this process may run on, read once at start.
pub struct Cpus {
    original: CpuSet,
    allowed: Vec<usize>,
}

impl Cpus {
    pub fn read() -> Result<Cpus> {
        let original = sched_getaffinity(Pid::from_raw(0))?;
        let allowed =
            (0..CpuSet::count()).filter(|&cpu| original.is_set(cpu).unwrap_or(false)).collect();
        Ok(Cpus { original, allowed })
    }

    pub fn allowed(&self) -> &[usize] {
        &self.allowed
    }

    /// Whether this placement can be made here: two different cores need two CPUs.
    pub fn can_place(&self, placement: Placement) -> bool {
        placement != Placement::DifferentCores || self.allowed.len() >= 2
    }

    /// Pins this process (the parent) for `placement`, until the guard is dropped. The child
    /// inherits the parent's affinity over `fork`, and calls [`Pinned::pin_child`].
    pub fn pin(&self, placement: Placement) -> Result<Pinned<'_>> {
        let (parent, child) = match placement {
            Placement::Unpinned => (None, None),
            Placement::SameCore => (Some(self.allowed[0]), None),
            Placement::DifferentCores => (Some(self.allowed[0]), Some(self.allowed[1])),
        };
        if let Some(cpu) = parent {
            sched_setaffinity(Pid::from_raw(0), &single(cpu)?)?;
        }
        PEER_ELSEWHERE.store(
            match placement {
                Placement::Unpinned => self.allowed.len() > 1,
                Placement::SameCore => false,
                Placement::DifferentCores => true,
            },
            Ordering::Relaxed,
        );
        Ok(Pinned { cpus: self, child })
    }
}

/// Whether the other end of a link can run while this process waits for it: set by
/// [`Cpus::pin`] before the fork, so the child inherits it. A wait may spin briefly only then;
/// on one CPU a spin only delays the peer it waits for.
static PEER_ELSEWHERE: AtomicBool = AtomicBool::new(false);

pub fn peer_may_run_meanwhile() -> bool {
    PEER_ELSEWHERE.load(Ordering::Relaxed)
}

fn single(cpu: usize) -> Result<CpuSet> {
    let mut set = CpuSet::new();
    set.set(cpu)?;
    Ok(set)
}

/// The parent's placement; dropping it gives the parent back every CPU it had.
pub struct Pinned<'a> {
    cpus: &'a Cpus,
    child: Option<usize>,
}

impl Pinned<'_> {
    /// Called in the child right after `fork`: moves it to its own CPU if the placement has one.
    pub fn pin_child(&self) -> Result<()> {
        if let Some(cpu) = self.child {
            pin_current(cpu)?;
        }
        Ok(())
    }

    /// The CPU the peer goes to, if the placement has one for it: for a peer thread, which
    /// pins itself with [`pin_current`].
    pub fn child_cpu(&self) -> Option<usize> {
        self.child
    }
}

/// Pins the calling thread (the whole process, if it has one thread) to `cpu`.
pub fn pin_current(cpu: usize) -> Result<()> {
    sched_setaffinity(Pid::from_raw(0), &single(cpu)?)?;
    Ok(())
}

impl Drop for Pinned<'_> {
    fn drop(&mut self) {
        // Restoring a mask the kernel gave us cannot fail unless CPUs went offline meanwhile;
        // then the next `pin` reports the problem.
        let _ = sched_setaffinity(Pid::from_raw(0), &self.cpus.original);
        PEER_ELSEWHERE.store(false, Ordering::Relaxed);
    }
}

/// A forked child that is killed and reaped if the parent gives up on it. Call
/// [`Child::wait`] on the normal path to learn how it ended.
pub struct Child {
    pid: Option<Pid>,
}

pub enum Forked {
    Parent(Child),
    Child,
}

/// `fork`, by the rules the examples teach: stdout and stderr flushed first (anything still
/// buffered would be written twice), and the child set to die with the parent (PDEATHSIG), so
/// that a bench that is killed leaves no process behind. The child must end with
/// [`exit_child`].
pub fn fork() -> Result<Forked> {
    io::stdout().flush()?;
    io::stderr().flush()?;
    let parent = getpid();
    // Safety: the process has one thread (checked at start by `check_single_threaded`), so the
    // child is a complete copy of a single-threaded process and may allocate and use its
    // copies of every object.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Parent { child } => Ok(Forked::Parent(Child { pid: Some(child) })),
        ForkResult::Child => {
            if let Err(error) = set_pdeathsig(Signal::SIGKILL) {
                exit_child(Err(error.into()));
            }
            // The parent may have died before PDEATHSIG was set; then no signal will come.
            if getppid() != parent {
                exit_child(Err("the parent is gone".into()));
            }
            Ok(Forked::Child)
        }
    }
}

/// The whole life of a forked child: runs `work` and ends the child with [`exit_child`]. A
/// panic is caught here: unwinding out of the child's work would run the parent's code and
/// destructors in the child (unlink the parent's queue, unmap its rings).
pub fn run_child(work: impl FnOnce() -> Result<()>) -> ! {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(result) => exit_child(result),
        // The panic hook has printed the message.
        Err(_) => exit_child(Err("the child panicked".into())),
    }
}

/// Ends a forked child: status 0, or 101 after printing the error. Returning from `main`
/// instead would run the parent's code and destructors in the child, and `process::exit`
/// would flush buffers that belong to the parent.
pub fn exit_child(result: Result<()>) -> ! {
    let code = match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("ipc_bench child: {error}");
            101
        }
    };
    // Safety: `_exit` takes no pointers and ends the process at once.
    unsafe { libc::_exit(code) }
}

impl Child {
    pub fn pid(&self) -> Pid {
        self.pid.expect("a child not yet waited for has a pid")
    }

    /// Waits for the child to exit and turns anything but exit status 0 into an error.
    pub fn wait(mut self) -> Result<()> {
        let pid = self.pid.take().expect("a child is waited for once");
        match waitpid(pid, None)? {
            WaitStatus::Exited(_, 0) => Ok(()),
            status => Err(format!("the child {}", describe(status)).into()),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            // The parent failed before the normal end: the child may be blocked forever on a
            // link the parent no longer serves. Kill it and reap it, so it is neither left
            // running nor left a zombie.
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited with status {code} (its error is above)"),
        WaitStatus::Signaled(_, signal, _) => format!("was killed by {signal:?}"),
        other => format!("changed state: {other:?}"),
    }
}

/// Makes `command` start a process that dies with this one (PDEATHSIG), as the forked children
/// do: a benchmark stopped by a signal leaves no Python or worker behind.
pub fn dies_with_us(command: &mut Command) -> &mut Command {
    // Safety: prctl is async-signal-safe, as the time between fork and exec requires, and
    // this process is alive while `spawn` waits for the exec.
    unsafe { command.pre_exec(|| set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)) }
}

/// Waits for `child` at most `limit`, then kills it: a spawned program that hangs ends the
/// measurement with an error, not the benchmark with a hang.
pub fn wait_at_most(child: &mut std::process::Child, limit: Duration) -> Result<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(
                format!("a spawned program did not end within {} s", limit.as_secs()).into()
            );
        }
        std::thread::sleep(Duration::from_millis(5)); // tooling, not a recipe: a short poll
    }
}
