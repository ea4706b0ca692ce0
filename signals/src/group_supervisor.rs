//! Ctrl-C for a group of children, as a supervisor handles it. The parent blocks SIGINT and
//! SIGTERM and starts two workers (this program again) in a process group of their own: Ctrl-C
//! at a terminal reaches the terminal's foreground group, so now only the parent, which decides
//! what the workers get. Once both workers are ready, the parent sends itself SIGINT (as Ctrl-C
//! would), takes it with `sigwait`, forwards it to the workers' group, and waits for each on a
//! pidfd with a deadline. Worker 1 ends on SIGINT; worker 2 ignores it, so after one second
//! the parent sends the group SIGKILL, while worker 1, the group's leader, is not yet reaped and
//! so keeps the group's ID from reuse. It reaps both and exits with 130 (128 + SIGINT); if a
//! worker died before it was ready, it ends them all and fails with one line.
//!
//! A child inherits the blocked mask, through `Command` too (Rust 1.95 does not reset it): each
//! worker has it cleared before it starts, or the signals forwarded to it would stay pending.
//! Python: `Popen(cmd, start_new_session=True)`, a `signal.signal(SIGINT, ...)` handler that
//! calls `os.killpg`. Man pages: sigwait(3), killpg(3), credentials(7).
//! Run: `cargo run -p signals -- group_supervisor`
//! Copy: group_supervisor.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features signal), rustix@1 (features event, process)

use std::io::{BufRead, BufReader, Read};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::{SIGINT, SigHandler, SigSet, Signal, kill, signal};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{Pid, PidfdFlags, kill_process_group, pidfd_open};

mod errors;
use errors::say;

/// Set in a worker's environment: its number.
const WORKER: &str = "GROUP_SUPERVISOR_WORKER";

pub fn main() -> ExitCode {
    match std::env::var(WORKER).as_deref() {
        Ok(number) => errors::exit(worker(number)),
        Err(_) => match run() {
            Ok(signal) => ExitCode::from(128 + signal as u8),
            Err(e) => errors::exit(Err(e)),
        },
    }
}

fn run() -> Result<Signal> {
    let signals = SigSet::from_iter([Signal::SIGINT, Signal::SIGTERM]);
    signals.thread_block().context("blocking SIGINT and SIGTERM")?; // before anything else
    let mut workers = vec![start("1", 0)?];
    let group = Pid::from_child(&workers[0]);
    workers.push(start("2", group.as_raw_nonzero().get())?);
    let ready = workers.iter_mut().all(|worker| {
        let mut line = String::new();
        let stdout = worker.stdout.as_mut().expect("stdout is piped");
        BufReader::new(stdout).read_line(&mut line).is_ok_and(|_| line == "ready\n")
    });
    if !ready {
        kill_process_group(group, rustix::process::Signal::KILL).context("killpg SIGKILL")?;
        for worker in &mut workers {
            worker.wait().context("waitpid")?;
        }
        bail!("a worker ended before it was ready; the group was killed and reaped");
    }
    say!("parent: two workers in a group of their own, both ready")?;
    kill(nix::unistd::getpid(), Signal::SIGINT).context("kill SIGINT")?; // our own Ctrl-C
    let signal = signals.wait().context("sigwait")?;
    say!("parent: got {signal}; forwarding it to the workers' group")?;
    let forwarded = rustix::process::Signal::from_named_raw(signal as i32).expect("a signal");
    kill_process_group(group, forwarded).with_context(|| format!("killpg {signal}"))?;
    let pidfds: Vec<OwnedFd> = workers
        .iter()
        .map(|w| pidfd_open(Pid::from_child(w), PidfdFlags::empty()))
        .collect::<Result<_, _>>()
        .context("pidfd_open")?;
    if !pidfds.iter().all(|pidfd| ended_within(pidfd, Duration::from_secs(1))) {
        say!("parent: a worker still runs 1 s later; SIGKILL to the group")?;
        kill_process_group(group, rustix::process::Signal::KILL).context("killpg SIGKILL")?;
    }
    for (number, worker) in workers.iter_mut().enumerate() {
        let status = worker.wait().context("waitpid")?; // no signal goes to the group after this
        say!("parent: worker {}: {status}", number + 1)?;
    }
    say!("parent: exiting with {} (128 + {signal})", 128 + signal as i32)?;
    Ok(signal)
}

/// Starts worker `number` in process group `group` (0: a new one, named after the worker).
fn start(number: &str, group: i32) -> Result<Child> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut command = Command::new(&exe);
    command.args(std::env::args_os().skip(1)).env(WORKER, number).process_group(group);
    // Safety: between fork and exec only async-signal-safe calls are allowed; pthread_sigmask
    // is one.
    unsafe { command.pre_exec(|| SigSet::empty().thread_set_mask().map_err(Into::into)) };
    let started = command.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
    started.with_context(|| format!("starting worker {number}"))
}

/// Whether the process of `pidfd` ends within `limit`: one poll, no sleep.
fn ended_within(pidfd: &OwnedFd, limit: Duration) -> bool {
    let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
    let timeout = Timespec::try_from(limit).expect("a second fits a timespec");
    poll(&mut fds, Some(&timeout)).is_ok_and(|ready| ready == 1)
}

/// A worker: worker 2 ignores SIGINT. Both say they are ready, then block until a signal ends
/// them, or until stdin, the parent's pipe, closes: no worker outlives the parent.
fn worker(number: &str) -> Result<()> {
    // Worker 2 ignores SIGINT; worker 1 takes the default (dying), even if it inherited SIGINT
    // ignored, as everything started from a background job (`cmd &`) does.
    let action = if number == "2" { SigHandler::SigIgn } else { SigHandler::SigDfl };
    // Safety: neither installs a handler, so nothing of ours runs inside a signal.
    unsafe { signal(SIGINT, action) }.context("setting SIGINT's action")?;
    say!("ready")?;
    std::io::stdin().read_to_end(&mut Vec::new()).context("reading stdin")?;
    Ok(())
}
