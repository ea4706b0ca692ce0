//! Processes in Rust, for a reader coming from Python's `os.fork` and `multiprocessing.Process`.
//!
//! Run it: `cargo run -p process_basic`
//!
//! What it shows, one section each:
//! 1. `fork`: parent and child print their PIDs; the parent reaps the child with `waitpid`;
//! 2. five worker processes by fork, each given its index and exiting with its own status;
//! 3. decoding exit statuses: a normal exit code, a death by signal, `WNOHANG`, `ECHILD`;
//! 4. spawning instead of forking: the program re-runs itself as a worker with
//!    `std::process::Command`, the safe way once a program has threads.
//!
//! Python it replaces: `os.fork()`, `os.getpid()`/`os.getppid()`, `os.wait()`/`os.waitpid()`,
//! `multiprocessing.Process(target=worker, args=(i,))`, `.start()`, `.join()`, `.exitcode`.
//!
//! The rules this file follows, and why (the helpers at the end of the file carry them out):
//! - Fork only while the process has a single thread. This program starts no thread at all.
//! - Flush stdout before every fork, so no half-written buffer is printed twice.
//! - A forked child never returns from its closure into `main`, not even by panicking, and
//!   ends with `libc::_exit`.
//! - Every child is reaped: an exited child stays a zombie until its parent waits for it.
//! - Every child dies with its parent (`PR_SET_PDEATHSIG`), so a killed parent leaves nothing.
//!
//! Man pages worth reading: fork(2), waitpid(2), wait(2) for the status macros, prctl(2) for
//! PR_SET_PDEATHSIG, _exit(2).

use std::io::{self, Write};
use std::process::Command;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpid, getppid, pause};

/// The argument that makes this program act as a spawned worker (section 4).
const WORKER_ROLE: &str = "worker";

fn main() -> std::process::ExitCode {
    exit_status(run())
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(WORKER_ROLE) {
        return spawned_worker(&args[2..]);
    }
    fork_one_child()?;
    fork_workers()?;
    exit_statuses()?;
    spawn_instead_of_fork()?;
    Ok(())
}

/// Section 1: `pid = os.fork()`; `if pid == 0: ... else: os.waitpid(pid, 0)`.
fn fork_one_child() -> Result<()> {
    say!("== 1. fork: one child ==")?;
    let me = getpid();
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            say!("child: my pid is {}, my parent is {}", getpid(), getppid())?;
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    // Waiting first makes the order deterministic: the child has printed and exited before the
    // parent prints anything. No sleep is involved.
    let status = wait_child(child)?;
    check_child(status)?;
    say!("parent: my pid is {me}, my child is {child}")?;
    say!("parent: reaped {child}, it {}", describe(status))?;
    Ok(())
}

/// Section 2: `multiprocessing.Process(target=worker, args=(i,))` five times, then `join` each.
fn fork_workers() -> Result<()> {
    const WORKERS: i32 = 5;
    say!("== 2. five worker processes ==")?;
    let mut children = Vec::new();
    for index in 0..WORKERS {
        // The child gets `index` simply by being a copy of this process: fork copies every
        // variable, which is how `args=(i,)` reaches a forked worker.
        match fork_flushed()? {
            Forked::Child(parent) => run_child(parent, || {
                let code = 10 + index;
                say!(
                    "worker {index}: pid {}, parent {}, exiting with {code}",
                    getpid(),
                    getppid()
                )?;
                Ok(code)
            }),
            Forked::Parent(child) => children.push((index, child)),
        }
    }
    // The workers run at once and print in any order; reaping every one before printing keeps
    // the parent's report after all of their lines.
    let mut reaped = Vec::new();
    for (index, child) in children {
        let status = wait_child(child)?;
        expect_exit(status, 10 + index)?;
        reaped.push((index, child, status));
    }
    for (index, child, status) in reaped {
        // `.exitcode` in multiprocessing; here the status is decoded from `WaitStatus`.
        say!("parent: worker {index} (pid {child}) {}", describe(status))?;
    }
    Ok(())
}

