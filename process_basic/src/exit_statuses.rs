//! Every answer `waitpid` can give: an exit code, a death by signal, "still running" with
//! `WNOHANG`, and `ECHILD` once no child is left. Python: `os.waitpid`, `os.WIFEXITED`,
//! `os.WEXITSTATUS`, `os.WTERMSIG`, `os.WNOHANG`, `ChildProcessError`.
//!
//! Run: `cargo run -p process_basic -- exit_statuses`
//! Copy: exit_statuses.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal)
//!
//! Man pages: waitpid(2), wait(2) for the status macros, kill(2).

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, pause};

mod errors;
mod fork;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    // The usual end: the work returned Ok, so the child exited with 0 (fork.rs).
    let worker = fork::fork(|| Ok(()))?;
    let worker_pid = worker.pid;
    fork::wait(worker)?;
    say!("parent: {worker_pid} exited with 0 (its work returned Ok)")?;
    // A child that ends at once with status 3.
    let quitter = fork::fork(|| exit_now(3))?.pid;
    match waitpid(quitter, None).with_context(|| format!("waitpid {quitter}"))? {
        WaitStatus::Exited(_, 3) => say!("parent: {quitter} exited with 3")?,
        _ => bail!("{quitter} did not exit with 3"),
    }

    // A child that waits for a signal that never comes: the parent kills it.
    let sleeper = fork::fork(|| {
        loop {
            pause();
        }
    })?
    .pid;
    // WNOHANG asks without blocking. The sleeper cannot have ended on its own.
    match waitpid(sleeper, Some(WaitPidFlag::WNOHANG)).context("waitpid WNOHANG")? {
        WaitStatus::StillAlive => say!("parent: {sleeper} is still alive (waitpid with WNOHANG)")?,
        _ => bail!("{sleeper} was not running, yet it cannot end on its own"),
    }
    kill(sleeper, Signal::SIGKILL).with_context(|| format!("kill {sleeper} SIGKILL"))?;
    say!("parent: sent SIGKILL to {sleeper}")?;
    match waitpid(sleeper, None).with_context(|| format!("waitpid {sleeper}"))? {
        // The third field says whether it dumped core.
        WaitStatus::Signaled(_, signal, _) => say!("parent: {sleeper} was killed by {signal}")?,
        _ => bail!("{sleeper} did not die of its SIGKILL"),
    }

    // Waiting with no child left is an error, not a hang.
    match waitpid(None::<Pid>, None) {
        Err(Errno::ECHILD) => say!("parent: no children left (waitpid fails with ECHILD)")?,
        Ok(_) => bail!("waitpid found a child, yet every child was reaped"),
        Err(e) => return Err(e).context("waitpid with no child left (ECHILD was due)"),
    }
    Ok(())
}

/// Ends this process at once with `code`, as Python's `os._exit(code)`.
fn exit_now(code: i32) -> ! {
    // Safety: _exit takes no pointer and runs nothing that belongs to the parent: no
    // destructor, no atexit handler, no flush of the stdio buffers a child copied.
    unsafe { libc::_exit(code) }
}
