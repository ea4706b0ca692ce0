//! A Python child: `python3 -c SCRIPT ARGS...` (the first `python3` on `PATH`), a socket as its
//! stdin, its stdout on /dev/null, its stderr kept so that its error becomes one line of ours.

use std::io::{ErrorKind, Read};
use std::os::{fd::OwnedFd, unix::net::UnixStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The child, and its stderr: a socket, so that every read of it has a deadline.
pub struct Python(Child, UnixStream);

pub fn start(script: &str, args: &[&str], socket: UnixStream) -> Result<Python> {
    let (stderr, theirs) = UnixStream::pair().context("socketpair for python3's stderr")?;
    let mut command = Command::new("python3");
    command.args(["-c", script]).args(args).stdin(OwnedFd::from(socket)).stdout(Stdio::null());
    let spawned = command.stderr(OwnedFd::from(theirs)).spawn();
    let missing = spawned.as_ref().is_err_and(|e| e.kind() == ErrorKind::NotFound);
    let install = "starting python3 (install Python 3.8 or later: apt install python3)";
    let child = spawned.context(if missing { install } else { "starting python3" })?;
    Ok(Python(child, stderr))
}

impl Python {
    /// Waits, 10 s at most, for Python to end. Anything it printed on stderr (a traceback, a
    /// warning of the resource tracker) is an error: its last unindented line is the message.
    pub fn finish(mut self) -> Result<()> {
        let mut text = String::new(); // what Python wrote, up to its end
        self.1.set_read_timeout(Some(Duration::from_secs(10))).context("SO_RCVTIMEO")?;
        self.1.read_to_string(&mut text).context("python3 did not end in 10 s")?;
        let status = self.0.wait().context("waiting for python3")?;
        let last = text.lines().rev().find(|l| !l.starts_with(' '));
        if !status.success() || !text.is_empty() {
            bail!("python3 {status}: {}", last.unwrap_or("no message"));
        }
        Ok(())
    }
}

impl Drop for Python {
    /// No Python outlives a recipe: SIGINT, so that its `finally` blocks run; 2 s later, SIGKILL.
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = kill(Pid::from_raw(self.0.id() as i32), Signal::SIGINT);
            let _ = self.1.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = std::io::copy(&mut self.1, &mut std::io::sink()); // until Python ends
            let _ = self.0.kill(); // harmless to a child that has exited and is not reaped
            let _ = self.0.wait();
        }
    }
}
