//! `fork` done right: the child prints its PID and its parent's, the parent reaps it with
//! `waitpid` and checks how it ended. Every step `fork.rs` takes is here, in the open.
//! Python: `pid = os.fork()`, `if pid == 0: ...`, `os.waitpid(pid, 0)`, `os.getppid()`.
//!
//! Run: `cargo run -p process_basic -- fork_and_wait`
//! Copy: fork_and_wait.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features process, signal)
//!
//! Man pages: fork(2), waitpid(2), prctl(2) for PR_SET_PDEATHSIG, _exit(2).

use std::io::{Read as _, Write as _};

use anyhow::{Context, Result, bail, ensure};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getpid, getppid};

mod errors;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let me = getpid();
    // 1. Flush: a line still in stdout's buffer would be copied into the child, printed twice.
    std::io::stdout().flush().map_err(errors::StdoutError)?;
    // 2. A pipe on which the child reports how its work failed. Its exit status cannot say
    // it: any code the helper chose for "stdout failed" the work could also exit with.
    let (mut report, mut reporter) = std::io::pipe().context("pipe for the child's report")?;
    // 3. Fork, only while this process has one thread (see `fork_one_thread`).
    let child = match fork_one_thread()? {
        ForkResult::Parent { child } => child,
        ForkResult::Child => {
            // 4. The child never returns into `run`: that would go on with the parent's
            // program, destructors included. So its work runs under `catch_unwind` (a panic
            // must not unwind either) and it ends with `_exit`.
            let outcome = std::panic::catch_unwind(|| -> Result<()> {
                // 5. Die with the parent, so no child outlives it; a parent that died before
                // this call sends no signal, hence the check after it.
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("prctl")?;
                if getppid() != me {
                    return Ok(()); // nobody is left to work for or to report to
                }
                say!("child: my pid is {}, my parent is {}", getpid(), getppid())?;
                Ok(())
            });
            // 6. A failure is the parent's to report, once: the child writes it into the pipe,
            // one write of under 4 KiB that cannot block or tear, and prints nothing.
            let code = match outcome {
                Ok(Ok(())) => 0,
                Ok(Err(e)) => {
                    let _ = write!(reporter, "{e:#}");
                    1
                }
                Err(_) => 101, // a panic; the panic hook has printed it
            };
            let _ = std::io::stdout().flush();
            exit_now(code)
        }
    };
    drop(reporter); // the child's copy is the only one left: its exit ends the pipe
    // 7. Reap the child (until then it is a zombie) and check its status before trusting
    // anything it did. Waiting first also orders the output, with no sleep.
    let status = waitpid(child, None).with_context(|| format!("waitpid {child}"))?;
    let mut why = String::new();
    report.read_to_string(&mut why).context("reading the child's report")?;
    match status {
        WaitStatus::Exited(_, 0) => {}
        WaitStatus::Exited(_, 1) if !why.is_empty() => bail!("child {child}: {why}"),
        WaitStatus::Exited(_, code) => bail!("child {child} exited with status {code}"),
        WaitStatus::Signaled(_, signal, _) => bail!("child {child} was killed by {signal}"),
        _ => bail!("child {child}: waitpid without options answers only exits and deaths"),
    }
    say!("parent: my pid is {me}, my child is {child}")?;
    say!("parent: reaped {child}, it exited with 0")?;
    Ok(())
}

/// Forks. The child gets a copy of the forking thread alone, so a lock that another thread
/// held (the allocator's, stdout's) would stay locked in the child for ever: refuse to fork
/// while this process has more than one thread.
fn fork_one_thread() -> Result<ForkResult> {
    let threads = std::fs::read_dir("/proc/self/task").context("/proc/self/task")?.count();
    ensure!(threads == 1, "fork: this process has {threads} threads; fork only while it has one");
    // Safety: this process has one thread, checked above.
    unsafe { fork() }.context("fork")
}

/// Ends this process at once with `code`, as Python's `os._exit(code)`.
fn exit_now(code: i32) -> ! {
    // Safety: _exit takes no pointer and runs nothing that belongs to the parent: no
    // destructor, no atexit handler, no flush of the stdio buffers a child copied.
    unsafe { libc::_exit(code) }
}
