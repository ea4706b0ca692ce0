//! A Python child: `python3 -c SCRIPT ARGS...` (the first `python3` on `PATH`), a socket as its
//! stdin, its stdout on /dev/null, its stderr kept so that its error becomes one line of ours.

use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

pub struct Python(Child);

pub fn start(script: &str, args: &[&str], socket: UnixStream) -> Result<Python> {
    let child = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .stdin(std::os::fd::OwnedFd::from(socket))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting python3 (install Python 3.8 or later, e.g. `apt install python3`)")?;
    Ok(Python(child))
}

impl Python {
    /// Waits for Python to end. Anything it printed on stderr (a traceback, a warning of the
    /// resource tracker) is an error: its last unindented line is the message.
    pub fn finish(mut self) -> Result<()> {
        let stderr = self.0.stderr.take().expect("stderr is piped");
        let text = std::io::read_to_string(stderr).context("reading python3's stderr")?;
        let status = self.0.wait().context("waiting for python3")?;
        let last = text.lines().rev().find(|l| !l.starts_with(' '));
        if !status.success() || !text.is_empty() {
            bail!("python3 {status}: {}", last.unwrap_or("no message"));
        }
        Ok(())
    }
}

impl Drop for Python {
    /// No Python outlives a failed recipe. SIGINT, not SIGKILL: its `finally` blocks still run.
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = kill(Pid::from_raw(self.0.id() as i32), Signal::SIGINT);
            let _ = self.0.wait();
        }
    }
}