/// Checks that a child ended the way it said it would: with exit code `code`.
fn expect_exit(status: WaitStatus, code: i32) -> Result<()> {
    match status {
        WaitStatus::Exited(_, c) if c == code => Ok(()),
        _ => {
            // A child whose stdout was closed says so with its own code (see `check_child`).
            check_child(status)?;
            Err(format!(
                "expected exit code {code}, but the child {}",
                describe(status)
            )
            .into())
        }
    }
}

/// Section 3: every way `waitpid` can answer.
fn exit_statuses() -> Result<()> {
    say!("== 3. exit statuses ==")?;

    let quitter = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            say!("child {}: exiting with 3", getpid())?;
            Ok(3)
        }),
        Forked::Parent(child) => child,
    };
    let status = wait_child(quitter)?;
    expect_exit(status, 3)?;
    say!("parent: {quitter} {}", describe(status))?;

    let sleeper = match fork_flushed()? {
        // Waits for a signal that never comes: the parent kills it.
        Forked::Child(parent) => run_child(parent, || {
            loop {
                pause();
            }
        }),
        Forked::Parent(child) => child,
    };
    // WNOHANG asks without blocking; the sleeper cannot have exited on its own.
    match waitpid(sleeper, Some(WaitPidFlag::WNOHANG))
        .with_context(|| format!("waitpid {sleeper} WNOHANG"))?
    {
        WaitStatus::StillAlive => say!("parent: {sleeper} is still alive (waitpid with WNOHANG)")?,
        other => return Err(format!("the sleeper cannot have ended, got {other:?}").into()),
    }
    kill(sleeper, Signal::SIGKILL).with_context(|| format!("kill {sleeper} SIGKILL"))?;
    say!("parent: sent SIGKILL to {sleeper}")?;
    say!("parent: {sleeper} {}", describe(wait_child(sleeper)?))?;

    // Waiting with no child left is an error, not a hang.
    match waitpid(None::<Pid>, None) {
        Err(Errno::ECHILD) => say!("parent: no children left (waitpid fails with ECHILD)")?,
        other => return Err(format!("every child was reaped, got {other:?}").into()),
    }
    Ok(())
}

/// Section 4: start a worker as a fresh program instead of a forked copy.
fn spawn_instead_of_fork() -> Result<()> {
    say!("== 4. spawn instead of fork ==")?;
    // `current_exe` re-runs this very binary; the first argument selects the worker role. This
    // is what `multiprocessing` calls the "spawn" start method: the child starts from `main`
    // with nothing inherited but its arguments, environment and descriptors, so it is safe even
    // when the parent has threads. stdout is flushed first so the child's lines follow ours.
    io::stdout().flush().map_err(StdoutError)?;
    let exe = std::env::current_exe().with_context(|| "finding this program".to_string())?;
    let mut worker = Command::new(&exe)
        .args([WORKER_ROLE, "7", &getpid().to_string()])
        .spawn()
        .with_context(|| format!("spawning {}", exe.display()))?;
    // `Child::wait` reaps it; `ExitStatus::code` is `None` when a signal ended it.
    let status = worker
        .wait()
        .with_context(|| "waiting for the worker".to_string())?;
    match status.code() {
        Some(7) => say!("parent: spawned worker {} exited with 7", worker.id())?,
        Some(EXIT_STDOUT_CLOSED) => {
            return Err(StdoutError(io::ErrorKind::BrokenPipe.into()).into());
        }
        _ => return Err(format!("spawned worker {} ended: {status}", worker.id()).into()),
    }
    Ok(())
}

