//! The fork helpers every example carries, tested where it matters: a child that panics, fails
//! or loses its stdout must never run the parent's code or destructors, and the parent must
//! learn from the exit status what happened. The two blocks below are the examples' own,
//! byte for byte (`cargo xtask tidy` checks), so this tests exactly what readers copy.
//!
//! A plain `main` (`harness = false`): forking is sound only in a single-threaded process, and
//! the test harness runs tests on threads.

use std::path::{Path, PathBuf};

use nix::sys::wait::WaitStatus;

/// A drop guard that belongs to the parent, like lock_demo's lock file.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn main() -> std::process::ExitCode {
    exit_status(run())
}

fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("xtask-fork-test-{}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = cases(&dir);
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    result?;
    say!("fork helpers: all cases passed")?;
    Ok(())
}

fn cases(dir: &Path) -> Result<()> {
    let path = dir.join("owned-by-the-parent");
    std::fs::write(&path, "parent").with_context(|| format!("writing {}", path.display()))?;
    let guard = RemoveOnDrop(path.clone());

    // A panic deep inside the child's work: it must stop at `run_child`, not unwind through
    // this frame and drop `guard` in the child.
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            let _childs_own = RemoveOnDrop(dir.join("owned-by-the-child"));
            panic!("the child panics on purpose (this message is expected)")
        }),
        Forked::Parent(child) => child,
    };
    let status = wait_child(child)?;
    expect(status == WaitStatus::Exited(child, EXIT_PANICKED), || {
        format!("a panicking child: expected exit {EXIT_PANICKED}, got {status:?}")
    })?;
    expect(check_child(status).is_err(), || {
        "check_child must reject a panicked child".to_string()
    })?;
    expect(path.exists(), || {
        "the child's unwinding removed the parent's file".to_string()
    })?;

    // An error: exit status 1, and the parent's state intact.
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || Err("failing on purpose".into())),
        Forked::Parent(child) => child,
    };
    let status = wait_child(child)?;
    expect(status == WaitStatus::Exited(child, 1), || {
        format!(
            "a failing child: expected exit 1, got {status:?} ({})",
            describe(status)
        )
    })?;
    expect(path.exists(), || {
        "a failing child removed the parent's file".to_string()
    })?;

    // A closed stdout: its own exit code, which the parent takes as its own stdout closing.
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            Err(StdoutError(std::io::ErrorKind::BrokenPipe.into()).into())
        }),
        Forked::Parent(child) => child,
    };
    let status = wait_child(child)?;
    expect(
        status == WaitStatus::Exited(child, EXIT_STDOUT_CLOSED),
        || format!("a child with a closed stdout: got {status:?}"),
    )?;
    expect(
        check_child(status).is_err_and(|e| stdout_closed(&*e)),
        || "check_child must report a closed stdout as such".to_string(),
    )?;

    // A clean exit with a code of its own choosing.
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || Ok(7)),
        Forked::Parent(child) => child,
    };
    let status = wait_child(child)?;
    expect(status == WaitStatus::Exited(child, 7), || {
        format!("expected exit 7, got {status:?}")
    })?;

    drop(guard);
    expect(!path.exists(), || {
        "the parent's own guard must still work".to_string()
    })
}

fn expect(ok: bool, why: impl FnOnce() -> String) -> Result<()> {
    if ok { Ok(()) } else { Err(why().into()) }
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
