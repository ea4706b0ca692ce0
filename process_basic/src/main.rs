//! Processes in Rust, for a reader coming from Python's `os.fork` and `multiprocessing.Process`.
//!
//! Run it: `cargo run -p process_basic`
//!
//! What it shows, one section each:
//! 1. `fork`: parent and child print their PIDs; the parent reaps the child with `waitpid`;
//! 2. five worker processes by fork, each given its index and exiting with its own status;
//! 3. decoding exit statuses: a normal exit code, a death by signal, `WNOHANG`, `ECHILD`;
//! 4. spawning instead of forking: the program re-runs itself as a worker with
//!    `std::process::Command`, the safe way once a program has threads.
//!
//! Python it replaces: `os.fork()`, `os.getpid()`/`os.getppid()`, `os.wait()`/`os.waitpid()`,
//! `multiprocessing.Process(target=worker, args=(i,))`, `.start()`, `.join()`, `.exitcode`.
//!
//! The rules this file follows, and why:
//! - Fork only while the process has a single thread. A child forked from a threaded process
//!   inherits only the forking thread; a lock another thread held (the allocator's, stdout's)
//!   stays locked forever in the child. This program starts no thread at all.
//! - Flush stdout before every fork, so no half-written buffer is copied into the child and
//!   printed twice.
//! - A forked child ends with `libc::_exit`, never by returning from `main` (see `exit_child`).
//! - Every child is reaped: an exited child stays a zombie until its parent waits for it.
//! - Every child dies with its parent (`PR_SET_PDEATHSIG`), so a killed parent leaves nothing.
//!
//! Man pages worth reading: fork(2), waitpid(2), wait(2) for the status macros, prctl(2) for
//! PR_SET_PDEATHSIG, _exit(2).

use std::error::Error;
use std::io::{self, Write};
use std::process::{Command, ExitCode};

use nix::errno::Errno;
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, pause};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The argument that makes this program act as a spawned worker (section 4).
const WORKER_ROLE: &str = "worker";

fn main() -> Result<ExitCode> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(WORKER_ROLE) {
        return spawned_worker(&args[2..]);
    }
    fork_one_child()?;
    fork_workers()?;
    exit_statuses()?;
    spawn_instead_of_fork()?;
    Ok(ExitCode::SUCCESS)
}

/// Section 1: `pid = os.fork()`; `if pid == 0: ... else: os.waitpid(pid, 0)`.
fn fork_one_child() -> Result<()> {
    println!("== 1. fork: one child ==");
    let parent = getpid();
    let child = fork_child(parent, || {
        println!("child: my pid is {}, my parent is {}", getpid(), getppid());
        Ok(0)
    })?;
    // Waiting first makes the order deterministic: the child has printed and exited before the
    // parent prints anything. No sleep is involved.
    let status = waitpid(child, None)?;
    println!("parent: my pid is {parent}, my child is {child}");
    println!("parent: reaped {child}, it {}", describe(status));
    Ok(())
}

/// Section 2: `multiprocessing.Process(target=worker, args=(i,))` five times, then `join` each.
fn fork_workers() -> Result<()> {
    const WORKERS: i32 = 5;
    println!("== 2. five worker processes ==");
    let parent = getpid();
    let mut children = Vec::new();
    for index in 0..WORKERS {
        // The child gets `index` simply by being a copy of this process: fork copies every
        // variable, which is how `args=(i,)` reaches a forked worker.
        let child = fork_child(parent, move || {
            let code = 10 + index;
            println!(
                "worker {index}: pid {}, parent {}, exiting with {code}",
                getpid(),
                getppid()
            );
            Ok(code)
        })?;
        children.push((index, child));
    }
    // The workers run at once and print in any order; reaping every one before printing keeps
    // the parent's report after all of their lines.
    let mut reaped = Vec::new();
    for (index, child) in children {
        reaped.push((index, child, waitpid(child, None)?));
    }
    for (index, child, status) in reaped {
        // `.exitcode` in multiprocessing; here the status is decoded from `WaitStatus`.
        println!("parent: worker {index} (pid {child}) {}", describe(status));
    }
    Ok(())
}

