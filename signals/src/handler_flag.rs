//! A signal handler as Python programs have one, and what it may do. The handler for SIGINT
//! sets a flag and does nothing else. A child (this program again) sends the SIGINT, as Ctrl-C
//! would, and then waits to be told to end; the main loop, blocked in `waitpid` on it, wakes
//! with EINTR, sees the flag, closes the child's stdin, reaps it, and exits with 130.
//!
//! A handler runs in the middle of whatever the thread was doing, inside `malloc` or holding a
//! lock as likely as not, so it may only do what is async-signal-safe: store to an atomic, or
//! `write(2)` a byte. It must not allocate or lock (the lock it waits for may be the one it
//! interrupted: a deadlock), print (`println!` does both), or panic (unwinding out of a handler
//! is undefined behaviour). Installed without SA_RESTART, the signal makes a blocking call
//! return EINTR instead of resuming, so the loop sees the flag at once; nix reports EINTR as an
//! error and does not retry, so the loop must. `signal_hook::flag::register` sets such a flag
//! without `unsafe`, but installs with SA_RESTART: the flag is then seen only when the blocking
//! call returns, so every wait needs a timeout. With threads, prefer `graceful_shutdown.rs`:
//! no handler at all.
//!
//! Python: `signal.signal(signal.SIGINT, handler)`. Man pages: sigaction(2), signal-safety(7).
//! Run: `cargo run -p signals -- handler_flag`
//! Copy: handler_flag.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features process, signal), rustix@1 (features process)

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::getppid;
use rustix::process::{Pid, PidfdFlags, pidfd_open, pidfd_send_signal};

mod errors;
use errors::say;

/// Set in the child's environment, to its parent's PID: it sends SIGINT to that parent, then
/// reads stdin to the end.
const CHILD: &str = "HANDLER_FLAG_CHILD";

/// Set by the handler; read by the main loop.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_signal: std::ffi::c_int) {
    STOP.store(true, Ordering::SeqCst); // an atomic store: async-signal-safe
}

/// Installs `on_sigint` for SIGINT, without SA_RESTART.
fn install_handler() -> Result<()> {
    let action = SigAction::new(SigHandler::Handler(on_sigint), SaFlags::empty(), SigSet::empty());
    // Safety: the handler only stores to an atomic, and nothing else here handles SIGINT.
    unsafe { sigaction(Signal::SIGINT, &action) }.context("sigaction SIGINT")?;
    Ok(())
}

pub fn main() -> ExitCode {
    if let Ok(parent) = std::env::var(CHILD) {
        let sent = interrupt(&parent);
        let read = std::io::stdin().read_to_end(&mut Vec::new()).context("reading stdin");
        return errors::exit(sent.and(read.map(drop)));
    }
    match run() {
        Ok(()) => ExitCode::from(128 + Signal::SIGINT as u8),
        Err(e) => errors::exit(Err(e)),
    }
}

fn run() -> Result<()> {
    install_handler()?;
    say!("main: a SIGINT handler that only sets a flag; the child will send SIGINT")?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut command = Command::new(&exe);
    command.args(std::env::args_os().skip(1)).env(CHILD, std::process::id().to_string());
    command.stdin(Stdio::piped());
    let mut child = command.spawn().context("starting the child")?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let ended = loop {
        if STOP.load(Ordering::SeqCst) {
            break None;
        }
        match waitpid(pid, None) {
            Err(Errno::EINTR) => continue, // a signal came: look at the flag again
            Ok(status) => break Some(status),
            Err(e) => return Err(e).context("waitpid"),
        }
    };
    match ended {
        None => {
            say!("main: the flag is set; closing the child's stdin")?;
            drop(child.stdin.take()); // end of file: the child ends
            let status = child.wait().context("waiting for the child")?; // retries EINTR
            say!("main: reaped the child: {status}")?;
        }
        // Ctrl-C at a terminal signals the whole group: the child may have died of it too.
        Some(status) if STOP.load(Ordering::SeqCst) => {
            say!("main: the flag is set; the child ended too: {}", describe(status))?
        }
        Some(status) => bail!("the child ended before any SIGINT: {}", describe(status)),
    }
    Ok(say!("main: exiting with 130 (128 + SIGINT)")?)
}

/// The child's SIGINT, to its parent only. Once the parent is gone, `getppid` names its reaper
/// instead, which must not get it: a pidfd, checked to be the parent's, names that parent and no
/// other, and a signal through it to a parent that has ended fails (ESRCH) instead.
fn interrupt(parent: &str) -> Result<()> {
    let pidfd = Pid::from_raw(getppid().as_raw()).context("a parent's PID")?;
    let pidfd = pidfd_open(pidfd, PidfdFlags::empty()).context("pidfd_open on the parent")?;
    if getppid().to_string() != parent {
        return Ok(()); // the parent ended already: nobody to interrupt
    }
    pidfd_send_signal(&pidfd, rustix::process::Signal::INT).context("pidfd_send_signal SIGINT")
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exit status {code}"),
        WaitStatus::Signaled(_, signal, _) => format!("killed by {signal}"),
        _ => "stopped".to_string(),
    }
}
