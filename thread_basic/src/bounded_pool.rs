//! Python's `ThreadPoolExecutor(max_workers=3).map(f, items)`, with a queue of bounded size.
//! Three worker threads take jobs from a channel that holds at most two, so the main thread,
//! which submits ten, waits whenever the workers fall behind. Each job's result goes back with
//! its index, and the main thread puts the results in the order of the inputs. One job panics:
//! its worker catches the panic, reports it for that item, and takes the next job, so no other
//! result is lost. Dropping the sender closes the queue; each worker ends when it is empty.
//!
//! `rayon` (`items.par_iter().map(f)`) is the better answer for CPU-bound work on data in
//! memory. Not for blocking work, such as a read or a call that sleeps: rayon has one thread per
//! CPU, and a blocked one is a CPU lost; a pool like this one is sized for the waiting instead.
//!
//! Python: `concurrent.futures.ThreadPoolExecutor`, `executor.map`, `queue.Queue(maxsize=2)`,
//! `future.exception()`. Run: `cargo run -p thread_basic -- bounded_pool`
//! Copy: bounded_pool.rs errors.rs
//! Needs: anyhow@1

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

use anyhow::{Context, Result, ensure};

mod errors;
use errors::say;

const WORKERS: usize = 3;
const QUEUE: usize = 2;
const JOBS: u64 = 10;

/// A job's index among the inputs, and its result or why it failed.
type Outcome = (usize, Result<u64, String>);

/// The job: a square, except for 7, where it panics on purpose.
fn square(n: u64) -> u64 {
    assert!(n != 7, "no square for 7, on purpose");
    n * n
}

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    // A panic in a pool worker is reported with its item; without this, the default hook would
    // also print it on stderr. Panics elsewhere are printed as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !thread::current().name().is_some_and(|name| name.starts_with("pool-")) {
            default_hook(info);
        }
    }));
    let (jobs, queue) = sync_channel::<(usize, u64)>(QUEUE); // `queue.Queue(maxsize=2)`
    let (results, finished) = sync_channel::<Outcome>(JOBS as usize);
    // One receiver shared by the workers: whichever is free takes the next job.
    let queue = Arc::new(Mutex::new(queue));
    let mut workers = Vec::new();
    for id in 0..WORKERS {
        let (queue, results) = (Arc::clone(&queue), results.clone());
        let worker = thread::Builder::new().name(format!("pool-{id}"));
        workers.push(worker.spawn(move || work(&queue, &results)).context("spawning a worker")?);
    }
    drop(results); // the workers hold the only senders: `finished` ends when they all have
    for (index, n) in (1..=JOBS).enumerate() {
        jobs.send((index, n)).context("submitting a job")?; // waits while the queue is full
    }
    drop(jobs); // closes the queue: `executor.shutdown(wait=True)`
    say!("pool: {WORKERS} workers, a queue of {QUEUE}; {JOBS} jobs submitted, the queue closed")?;
    let mut ordered: Vec<Outcome> = finished.iter().collect();
    ordered.sort_by_key(|(index, _)| *index);
    ensure!(ordered.len() == JOBS as usize, "{} results for {JOBS} jobs", ordered.len());
    for worker in workers {
        worker.join().expect("a worker catches every job's panic");
    }
    for (index, result) in &ordered {
        match result {
            Ok(square) => say!("item {}: {square}", index + 1)?,
            Err(why) => say!("item {}: failed: {why}", index + 1)?,
        }
    }
    let failed = ordered.iter().filter(|(_, result)| result.is_err()).count();
    let done = ordered.len() - failed;
    say!("pool: {done} results and {failed} failure, in input order; every worker ended")?;
    Ok(())
}

/// A worker: takes jobs until the queue is closed and empty; a job's panic becomes its result.
fn work(queue: &Mutex<Receiver<(usize, u64)>>, results: &SyncSender<Outcome>) {
    loop {
        // The lock is held only to take a job, not while doing it.
        let next = queue.lock().expect("no worker panics holding the queue").recv();
        let Ok((index, n)) = next else {
            return; // closed: no more jobs
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| square(n))).map_err(|panic| {
            let text = panic.downcast_ref::<String>().map(String::as_str);
            let why = panic.downcast_ref::<&str>().copied().or(text).unwrap_or("a panic");
            format!("the worker panicked: {why}")
        });
        if results.send((index, outcome)).is_err() {
            return; // the main thread has gone: nobody wants the rest
        }
    }
}