/// Section 3: every way `waitpid` can answer.
fn exit_statuses() -> Result<()> {
    println!("== 3. exit statuses ==");
    let parent = getpid();

    let quitter = fork_child(parent, || {
        println!("child {}: exiting with 3", getpid());
        Ok(3)
    })?;
    println!("parent: {quitter} {}", describe(waitpid(quitter, None)?));

    let sleeper = fork_child(parent, || {
        // Waits for a signal that never comes: the parent kills it.
        loop {
            pause();
        }
    })?;
    // WNOHANG asks without blocking; the sleeper cannot have exited on its own.
    match waitpid(sleeper, Some(WaitPidFlag::WNOHANG))? {
        WaitStatus::StillAlive => {
            println!("parent: {sleeper} is still alive (waitpid with WNOHANG)")
        }
        other => return Err(format!("the sleeper cannot have ended, got {other:?}").into()),
    }
    kill(sleeper, Signal::SIGKILL)?;
    println!("parent: sent SIGKILL to {sleeper}");
    println!("parent: {sleeper} {}", describe(waitpid(sleeper, None)?));

    // Waiting with no child left is an error, not a hang.
    match waitpid(None::<Pid>, None) {
        Err(Errno::ECHILD) => println!("parent: no children left (waitpid fails with ECHILD)"),
        other => return Err(format!("every child was reaped, got {other:?}").into()),
    }
    Ok(())
}

/// Section 4: start a worker as a fresh program instead of a forked copy.
fn spawn_instead_of_fork() -> Result<()> {
    println!("== 4. spawn instead of fork ==");
    // `current_exe` re-runs this very binary; the first argument selects the worker role. This
    // is what `multiprocessing` calls the "spawn" start method: the child starts from `main`
    // with nothing inherited but its arguments, environment and descriptors, so it is safe even
    // when the parent has threads. stdout is flushed first so the child's lines follow ours.
    io::stdout().flush()?;
    let mut worker = Command::new(std::env::current_exe()?)
        .args([WORKER_ROLE, "7", &getpid().to_string()])
        .spawn()?;
    // `Child::wait` reaps it; `ExitStatus::code` is `None` when a signal ended it.
    let status = worker.wait()?;
    match status.code() {
        Some(code) => println!("parent: spawned worker {} exited with {code}", worker.id()),
        None => println!(
            "parent: spawned worker {} ended by a signal: {status}",
            worker.id()
        ),
    }
    Ok(())
}

/// The worker role of section 4: `process_basic worker INDEX PARENT_PID`.
fn spawned_worker(args: &[String]) -> Result<ExitCode> {
    let [index, parent] = args else {
        return Err("usage: process_basic worker INDEX PARENT_PID".into());
    };
    let index: u8 = index.parse()?;
    die_with_parent(Pid::from_raw(parent.parse()?))?;
    println!(
        "worker {index}: spawned as a fresh program, pid {}, parent {}",
        getpid(),
        getppid()
    );
    // A spawned worker is an ordinary process: returning from `main` is right here.
    Ok(ExitCode::from(index))
}

/// Forks; the child runs `work` and exits with the code it returns. Returns the child's PID.
fn fork_child(parent: Pid, work: impl FnOnce() -> Result<i32>) -> Result<Pid> {
    // Anything still buffered would be copied into the child and written twice.
    io::stdout().flush()?;
    // Safety: this process has only one thread (nothing in it spawns threads before the last
    // fork), so the child can safely run ordinary Rust code, allocate and print.
    match unsafe { fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            let code = die_with_parent(parent)
                .map_err(Into::into)
                .and_then(|()| work());
            exit_child(code.unwrap_or_else(|e| {
                eprintln!("child {}: {e}", getpid());
                101
            }))
        }
    }
}

/// Makes this process die when its parent does, so a killed parent leaves no orphans running.
fn die_with_parent(parent: Pid) -> nix::Result<()> {
    // The parent-death signal fires when the parent *thread* that forked us exits; here that
    // is the parent's only thread.
    set_pdeathsig(Signal::SIGKILL)?;
    // The race: if the parent died before the line above, no signal will ever come, and we
    // have already been re-parented. Checking after setting it closes the gap.
    if getppid() != parent {
        exit_child(1);
    }
    Ok(())
}

/// Ends a forked child. Returning from `main` instead would run the parent's code after the
/// fork point, including destructors that belong to the parent (a temp file removed twice, a
/// lock released for the parent); `std::process::exit` would run atexit handlers and flush
/// stdio buffers the parent also owns. `_exit` ends the process at once.
fn exit_child(code: i32) -> ! {
    // Our own output must still get out, and only once: flush it now.
    let _ = io::stdout().flush();
    // Safety: `_exit` is async-signal-safe and takes no pointers; it cannot be misused.
    unsafe { libc::_exit(code) }
}

/// `WaitStatus` in words: the `os.WIFEXITED`/`os.WEXITSTATUS`/`os.WTERMSIG` dance, decoded.
fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited with {code}"),
        WaitStatus::Signaled(_, signal, core) => format!(
            "was killed by {}{}",
            signal.as_str(),
            if core { " (core dumped)" } else { "" }
        ),
        other => format!("changed state: {other:?}"),
    }
}