/// The worker role of section 4: `process_basic worker INDEX PARENT_PID`.
fn spawned_worker(args: &[String]) -> Result<()> {
    let [index, parent] = args else {
        return Err("usage: process_basic worker INDEX PARENT_PID".into());
    };
    let index: u8 = index
        .parse()
        .with_context(|| format!("worker index {index:?}"))?;
    let parent: i32 = parent
        .parse()
        .with_context(|| format!("parent pid {parent:?}"))?;
    if !die_with_parent(Pid::from_raw(parent))? {
        return Err(format!("parent {parent} exited before the worker started").into());
    }
    let printed = say!(
        "worker {index}: spawned as a fresh program, pid {}, parent {}",
        getpid(),
        getppid()
    );
    // A spawned worker is an ordinary program, not a forked copy, so `std::process::exit` is
    // right here: the exit handlers and buffers it runs are its own. Its exit code is its
    // result, and a closed stdout gets the code the parent recognises.
    match printed {
        Ok(()) => std::process::exit(i32::from(index)),
        Err(e) if e.0.kind() == io::ErrorKind::BrokenPipe => std::process::exit(EXIT_STDOUT_CLOSED),
        Err(e) => Err(e.into()),
    }
}

// ==== copied block: errors and output ========================================================
// Identical in every example (`cargo xtask tidy` checks): copy it with any part of this file.

/// Every error in these programs: boxed, and `Send + Sync` so that a thread can return one.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`) or
/// full (`> /dev/full`); use it as `say!(...)?`. Like `println!`, it holds the stdout lock for
/// the whole line, so lines from different threads or processes never tear.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).map_err(StdoutError)
    }};
}
use say;

/// A failed write to stdout, kept apart from other errors: a closed stdout ends the program
/// quietly, as it does any Unix tool in a pipeline.
#[derive(Debug)]
struct StdoutError(std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "writing to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Says what was being done when an error happened: which call, on what, with which limits.
trait Context<T> {
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Box<dyn std::error::Error + Send + Sync>>> Context<T>
    for std::result::Result<T, E>
{
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|cause| {
            let cause = cause.into();
            // A closed stdout stays recognisable, whatever was being done.
            if stdout_closed(&*cause) {
                return cause;
            }
            format!("{}: {cause}", what()).into()
        })
    }
}

/// Ends the program like a Unix tool: a closed stdout quietly (the reader has all it wanted),
/// any other error as one line on stderr and exit status 1.
fn exit_status(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if stdout_closed(&*e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", env!("CARGO_PKG_NAME"));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether `error` is a write to a stdout whose reader has gone away.
fn stdout_closed(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<StdoutError>()
        .is_some_and(|StdoutError(e)| e.kind() == std::io::ErrorKind::BrokenPipe)
}
// ==== end of copied block: errors and output =================================================

// ==== copied block: fork =====================================================================
// Identical in every example that forks (`cargo xtask tidy` checks). Needs the block above,
// `libc`, and nix with the `process` feature.

/// Exit code of a child whose stdout was closed under it (`| head`): 128 + SIGPIPE, as a shell
/// reports a program killed by SIGPIPE. The parent takes it as its own stdout being closed.
const EXIT_STDOUT_CLOSED: i32 = 141;

/// Exit code of a child that panicked, as for a Rust program whose `main` panicked.
const EXIT_PANICKED: i32 = 101;

/// What [`fork_flushed`] returns in each of the two processes.
enum Forked {
    /// In the parent: the new child's PID.
    Parent(nix::unistd::Pid),
    /// In the child: the parent's PID, for [`run_child`].
    Child(nix::unistd::Pid),
}

/// `fork`, after flushing stdout: a line still in its buffer would be copied into the child
/// and printed twice. The child must go straight to [`run_child`]:
///
/// ```ignore
/// let child = match fork_flushed()? {
///     Forked::Child(parent) => run_child(parent, || work_of_the_child()),
///     Forked::Parent(child) => child,
/// };
/// ```
fn fork_flushed() -> Result<Forked> {
    use std::io::Write as _;
    std::io::stdout().flush().map_err(StdoutError)?;
    let parent = nix::unistd::getpid();
    // Safety: fork is sound only while this process has a single thread. The child gets a copy
    // of the forking thread alone, so a lock another thread held at that moment (the
    // allocator's, stdout's) would stay locked in the child forever. Each program here forks
    // before it starts any thread, or after joining them all, as its `main` says.
    match unsafe { nix::unistd::fork() }.with_context(|| "fork".to_string())? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child)),
        nix::unistd::ForkResult::Child => Ok(Forked::Child(parent)),
    }
}

