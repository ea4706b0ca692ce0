//! Stopping cleanly on a signal. Before any thread starts, SIGINT, SIGTERM and SIGHUP are
//! blocked: every thread inherits the mask, so no thread is ever interrupted by them, and no
//! handler runs. One thread waits for them with `sigwait` and, at the first, tells the main
//! thread, which closes the workers' queues: each worker finishes its item and ends. The child
//! process (this program again) is told by closing its stdin, and is reaped. The program's file
//! is removed, and it exits with 128 + the signal's number (143 for SIGTERM, 130 for Ctrl-C),
//! the status a shell reports for a process that the signal killed, so that a caller knows;
//! re-raising the signal would say the same, but only after the cleanup anyway. A second signal
//! while stopping forces the exit at once, after removing the file.
//!
//! Here worker 1 sends SIGTERM itself, once both workers have an item, so that the output
//! shows the shutdown in order. Python: `signal.signal(SIGTERM, handler)`, `KeyboardInterrupt`,
//! `finally`. Man pages: sigwait(3), sigprocmask(2), signal(7).
//! Run: `cargo run -p signals -- graceful_shutdown`
//! Copy: graceful_shutdown.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features signal), tempfile@3

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{Receiver, channel, sync_channel};
use std::sync::{Arc, Barrier};
use std::thread;

use anyhow::{Context, Result};
use nix::sys::signal::{SigSet, Signal, kill};
use nix::unistd::getpid;

mod errors;
use errors::say;

/// Set in the child's environment: it only reads its stdin to the end.
const CHILD: &str = "GRACEFUL_SHUTDOWN_CHILD";

pub fn main() -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        let read = std::io::stdin().read_to_end(&mut Vec::new()).context("reading stdin");
        return errors::exit(read.map(drop));
    }
    match run() {
        Ok(signal) => ExitCode::from(128 + signal as u8),
        Err(e) => errors::exit(Err(e)),
    }
}

/// Runs until a signal stops it, cleans up, and returns the signal.
fn run() -> Result<Signal> {
    let signals = SigSet::from_iter([Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP]);
    signals.thread_block().context("blocking SIGINT, SIGTERM and SIGHUP")?;
    let file = tempfile::Builder::new().prefix("graceful_shutdown-").tempfile();
    let file = file.context("creating the program's file")?;
    let (path, (stop, stopped)) = (file.path().to_path_buf(), channel());
    // The waiting thread: the first signal stops the program, a second ends it now.
    thread::spawn(move || -> Result<()> {
        let first = signals.wait().context("sigwait")?;
        let _ = say!("signal thread: got {first}; telling the others to stop");
        let _ = stop.send(first);
        let second = signals.wait().context("sigwait")?;
        let _ = std::fs::remove_file(&path);
        std::process::exit(128 + second as i32)
    });
    let mut child = start_child(signals)?;
    say!("main: SIGINT, SIGTERM and SIGHUP blocked before any thread; 2 workers, a child")?;
    let both_busy = Arc::new(Barrier::new(2));
    let mut queues = Vec::new();
    let mut workers = Vec::new();
    for id in 1..=2 {
        let (queue, items) = sync_channel::<u32>(1);
        queue.send(id).context("queueing an item")?;
        let both_busy = Arc::clone(&both_busy);
        workers.push(thread::spawn(move || work(id, &items, &both_busy)));
        queues.push(queue);
    }
    let signal = stopped.recv().context("the signal thread ended")?;
    drop(queues); // closed queues: each worker ends after its item
    for worker in workers {
        worker.join().expect("a worker does not panic")?;
    }
    say!("main: both workers joined")?;
    drop(child.stdin.take()); // end of file: the child ends
    let status = child.wait().context("waiting for the child")?;
    say!("main: closed the child's stdin; it ended: {status}")?;
    file.close().context("removing the program's file")?;
    say!("main: removed its file; exiting with {} (128 + {signal})", 128 + signal as i32)?;
    Ok(signal)
}

/// Starts this program again as the child, with no signal blocked. A child inherits the
/// blocked mask, through `Command` too (Rust 1.95 does not reset it), and SIGTERM could not
/// stop it.
fn start_child(signals: SigSet) -> Result<Child> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut command = Command::new(&exe);
    command.args(std::env::args_os().skip(1)).env(CHILD, "1").stdin(Stdio::piped());
    // Safety: between fork and exec only async-signal-safe calls are allowed, and
    // pthread_sigmask is one.
    unsafe { command.pre_exec(move || signals.thread_unblock().map_err(Into::into)) };
    command.spawn().context("starting the child")
}

/// A worker: takes items until its queue is closed. Worker 1 sends the demonstration's SIGTERM
/// once both workers hold an item.
fn work(id: u32, items: &Receiver<u32>, both_busy: &Barrier) -> Result<()> {
    while let Ok(item) = items.recv() {
        let printed = say!("worker {id}: took item {item}");
        both_busy.wait(); // even if that line failed: the other worker is waiting here
        if id == 1 {
            let printed = printed.and_then(|()| say!("worker 1: sending SIGTERM to this process"));
            kill(getpid(), Signal::SIGTERM).context("kill")?; // sent in any case: main waits
            printed?;
        } else {
            printed?;
        }
    }
    Ok(say!("worker {id}: queue closed, stopping")?)
}
