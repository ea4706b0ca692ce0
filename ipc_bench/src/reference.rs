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

use crate::links::link::{PATIENCE, Spec, gave_up};
use crate::links::shm::rings;
use crate::measure::{Budget, time_each};
use crate::payload::{self, Message, Source};
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

/// How many times a limit is measured; the best is kept. A limit is the best the machine did:
/// one measurement can be slowed by a neighbour on a shared machine.
const LIMIT_TRIES: usize = 3;

/// Where a copy's destination sits relative to its source, modulo a page: half a page apart.
///
/// On some CPUs (seen here on an AMD EPYC) glibc's memcpy of a few KiB is several times slower
/// when the destination lies just past a multiple of 4096 bytes from the source, as it did with
/// the two `Vec`s this code used to allocate (16 bytes past): loads and stores then alias in the
/// CPU's check by page offset. ipc_bench/README.md has the figures. Where the allocator puts two
/// buffers is an accident, so a limit measured on two `Vec`s was an accident too; half a page
/// apart is never the slow case.
const DST_OFFSET_IN_PAGE: usize = 2048;

/// A destination of `size` bytes at [`DST_OFFSET_IN_PAGE`] from `src`, modulo 4096, inside
/// `room` (which must be `size + 4096` bytes long).
fn placed_after(src: *const u8, room: &mut [u8], size: usize) -> &mut [u8] {
    let base = room.as_ptr() as usize;
    let want = (src as usize + DST_OFFSET_IN_PAGE) % 4096;
    let offset = (want + 4096 - base % 4096) % 4096;
    &mut room[offset..offset + size]
}

/// Copying one message of `size` bytes from a buffer to another, both in cache, the two placed
/// half a page apart; the best of [`LIMIT_TRIES`] measurements.
pub fn memcpy(size: usize, budget: Budget) -> Throughput {
    let src = vec![0x5a_u8; size];
    let mut room = vec![0_u8; size + 4096];
    let dst = placed_after(src.as_ptr(), &mut room, size);
    best_of(|| {
        // Warm the caches and the CPU's clock, then measure.
        repeat(budget.warmup, |_| dst.copy_from_slice(black_box(&src)));
        let (messages, elapsed) = repeat(budget.target, |_| {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut *dst);
        });
        Ok(Throughput { messages, size, elapsed })
    })
    .expect("copying cannot fail")
}

/// The benchmark's own work per message, in one process: stamp, copy, check, with the copy's
/// two buffers placed as for [`memcpy`]; the best of [`LIMIT_TRIES`] measurements.
pub fn loop_alone(size: usize, budget: Budget) -> crate::Result<Throughput> {
    let mut msg = Message::new(size, 1);
    let from = Source::new(size, 1);
    let src = msg.stamp(0).as_ptr();
    let mut room = vec![0_u8; size + 4096];
    let dst = placed_after(src, &mut room, size);
    best_of(|| {
        let mut failed = None;
        let mut step = |seq: u64| {
            dst.copy_from_slice(black_box(msg.stamp(seq)));
            if let Err(error) = payload::expect(black_box(&*dst), &from, seq) {
                failed = Some(error);
            }
        };
        repeat(budget.warmup, &mut step);
        let (messages, elapsed) = repeat(budget.target, &mut step);
        if let Some(error) = failed {
            return Err(error.into());
        }
        Ok(Throughput { messages, size, elapsed })
    })
}

/// The fastest of [`LIMIT_TRIES`] measurements.
fn best_of(mut measure: impl FnMut() -> crate::Result<Throughput>) -> crate::Result<Throughput> {
    let mut best: Option<Throughput> = None;
    for _ in 0..LIMIT_TRIES {
        let t = measure()?;
        if best.is_none_or(|b| t.mb_per_sec() > b.mb_per_sec()) {
            best = Some(t);
        }
    }
    Ok(best.expect("LIMIT_TRIES is at least 1"))
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
        sys::run_child(|| {
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
        });
    };
    let mut value = 1;
    let bounce = || -> crate::Result<()> {
        flag.store(value, Ordering::Release);
        let answer = value + 1;
        spin_until(|| flag.load(Ordering::Acquire) == answer, "was written by the child")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_is_half_a_page_from_the_source() {
        let src = vec![0_u8; 4096];
        for size in [64, 4096, 65536] {
            let mut room = vec![0_u8; size + 4096];
            let dst = placed_after(src.as_ptr(), &mut room, size);
            assert_eq!(dst.len(), size);
            let gap = (dst.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize) % 4096;
            assert_eq!(gap, DST_OFFSET_IN_PAGE);
        }
    }
}
