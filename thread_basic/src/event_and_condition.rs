//! Python's `threading.Event` and `threading.Condition`, built from what std has: a `Mutex`
//! guarding the state and a `Condvar` to sleep on it. A thread waits for an event that the main
//! thread sets; a wait with a timeout gives up and says so; a consumer takes items as a
//! producer adds them under a condition; and a thread blocked in a wait is stopped the only way
//! a thread can be, by a flag it checks and a notify that wakes it (a thread cannot be killed).
//!
//! The rules, each a bug when broken: change the state under the same lock the waiter holds
//! while it checks, before notifying, or a notify sent between its check and its sleep is lost
//! and it sleeps for ever; wait in a loop on the condition (`wait_while`), since a waiter may
//! wake with nothing changed; read what `wait_timeout_while` returns to learn which happened.
//!
//! Python: `threading.Event()` (`set`, `wait`, `wait(timeout)`), `threading.Condition()`
//! (`wait_for`, `notify`, `notify_all`). Run: `cargo run -p thread_basic -- event_and_condition`
//! Copy: event_and_condition.rs errors.rs
//! Needs: anyhow@1

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};

mod errors;
use errors::say;

/// `threading.Event`: a flag that only goes up, and a condition variable to wait for it.
struct Event {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Event {
    fn set(&self) {
        *lock(&self.set) = true; // under the lock, before the notify: no wakeup is lost
        self.changed.notify_all();
    }

    /// Whether the event was set within `timeout`: `false` means the time ran out.
    fn wait_timeout(&self, timeout: Duration) -> bool {
        let waited = self.changed.wait_timeout_while(lock(&self.set), timeout, |set| !*set);
        let (set, result) = waited.expect("no thread panics holding the lock");
        *set && !result.timed_out()
    }
}

/// What the producer and the consumer share: the items, and whether more will come.
struct Shelf {
    items: VecDeque<u32>,
    closed: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("no thread panics while holding a lock here")
}

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let ready = Event { set: Mutex::new(false), changed: Condvar::new() };
    thread::scope(|scope| -> Result<()> {
        let waiter = scope.spawn(|| -> Result<()> {
            ensure!(ready.wait_timeout(Duration::from_secs(10)), "the event was not set in 10 s");
            Ok(say!("waiter: woke up, the event is set")?)
        });
        let printed = say!("main: setting the event");
        ready.set(); // even if the line failed: the waiter must not wait in vain
        printed?;
        waiter.join().expect("the waiter does not panic")?;
        Ok(())
    })?;

    let never = Event { set: Mutex::new(false), changed: Condvar::new() };
    let start = Instant::now();
    let set = never.wait_timeout(Duration::from_millis(100));
    let waited = start.elapsed() >= Duration::from_millis(100);
    say!("main: waited on an event nobody sets: set {set}, at least 100 ms passed: {waited}")?;

    let shelf = (Mutex::new(Shelf { items: VecDeque::new(), closed: false }), Condvar::new());
    let (state, changed) = &shelf;
    thread::scope(|scope| -> Result<()> {
        let consumer = scope.spawn(|| -> Result<()> {
            loop {
                // `wait_while` sleeps until there is an item or the end, checking on every wake.
                let waited = changed.wait_while(lock(state), |s| s.items.is_empty() && !s.closed);
                let mut shelf = waited.expect("no thread panics holding the lock");
                let Some(item) = shelf.items.pop_front() else {
                    return Ok(say!("consumer: the shelf is closed and empty; done")?);
                };
                drop(shelf); // work outside the lock, so that the producer can go on
                say!("consumer: took item {item}")?;
            }
        });
        for item in 1..=3 {
            lock(state).items.push_back(item);
            changed.notify_one();
        }
        lock(state).closed = true;
        changed.notify_all();
        consumer.join().expect("the consumer does not panic")
    })?;

    let stop = (Mutex::new(false), Condvar::new());
    let (stopped, wake) = &stop;
    thread::scope(|scope| -> Result<()> {
        let blocked = scope.spawn(|| {
            // Blocked until told to stop: the flag is the only way in.
            drop(wake.wait_while(lock(stopped), |stopped| !*stopped).expect("no panic holds it"));
            say!("blocked thread: saw the stop flag, returning")
        });
        *lock(stopped) = true;
        wake.notify_all();
        blocked.join().expect("the blocked thread does not panic")?;
        Ok(say!("main: joined the thread that was blocked")?)
    })
}