/// The whole life of a forked child: follow the parent's death, run `work`, and end with the
/// exit code it returns (1 after printing its error). Never returns.
///
/// Returning, or unwinding out of a panic, would run the rest of the parent's program in the
/// child, destructors included: a drop guard that removes the parent's lock file or unlinks
/// its queue would do it in the child, under the parent's feet. So `work` runs under
/// `catch_unwind`, and the child ends with `_exit`, which also skips the atexit handlers and
/// the stdio buffers it copied from the parent.
fn run_child(parent: nix::unistd::Pid, work: impl FnOnce() -> Result<i32>) -> ! {
    use std::io::Write as _;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if !die_with_parent(parent)? {
            // The parent is gone already: nobody is left to use or report what we would do.
            return Ok(1);
        }
        work()
    }));
    let code = match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(e)) if stdout_closed(&*e) => EXIT_STDOUT_CLOSED,
        Ok(Err(e)) => {
            let pid = nix::unistd::getpid();
            eprintln!("{} child {pid}: {e}", env!("CARGO_PKG_NAME"));
            1
        }
        // The panic hook has printed the message already.
        Err(_) => EXIT_PANICKED,
    };
    // `_exit` flushes nothing: the child's own output must get out first, and only once.
    let _ = std::io::stdout().flush();
    // Safety: `_exit` takes no pointers and is async-signal-safe; it ends the process without
    // running anything that belongs to the parent.
    unsafe { libc::_exit(code) }
}

/// Makes this process die when its parent does (`PR_SET_PDEATHSIG`), so that a child blocked
/// on a pipe, a queue or a semaphore cannot outlive a killed parent. Returns `false` when the
/// parent has died already.
fn die_with_parent(parent: nix::unistd::Pid) -> Result<bool> {
    use nix::sys::signal::Signal;
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .with_context(|| "prctl(PR_SET_PDEATHSIG)".to_string())?;
    // The race: a parent that died before the line above sends no signal, ever. Checking that
    // it is still our parent after setting it closes the gap.
    Ok(nix::unistd::getppid() == parent)
}

/// Waits for `child` to end and reaps it: an exited child stays a zombie until then.
fn wait_child(child: nix::unistd::Pid) -> Result<nix::sys::wait::WaitStatus> {
    nix::sys::wait::waitpid(child, None).with_context(|| format!("waitpid {child}"))
}

/// Turns anything but a clean exit into an error. Call it before using anything the child
/// wrote: a child that failed or was killed may have written half of it.
fn check_child(status: nix::sys::wait::WaitStatus) -> Result<()> {
    use nix::sys::wait::WaitStatus;
    match status {
        WaitStatus::Exited(_, 0) => Ok(()),
        WaitStatus::Exited(_, EXIT_STDOUT_CLOSED) => {
            Err(StdoutError(std::io::ErrorKind::BrokenPipe.into()).into())
        }
        other => {
            let pid = other.pid().map_or("?".to_string(), |p| p.to_string());
            Err(format!("child {pid} {}", describe(other)).into())
        }
    }
}

/// A `WaitStatus` in words: Python's `os.WIFEXITED`/`os.WEXITSTATUS`/`os.WTERMSIG`, decoded.
fn describe(status: nix::sys::wait::WaitStatus) -> String {
    use nix::sys::wait::WaitStatus;
    match status {
        WaitStatus::Exited(_, code) => format!("exited with {code}"),
        WaitStatus::Signaled(_, signal, core) => format!(
            "was killed by {signal:?}{}",
            if core { " (core dumped)" } else { "" }
        ),
        other => format!("changed state: {other:?}"),
    }
}
// ==== end of copied block: fork ==============================================================
