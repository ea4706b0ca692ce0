//! Ending a child and everything it started. The parent starts a child in a process group of
//! its own (this program again); the child starts a grandchild, which inherits the child's
//! stdout, the parent's pipe, and both block. `Child::kill` signals the child alone: the
//! grandchild lives on and holds the pipe open, so a read of it would never end (shown with a
//! bounded wait). A signal to the group ends the grandchild too, and the pipe reaches its end.
//! The parent signals the group before it reaps the child, the group's leader: until then the
//! leader's PID, which is the group's ID, cannot be given to another process. The parent is a
//! subreaper (PR_SET_CHILD_SUBREAPER), so the grandchild, orphaned when the child died, becomes
//! its child and is reaped here, not left to init.
//!
//! A group of its own also takes the tree out of the terminal's foreground group: Ctrl-C no
//! longer reaches it, so a parent that is interrupted must pass the signal on to the group.
//! std's `kill_process_group` is unstable; rustix makes the call.
//!
//! Python: `Popen(cmd, start_new_session=True)` (a new session, and so a new group too), then
//! `os.killpg(p.pid, signal.SIGKILL)`. Man pages: setpgid(2), killpg(3), credentials(7).
//! Run: `cargo run -p child_process -- kill_tree`
//! Copy: kill_tree.rs errors.rs
//! Needs: anyhow@1, rustix@1 (features event, process)

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{ChildStdout, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{
    Pid, Signal, WaitOptions, getpid, kill_process_group, set_child_subreaper, waitpid,
};

mod errors;
use errors::say;

/// Set in the environment of the child and the grandchild: which of the two it is.
const ROLE: &str = "KILL_TREE_ROLE";

pub fn main() -> std::process::ExitCode {
    match std::env::var(ROLE).as_deref() {
        Ok("child") => errors::exit(child()),
        Ok(_) => errors::exit(block()),
        Err(_) => errors::exit(run()),
    }
}

fn run() -> Result<()> {
    set_child_subreaper(Some(getpid())).context("prctl PR_SET_CHILD_SUBREAPER")?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = Command::new(&exe)
        .args(std::env::args_os().skip(1)) // started as this program was
        .env(ROLE, "child")
        .process_group(0) // a new group, whose ID is the child's PID; the grandchild joins it
        .stdin(Stdio::piped()) // kept open: the tree blocks reading it
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let group = Pid::from_child(&child);
    let mut pipe = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    pipe.read_line(&mut line).context("reading the child's stdout")?;
    let started = line.trim_end().strip_prefix("started ").and_then(|pid| pid.parse().ok());
    let Some(grandchild) = started.and_then(Pid::from_raw) else {
        let status = child.wait().context("waitpid")?;
        bail!("the child ended before it started the grandchild: {status}");
    };
    say!(
        "parent: child {} leads a group of its own; its child {grandchild} holds the pipe",
        group
    )?;
    child.kill().context("killing the child")?; // SIGKILL to the child alone
    if !ended_within(pipe.get_ref(), Duration::from_millis(300))? {
        say!("parent: after Child::kill, the pipe is still open 300 ms on: the grandchild lives")?;
    }
    // The leader is dead but not reaped, so its PID, the group's ID, is still the group's.
    kill_process_group(group, Signal::KILL).with_context(|| format!("killpg {group} SIGKILL"))?;
    if !ended_within(pipe.get_ref(), Duration::from_secs(5))? {
        bail!("the pipe stayed open 5 s after the group was killed");
    }
    let rest = pipe.read_to_end(&mut Vec::new()).context("reading the pipe")?;
    say!("parent: signalled the group; the pipe reached its end ({rest} bytes more)")?;
    let status = child.wait().context("waitpid")?; // now the group's ID may be reused
    say!("parent: reaped the child: {status}")?;
    let reaped = waitpid(Some(grandchild), WaitOptions::empty()).context("waitpid")?;
    let signal = reaped.and_then(|(_, status)| status.terminating_signal());
    say!("parent: reaped the orphaned grandchild too: signal {}", signal.unwrap_or(0))?;
    Ok(())
}

/// Whether every writer of `pipe` has closed it within `limit`: poll returns at once then.
fn ended_within(pipe: &ChildStdout, limit: Duration) -> Result<bool> {
    let mut fds = [PollFd::new(pipe, PollFlags::IN)];
    let timeout = Timespec::try_from(limit).context("a timeout")?;
    Ok(poll(&mut fds, Some(&timeout)).context("poll on a pipe")? == 1)
}

/// The child: starts the grandchild with its own stdin and stdout, says so, and blocks.
fn child() -> Result<()> {
    let grandchild = Command::new(std::env::current_exe().context("finding this program")?)
        .args(std::env::args_os().skip(1))
        .env(ROLE, "grandchild")
        .spawn() // stdin, stdout and the process group inherited
        .context("starting the grandchild")?;
    say!("started {}", grandchild.id())?;
    block()
}

/// Blocks until killed, or until stdin, the parent's pipe, closes: no process of the tree
/// outlives the parent.
fn block() -> Result<()> {
    std::io::stdin().read_to_end(&mut Vec::new()).context("reading stdin")?;
    Ok(())
}
