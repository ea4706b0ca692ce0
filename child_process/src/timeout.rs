//! Timing a child out. The parent starts three children in turn (this program again): one that
//! ends at once, one that blocks past its deadline, and one that also ignores SIGTERM. It waits
//! for each on a pidfd, a descriptor that poll reports readable once the child has ended, with
//! the deadline as poll's timeout: no sleep, no polling loop. When the deadline passes it sends
//! SIGTERM, waits a grace period the same way, then sends SIGKILL, and reaps the child in every
//! case. The signals go through the pidfd, never to a PID: once a child is reaped, its PID may
//! name another process, and a pidfd still names the child it was opened for.
//!
//! Linux 5.3 and later (pidfd_open). Where it fails with ENOSYS, wait in a thread of its own
//! and take its result from a channel with `recv_timeout`; signal only before that thread
//! reaps. std's `PidFd` is unstable (rust-lang/rust#82971), so rustix makes the calls.
//!
//! Python: `subprocess.run(cmd, timeout=...)`, `Popen.wait(timeout)`, `terminate()`, `kill()`.
//! Man pages: pidfd_open(2), pidfd_send_signal(2), poll(2).
//! Run: `cargo run -p child_process -- timeout`
//! Copy: timeout.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features signal), rustix@1 (features event, process)

use std::io::{BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::{SIGTERM, SigHandler, signal};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{Pid, PidfdFlags, Signal, pidfd_open, pidfd_send_signal};

mod errors;
use errors::say;

/// Set in the child's environment: how it behaves.
const ROLE: &str = "TIMEOUT_CHILD";
const DEADLINE_MS: u64 = 200;
const GRACE_MS: u64 = 1000;

pub fn main() -> std::process::ExitCode {
    match std::env::var(ROLE) {
        Ok(role) => errors::exit(child(&role)),
        Err(_) => errors::exit(run()),
    }
}

fn run() -> Result<()> {
    for role in ["prompt", "slow", "stubborn"] {
        // The prompt child gets a generous deadline, which it never uses up.
        let deadline = Duration::from_millis(if role == "prompt" { 5000 } else { DEADLINE_MS });
        let grace = Duration::from_millis(GRACE_MS);
        let mut child = start(role)?;
        let pidfd = pidfd_open(Pid::from_child(&child), PidfdFlags::empty())
            .with_context(|| format!("pidfd_open {} (Linux 5.3 or later)", child.id()))?;
        let how = if ended_within(&pidfd, deadline)? {
            "ended before its deadline".to_string()
        } else {
            pidfd_send_signal(&pidfd, Signal::TERM).context("pidfd_send_signal SIGTERM")?;
            if ended_within(&pidfd, grace)? {
                format!("still running after {DEADLINE_MS} ms; sent SIGTERM; it ended")
            } else {
                pidfd_send_signal(&pidfd, Signal::KILL).context("pidfd_send_signal SIGKILL")?;
                if !ended_within(&pidfd, grace)? {
                    bail!("child {} outlived SIGKILL by {GRACE_MS} ms", child.id());
                }
                format!(
                    "still running after {DEADLINE_MS} ms; SIGTERM ignored {GRACE_MS} ms; SIGKILL"
                )
            }
        };
        // Reaping frees the PID for reuse: from here on, the pidfd alone names the child.
        let status = child.wait().context("waitpid")?;
        say!("{role}: {how}; {status}")?;
    }
    Ok(())
}

/// Starts a child in `role`, and waits until it says it is ready: a signal sent earlier could
/// reach it before it has set SIGTERM aside.
fn start(role: &str) -> Result<Child> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = Command::new(&exe)
        .args(std::env::args_os().skip(1)) // started as this program was
        .env(ROLE, role)
        .stdin(Stdio::piped()) // kept open: the child blocks reading it
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let mut ready = String::new();
    let stdout = child.stdout.as_mut().expect("stdout is piped");
    BufReader::new(stdout).read_line(&mut ready).context("reading the child's stdout")?;
    if ready != "ready\n" {
        let status = child.wait().context("waitpid")?;
        bail!("child {} ended before it was ready: {status}", child.id());
    }
    Ok(child)
}

/// Whether the child of `pidfd` ends within `limit`: one poll, which returns as soon as it does.
fn ended_within(pidfd: &OwnedFd, limit: Duration) -> Result<bool> {
    let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
    let timeout = Timespec::try_from(limit).context("a timeout")?;
    Ok(poll(&mut fds, Some(&timeout)).context("poll on a pidfd")? == 1)
}

/// A child: says it is ready, then, but for the prompt one, blocks until it is killed or its
/// stdin closes (the parent ended): no child outlives the parent.
fn child(role: &str) -> Result<()> {
    if role == "stubborn" {
        // Safety: SIG_IGN installs no handler, so nothing of ours runs inside a signal.
        unsafe { signal(SIGTERM, SigHandler::SigIgn) }.context("ignoring SIGTERM")?;
    }
    say!("ready")?;
    if role != "prompt" {
        std::io::stdin().read_to_end(&mut Vec::new()).context("reading stdin")?;
    }
    Ok(())
}
