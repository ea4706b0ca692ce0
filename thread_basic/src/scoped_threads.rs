//! Scoped threads borrow local data, even disjoint `&mut` parts of it, with no `Arc`: the
//! scope joins every thread before it returns. Python: threads share everything and prove
//! nothing (`threading.Thread(target=f, args=(chunk,))`); here the borrow checker proves it.
//!
//! Run: `cargo run -p thread_basic -- scoped_threads`
//! Copy: scoped_threads.rs errors.rs
//! Needs: anyhow@1

use std::thread;

use anyhow::Result;

mod errors;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let readings: Vec<u32> = (1..=12).collect();
    let mut doubled = vec![0u32; readings.len()];
    // `thread::spawn` needs `'static` data, hence the `Arc` of most tutorials. A scope
    // promises to join its threads before it ends, so they may borrow `readings`, and each
    // may hold its own `&mut` chunk of `doubled`.
    let chunk_sums = thread::scope(|scope| -> std::io::Result<Vec<u32>> {
        let mut handles = Vec::new();
        for (input, output) in readings.chunks(4).zip(doubled.chunks_mut(4)) {
            let handle = thread::Builder::new().spawn_scoped(scope, move || {
                for (out, value) in output.iter_mut().zip(input) {
                    *out = value * 2;
                }
                input.iter().sum::<u32>()
            })?;
            handles.push(handle);
        }
        let join = |h: thread::ScopedJoinHandle<u32>| h.join().expect("a scoped thread panicked");
        Ok(handles.into_iter().map(join).collect())
    })?;
    say!("main: sums of each chunk of 4: {chunk_sums:?}")?;
    say!("main: doubled in place by 3 threads: {doubled:?}")?;
    Ok(())
}
