//! Python's `threading.Semaphore` and `threading.Barrier`. std has no semaphore
//! (rust-lang/rust#27798), so one is built from a `Mutex` counting the free permits and a
//! `Condvar` to wait for one; a permit is a guard that gives itself back when dropped, so a
//! release without an acquire, the error `BoundedSemaphore` exists to catch, cannot be written.
//! Six workers share two permits, and each counts how many hold one at once: the largest count
//! proves the limit held. Then three threads run three rounds in step on `std::sync::Barrier`,
//! and the log they keep proves that no thread started a round before all finished the last.
//!
//! Python: `threading.Semaphore(2)`, `BoundedSemaphore`, `with sem:`, `threading.Barrier(3)`.
//! Run: `cargo run -p thread_basic -- semaphore_and_barrier`
//! Copy: semaphore_and_barrier.rs errors.rs
//! Needs: anyhow@1

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Condvar, Mutex, MutexGuard};
use std::thread;

use anyhow::{Result, ensure};

mod errors;
use errors::say;

const WORKERS: usize = 6;
const PERMITS: usize = 2;
const ROUNDS: usize = 3;

/// A counting semaphore: the number of free permits, and a condition to wait for one.
struct Semaphore {
    free: Mutex<usize>,
    released: Condvar,
}

/// A permit held; dropping it gives it back.
struct Permit<'a>(&'a Semaphore);

impl Semaphore {
    fn new(permits: usize) -> Semaphore {
        Semaphore { free: Mutex::new(permits), released: Condvar::new() }
    }

    fn acquire(&self) -> Permit<'_> {
        let waited = self.released.wait_while(lock(&self.free), |free| *free == 0);
        *waited.expect("no thread panics holding the lock") -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *lock(&self.0.free) += 1;
        self.0.released.notify_one();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("no thread panics while holding a lock here")
}

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let semaphore = Semaphore::new(PERMITS);
    let (holding, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
    thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                let _permit = semaphore.acquire(); // `with sem:`, until the end of the block
                let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                thread::yield_now(); // let the others try to get in meanwhile
                holding.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    let most = most.load(Ordering::SeqCst);
    ensure!((1..=PERMITS).contains(&most), "{most} workers held a permit at once");
    say!("semaphore: {WORKERS} workers, {PERMITS} permits: never more than {PERMITS} at once")?;

    let barrier = Barrier::new(3);
    let log = Mutex::new(Vec::new()); // (round, thread) as each thread finishes a round
    thread::scope(|scope| {
        for id in 0..3 {
            let (barrier, log) = (&barrier, &log);
            scope.spawn(move || {
                for round in 1..=ROUNDS {
                    lock(log).push((round, id));
                    // Everyone waits here until all three have arrived; one is told it is the
                    // leader, and says so for the round before it goes on to the next.
                    if barrier.wait().is_leader() {
                        let _ = say!("barrier: all 3 threads finished round {round}");
                    }
                }
            });
        }
    });
    let log = log.into_inner().expect("no thread panicked holding the log");
    ensure!(log.is_sorted_by_key(|(round, _)| *round), "a thread ran ahead of the others");
    say!("barrier: {} entries, in round order: no thread started a round early", log.len())?;
    Ok(())
}
