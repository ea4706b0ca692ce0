//! Spawning instead of forking: the program runs itself again as a worker with
//! `std::process::Command`, the safe way once a program has threads (a forked child of a
//! threaded program may not even allocate). Python: `multiprocessing`'s "spawn" start method,
//! `subprocess.run([sys.executable, ...])`.
//!
//! Run: `cargo run -p process_basic -- spawn_worker`
//! Copy: spawn_worker.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features process, signal)
//!
//! Man pages: execve(2), prctl(2) for PR_SET_PDEATHSIG.

use std::io::Write as _;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;
use nix::unistd::{getpid, getppid};

mod errors;
use errors::say;

/// Set in the worker's environment: its index and its parent's PID. The worker's arguments
/// stay the parent's, so the worker is started exactly as the parent was.
const ROLE: &str = "SPAWN_WORKER";

pub fn main() -> ExitCode {
    match std::env::var(ROLE) {
        Ok(role) => worker(&role),
        Err(_) => errors::exit(run()),
    }
}

fn run() -> Result<()> {
    // The child starts from `main` with nothing inherited but arguments, environment and
    // descriptors. Flush first, so that its lines follow ours.
    std::io::stdout().flush().map_err(errors::StdoutError)?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut worker = Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env(ROLE, format!("7 {}", getpid()))
        .spawn()
        .with_context(|| format!("spawning {}", exe.display()))?;
    let status = worker.wait().context("waiting for the worker")?;
    // `code()` is `None` when a signal ended it.
    match status.code() {
        Some(7) => say!("parent: spawned worker {} exited with 7", worker.id())?,
        // The worker's stdout failed (it printed nothing): report it once, here.
        Some(code) if code > 128 => {
            let failed = std::io::Error::from_raw_os_error(code - 128);
            Err(errors::StdoutError(failed))?
        }
        _ => bail!("spawned worker {} ended: {status}", worker.id()),
    }
    Ok(())
}

/// The worker: an ordinary program, not a forked copy, so returning from `main` is right here.
/// Its exit code is its answer, 0 to 127; a failed stdout it leaves to the parent to report, as
/// 128 + the errno.
fn worker(role: &str) -> ExitCode {
    let work = || -> Result<u8> {
        let (index, parent) =
            role.split_once(' ').with_context(|| format!("{ROLE}={role:?} is not `INDEX PID`"))?;
        // An answer above 127 would read as a stdout error (128 + errno): refuse it here.
        let answer = index.parse::<u8>().ok().filter(|i| *i < 128);
        let index = answer.with_context(|| format!("worker index {index:?}, not 0 to 127"))?;
        // Die with the parent; the check closes the race with a parent that died first.
        nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("prctl")?;
        if getppid().to_string() != parent {
            bail!("parent {parent} exited before the worker started");
        }
        say!("worker {index}: spawned as a fresh program, pid {}, parent {parent}", getpid())?;
        Ok(index)
    };
    match work() {
        Ok(index) => ExitCode::from(index),
        Err(e) => match e.downcast_ref::<errors::StdoutError>() {
            Some(errors::StdoutError(io)) => {
                // 5 is EIO, for an error without an errno; none a write gives is above 127.
                let errno = io.raw_os_error().unwrap_or(5).clamp(1, 127) as u8;
                ExitCode::from(128 + errno)
            }
            None => errors::exit(Err(e)),
        },
    }
}
