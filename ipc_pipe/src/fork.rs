//! Forking a child that runs one closure and can never return into its parent's code. The
//! recipe `process_basic/src/fork_and_wait.rs` explains each step; this is it, made reusable.

use std::io::{self, Read as _, Write as _};

use anyhow::{Context, Result, bail};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, getpid, getppid};

use super::errors::StdoutError;

/// A forked child, and the pipe on which it tells `wait` why it failed (a status cannot say).
pub struct Child {
    pub pid: Pid,
    report: io::PipeReader,
}

/// Forks a child that runs `work`, then exits 0, or 1 with an error that `wait` returns. The
/// parent drops `work` unrun.
pub fn fork(work: impl FnOnce() -> Result<()>) -> Result<Child> {
    // A lock that another thread held (the allocator's, stdout's) stays locked in the child.
    let threads = std::fs::read_dir("/proc/self/task").context("/proc/self/task")?.count();
    if threads != 1 {
        bail!("fork: this process has {threads} threads; fork only while it has one");
    }
    io::stdout().flush().map_err(StdoutError)?; // else the child prints the buffer again
    let (report, mut reporter) = io::pipe().context("pipe for a child's report")?;
    let parent = getpid();
    // Safety: this process has one thread, checked above.
    if let ForkResult::Parent { child } = unsafe { nix::unistd::fork() }.context("fork")? {
        return Ok(Child { pid: child, report });
    }
    // Returning or unwinding would run the parent's code and destructors in the child.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Die with the parent; one that died before this call sends no signal, hence the check.
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).context("prctl")?;
        if getppid() == parent { work() } else { Ok(()) }
    }));
    let code = match outcome {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            let errno = e.downcast_ref::<StdoutError>().and_then(|e| e.0.raw_os_error());
            let report = format!("{} {e:#}", errno.unwrap_or(0));
            // One short write into an empty pipe: it cannot block, and it arrives whole.
            let _ = reporter.write_all(&report.as_bytes()[..report.len().min(4000)]);
            1
        }
        Err(_) => 101, // The panic hook has printed the message.
    };
    let _ = io::stdout().flush();
    // Safety: _exit takes no pointer, and runs no destructor or atexit handler of the parent's.
    unsafe { libc::_exit(code) }
}

/// Reaps `child`; anything but status 0 is an error. Call it before using what the child wrote.
/// A process the work forks holds the report open: it must die with the child, as ours do.
pub fn wait(mut child: Child) -> Result<()> {
    let (pid, mut report) = (child.pid, Vec::new());
    let status = waitpid(pid, None).with_context(|| format!("waitpid {pid}"))?;
    child.report.read_to_end(&mut report).context("reading a child's report")?;
    match (status, String::from_utf8_lossy(&report).split_once(' ')) {
        (WaitStatus::Exited(_, 0), _) => Ok(()),
        (WaitStatus::Exited(_, 1), Some(("0", why))) => bail!("child {pid}: {why}"),
        (WaitStatus::Exited(_, 1), Some((errno, _))) => {
            let errno = errno.parse().context("a child's report")?;
            Err(StdoutError(io::Error::from_raw_os_error(errno)))?
        }
        (WaitStatus::Exited(_, code), _) => bail!("child {pid} exited with status {code}"),
        (WaitStatus::Signaled(_, signal, _), _) => bail!("child {pid} was killed by {signal}"),
        _ => bail!("child {pid}: waitpid without options answers only exits and deaths"),
    }
}
