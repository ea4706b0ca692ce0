//! A thread nobody joins, and why `main` must still wait for its word: the process ends when
//! `main` returns, killing such a thread mid-work. Python: `_thread.start_new_thread(f, args)`.
//!
//! Run: `cargo run -p thread_basic -- detached_thread`
//! Copy: detached_thread.rs errors.rs
//! Needs: anyhow@1
//!
//! Man pages: pthread_detach(3).

use std::sync::mpsc;
use std::thread;

use anyhow::{Context, Result};

mod errors;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (done_tx, done_rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name("detached".into())
        .spawn(move || {
            let printed = say!("detached: working on my own, nobody will join me");
            done_tx.send(printed).expect("main waits for this message");
        })
        .context("spawning the detached thread")?;
    // Dropping the `JoinHandle` detaches the thread: it runs on, but nothing waits for it.
    drop(handle);
    done_rx.recv().expect("the detached thread sends before it ends")?;
    say!("main: the detached thread reported done; now main may return")?;
    Ok(())
}
