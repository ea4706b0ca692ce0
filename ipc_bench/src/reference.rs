//! Reference figures, measured in the same run as the mechanisms, so that each mechanism's
//! figure can be read as a fraction of a limit:
//! - memcpy bandwidth: every mechanism copies each message at least once, so no one-way
//!   throughput can beat copying the same bytes within one process;
//! - the loop alone: stamp, copy and check in one process, with no IPC at all: what the
//!   benchmark's own Rust code costs per message;
//! - the floor: one cache line bounced between two processes spinning on different cores, the
//!   least any cross-process round trip can cost (needs two CPUs);
//! - the clock: one `Instant::now()`, which each timed round trip includes once.

use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::link::{PATIENCE, Spec, gave_up};
use crate::measure::{Budget, time_each};
use crate::payload::{self, Message};
use crate::shm::rings;
use crate::stats::{Latency, Throughput};
use crate::sys::{self, Cpus, Forked, Placement};

/// Runs `op` in batches until the batches add up to `target`; returns operations and time.
fn repeat(target: Duration, mut op: impl FnMut(u64)) -> (u64, Duration) {
    let mut done = 0;
    let mut batch = 16;
    let started = Instant::now();
    loop {
        for i in 0..batch {
            op(done + i);
        }
        done += batch;
        let elapsed = started.elapsed();
        if elapsed >= target {
            return (done, elapsed);
        }
        batch = (batch * 2).min(1 << 20);
    }
}

/// Nanoseconds per `Instant::now()`.
pub fn clock_ns(budget: Budget) -> f64 {
    let (n, took) = repeat(budget.target, |_| {
        black_box(Instant::now());
    });
    took.as_nanos() as f64 / n as f64
}

/// Copying one message of `size` bytes from a buffer to another, both in cache.
pub fn memcpy(size: usize, budget: Budget) -> Throughput {
    let src = vec![0x5a_u8; size];
    let mut dst = vec![0_u8; size];
    // Warm the caches and the CPU's clock, then measure.
    repeat(budget.warmup, |_| dst.copy_from_slice(black_box(&src)));
    let (messages, elapsed) = repeat(budget.target, |_| {
        dst.copy_from_slice(black_box(&src));
        black_box(&mut dst);
    });
    Throughput {
        messages,
        size,
        elapsed,
    }
}

/// The benchmark's own work per message, in one process: stamp, copy, check.
pub fn loop_alone(size: usize, budget: Budget) -> crate::Result<Throughput> {
    let mut msg = Message::new(size, 1);
    let mut dst = vec![0_u8; size];
    let mut failed = None;
    let mut step = |seq: u64| {
        dst.copy_from_slice(black_box(msg.stamp(seq)));
        if let Err(error) = payload::expect(black_box(&dst), size, seq) {
            failed = Some(error);
        }
    };
    repeat(budget.warmup, &mut step);
    let (messages, elapsed) = repeat(budget.target, &mut step);
    if let Some(error) = failed {
        return Err(error.into());
    }
    Ok(Throughput {
        messages,
        size,
        elapsed,
    })
}

/// One cache line bounced between this process and a child spinning on another core: the
/// parent writes an odd number, the child answers with the next even one. `None` with a single
/// CPU, where no spin can be a floor (the two processes can only take turns).
///
/// Measured three times, keeping the lowest median: a limit is the best the hardware did, and
/// one measurement can be slowed by a neighbour on a shared machine (seen here: 460 ns once,
/// against 100 to 140 ns usually).
pub fn floor(cpus: &Cpus, budget: Budget) -> crate::Result<Option<Latency>> {
    if !cpus.can_place(Placement::DifferentCores) {
        return Ok(None);
    }
    let mut best: Option<Latency> = None;
    for _ in 0..3 {
        let latency = bounce(cpus, budget)?;
        if best.is_none_or(|b| latency.median_ns < b.median_ns) {
            best = Some(latency);
        }
    }
    Ok(best)
}

fn bounce(cpus: &Cpus, budget: Budget) -> crate::Result<Latency> {
    const STOP: u64 = u64::MAX;
    // One ring's `head` counter serves as the line; nothing else in the mapping is used.
    let (ring, _) = rings(Spec { size: 16, slots: 1 })?;
    let flag = ring.head();
    let pinned = cpus.pin(Placement::DifferentCores)?;
    let Forked::Parent(process) = sys::fork()? else {
        let answer = || -> crate::Result<()> {
            pinned.pin_child()?;
            let mut expected = 1;
            loop {
                let mut seen = 0;
                spin_until(
                    || {
                        seen = flag.load(Ordering::Acquire);
                        seen == expected || seen == STOP
                    },
                    "was written by the parent",
                )?;
                if seen == STOP {
                    return Ok(());
                }
                flag.store(expected + 1, Ordering::Release);
                expected += 2;
            }
        };
        sys::exit_child(answer());
    };
    let mut value = 1;
    let bounce = || -> crate::Result<()> {
        flag.store(value, Ordering::Release);
        let answer = value + 1;
        spin_until(
            || flag.load(Ordering::Acquire) == answer,
            "was written by the child",
        )?;
        value += 2;
        Ok(())
    };
    let latency = time_each(budget, 1000, bounce)?;
    flag.store(STOP, Ordering::Release);
    process.wait()?;
    drop(pinned);
    Ok(latency)
}

/// A bare spin: load, compare, repeat, with no PAUSE and no yield, so that it measures the
/// hardware and not a waiting policy. Only for the floor, where each process has its own core.
fn spin_until(mut ready: impl FnMut() -> bool, what: &str) -> std::io::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        for _ in 0..(1 << 16) {
            if ready() {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(gave_up(what));
        }
    }
}
