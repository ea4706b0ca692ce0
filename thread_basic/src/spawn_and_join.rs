//! Five named threads, each given its index, each printing three steps; `main` joins them all
//! before it goes on. Python: `threading.Thread(target=worker, args=(i,))`, `.start()`, `.join()`.
//!
//! Run: `cargo run -p thread_basic -- spawn_and_join`
//! Copy: spawn_and_join.rs errors.rs
//! Needs: anyhow@1
//!
//! Man pages: pthread_create(3), pthread_join(3).

use std::thread;

use anyhow::{Context, Result};

mod errors;
use errors::say;

const WORKERS: usize = 5;
const STEPS: usize = 3;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let mut handles = Vec::with_capacity(WORKERS);
    for index in 0..WORKERS {
        // `Builder` rather than `thread::spawn`: the thread gets a name (shown in panics and
        // debuggers), and a failed spawn is an error instead of a panic.
        let handle = thread::Builder::new()
            .name(format!("worker-{index}"))
            // `move` hands `index` to the thread: the closure is Python's `target`, its
            // captures are the `args`.
            .spawn(move || -> Result<()> {
                let name = thread::current().name().unwrap_or("unnamed").to_owned();
                for step in 1..=STEPS {
                    // `say!`, like `println!`, holds stdout's lock for the whole line, so lines
                    // of different threads never tear (Python's `print` can: "Worker: Worker: 4").
                    say!("{name}: step {step} of {STEPS} (my index is {index})")?;
                }
                Ok(())
            })
            .with_context(|| format!("spawning thread worker-{index}"))?;
        handles.push(handle);
    }
    for handle in handles {
        // `join` gives `Err` only if the thread panicked, a bug here; `Ok` holds what the
        // thread returned, its own `Result`.
        handle.join().expect("a worker thread panicked")?;
    }
    say!("main: joined all {WORKERS} workers, every step above came before this line")?;
    Ok(())
}
