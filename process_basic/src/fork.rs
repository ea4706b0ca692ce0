//! Forking a child that runs one closure and can never return into its parent's code. The
//! recipe `process_basic/src/fork_and_wait.rs` explains each step; this is it, made reusable.

use std::io;

use anyhow::{Context, Result, bail};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, getpid, getppid};

use super::errors::StdoutError;

/// A child whose stdout fails (`| head`, a full disk) prints nothing and exits with this plus
/// the errno; `wait` makes that the parent's own stdout error, to report once, or not at all.
const STDOUT_FAILED: i32 = 128;

/// Forks a child that runs `work` and exits 0 (`Ok`), 1 (an error, printed) or 101 (a panic).
/// Returns the child's PID, in the parent only. Call it only while this process has one
/// thread. The parent drops `work` unrun: a `move` closure gives what it owns to the child.
pub fn fork(work: impl FnOnce() -> Result<()>) -> Result<Pid> {
    // A line still in stdout's buffer would be copied into the child and printed twice.
    io::Write::flush(&mut io::stdout()).map_err(StdoutError)?;
    let parent = getpid();
    // Safety: the caller promises one thread. A child gets a copy of the forking thread only,
    // so a lock another thread held (the allocator's, stdout's) would stay locked for ever.
    if let ForkResult::Parent { child } = unsafe { nix::unistd::fork() }.context("fork")? {
        return Ok(child);
    }
    // Returning or unwinding from here would run the parent's code and destructors in the
    // child (a drop guard could delete the parent's file): catch everything, end with _exit.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Die with the parent, so that a blocked child cannot outlive it. A parent that died
        // before this call sends no signal, hence the check; nobody is left to work for.
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).context("prctl")?;
        if getppid() == parent { work() } else { Ok(()) }
    }));
    let code = match outcome {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => match e.downcast_ref::<StdoutError>() {
            Some(StdoutError(io)) => STDOUT_FAILED + io.raw_os_error().unwrap_or(libc::EIO),
            None => {
                eprintln!("{}: child {}: {e:#}", env!("CARGO_PKG_NAME"), getpid());
                1
            }
        },
        Err(_) => 101, // The panic hook has printed the message.
    };
    let _ = io::Write::flush(&mut io::stdout());
    // Safety: _exit takes no pointer and skips what belongs to the parent: atexit handlers,
    // destructors, and the stdio buffers the child inherited.
    unsafe { libc::_exit(code) }
}

/// Reaps `child` and turns anything but exit status 0 into an error. Call it before using
/// anything the child wrote: a child that failed may have written half of it.
pub fn wait(child: Pid) -> Result<()> {
    match waitpid(child, None).with_context(|| format!("waitpid {child}"))? {
        WaitStatus::Exited(_, 0) => Ok(()),
        WaitStatus::Exited(_, code) if code > STDOUT_FAILED => {
            let errno = code - STDOUT_FAILED;
            Err(StdoutError(io::Error::from_raw_os_error(errno)))?
        }
        WaitStatus::Exited(_, code) => bail!("child {child} exited with status {code}"),
        WaitStatus::Signaled(_, signal, _) => bail!("child {child} was killed by {signal}"),
        other => bail!("child {child}: {other:?}"),
    }
}
