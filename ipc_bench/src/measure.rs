//! The two measurements, generic over the mechanism: round-trip latency (ping-pong) and one-way
//! throughput (streaming), each between this process and a forked child.
//!
//! The timed loops do what a real program would do per message, and no more: stamp a
//! sequence number and checksum (O(1)), send, receive, check every byte. Everything else
//! (allocation, calibration, forking) happens outside them.

use std::time::{Duration, Instant};

use crate::links::link::{End, Experiment};
use crate::links::watch::{self, Watch};
use crate::payload::{self, Message, Source};
use crate::stats::{Latency, Throughput};
use crate::sys::{self, Child, Cpus, Forked, Pinned, Placement};

/// The body seeds of the two directions, so that an echo of the parent's own message would not
/// pass for the child's reply.
const PARENT_SALT: u64 = 0x1234_5678;
const CHILD_SALT: u64 = 0x8765_4321;

/// Sequence number of the message that ends a ping-pong.
const STOP: u64 = u64::MAX;

/// How long each measurement runs.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Time spent before measuring: warms caches, wakes the CPUs up, and calibrates the count.
    pub warmup: Duration,
    /// Time the measurement itself should take.
    pub target: Duration,
    /// Fewest round trips measured, even when they are slow: p99 needs a few hundred.
    pub min_samples: usize,
}

impl Budget {
    pub const FULL: Budget = Budget {
        warmup: Duration::from_millis(40),
        target: Duration::from_millis(250),
        min_samples: 2000,
    };

    pub const QUICK: Budget = Budget {
        warmup: Duration::from_millis(4),
        target: Duration::from_millis(20),
        min_samples: 200,
    };

    /// Most round trips or messages in one measurement: keeps the sample buffer small.
    const MAX_COUNT: u64 = 20_000_000;

    /// How many operations fit in `target`, given that `done` of them took `took`.
    fn count(&self, done: u64, took: Duration, min: u64) -> u64 {
        let per_op = took.as_secs_f64() / done.max(1) as f64;
        ((self.target.as_secs_f64() / per_op.max(1e-12)) as u64).clamp(min, Self::MAX_COUNT)
    }
}

/// Where and how much to measure.
#[derive(Clone, Copy)]
pub struct Setup<'a> {
    pub size: usize,
    pub cpus: &'a Cpus,
    pub placement: Placement,
    pub budget: Budget,
}

/// The parent's side once the child runs. Fields drop in this order: first the watch (the
/// child's death must no longer touch the link), then the child (killed and reaped if it was
/// not waited for), the placement, and last the link itself.
struct Peer<'a, E> {
    _watch: Watch,
    process: Child,
    /// Drop it (after the child has exited) to give the parent its CPUs back.
    _pinned: Pinned<'a>,
    /// The parent's end of the link.
    parent: E,
}

/// Places the parent, forks, and runs `peer` on the child's end in the child, which ends there.
/// Each process drops the end it does not use: a pipe's reader sees end of file only when every
/// copy of the write end is closed, and that is how the parent notices a child that died.
fn start_peer<'a, E: End>(
    setup: &Setup<'a>,
    parent: E,
    mut child: E,
    peer: fn(&mut E, usize) -> crate::Result<()>,
) -> crate::Result<Peer<'a, E>> {
    let pinned = setup.cpus.pin(setup.placement)?;
    watch::reset();
    let Forked::Parent(process) = sys::fork()? else {
        drop(parent);
        sys::run_child(|| {
            pinned.pin_child()?;
            peer(&mut child, setup.size)
        });
    };
    drop(child);
    Ok(Peer { _watch: Watch::new(parent.wake()), process, _pinned: pinned, parent })
}

/// Ping-pong: the parent sends message `n`, the child checks it and replies with its own
/// message `n`, the parent checks the reply. Each round trip is timed on its own, with one
/// clock read per round trip.
pub struct RoundTrip<'a>(pub Setup<'a>);

impl Experiment for RoundTrip<'_> {
    type Output = Latency;

    fn run<E: End>(self, parent: E, child: E) -> crate::Result<Latency> {
        let Setup { size, budget, .. } = self.0;
        let mut peer = start_peer(&self.0, parent, child, echo)?;
        let latency = ping_pong(&mut peer.parent, size, budget)?;
        peer.process.wait()?;
        Ok(latency)
    }
}

/// The parent's side of the ping-pong, whoever the peer is: timed round trips, then the
/// message that ends the peer.
pub fn ping_pong<E: End>(parent: &mut E, size: usize, budget: Budget) -> crate::Result<Latency> {
    let mut ping = Message::new(size, PARENT_SALT);
    let child = Source::new(size, CHILD_SALT);
    let mut seq = 0;
    let latency = time_each(budget, 100, || {
        round_trip(parent, &mut ping, &child, seq)?;
        seq += 1;
        Ok(())
    })?;
    parent.send(ping.stamp(STOP))?;
    Ok(latency)
}

/// Runs `op` to warm up (at least `min_warm` times, and for the warm-up time), then times each of
/// as many further runs as fit the budget's target, with one clock read per run.
pub fn time_each(
    budget: Budget,
    min_warm: u64,
    mut op: impl FnMut() -> crate::Result<()>,
) -> crate::Result<Latency> {
    let started = Instant::now();
    let mut warm = 0;
    while warm < min_warm || started.elapsed() < budget.warmup {
        op()?;
        warm += 1;
    }
    let count = budget.count(warm, started.elapsed(), budget.min_samples as u64);
    let mut samples = Vec::with_capacity(count as usize);
    let mut before = Instant::now();
    for _ in 0..count {
        op()?;
        let after = Instant::now();
        samples.push((after - before).as_nanos() as u64);
        before = after;
    }
    Ok(Latency::from_samples(&mut samples))
}

#[inline]
fn round_trip<E: End>(
    end: &mut E,
    ping: &mut Message,
    from: &Source,
    seq: u64,
) -> crate::Result<()> {
    end.send(ping.stamp(seq))?;
    end.recv(|reply| payload::expect(reply, from, seq))??;
    Ok(())
}

/// The child's side of the ping-pong.
pub fn echo<E: End>(end: &mut E, size: usize) -> crate::Result<()> {
    let mut pong = Message::new(size, CHILD_SALT);
    let parent = Source::new(size, PARENT_SALT);
    for expected in 0.. {
        let seq = end.recv(|ping| payload::read(ping, &parent))??;
        if seq == STOP {
            break;
        }
        if seq != expected {
            return Err(payload::PayloadError::OutOfOrder { expected, got: seq }.into());
        }
        end.send(pong.stamp(seq))?;
    }
    Ok(())
}

/// Streaming: the parent asks for `n` messages, the child sends them as fast as the link takes
/// them, and the parent checks each one. Timed from the request to the last message checked.
pub struct Stream<'a>(pub Setup<'a>);

impl Experiment for Stream<'_> {
    type Output = Throughput;

    fn run<E: End>(self, parent: E, child: E) -> crate::Result<Throughput> {
        let Setup { size, budget, .. } = self.0;
        let mut peer = start_peer(&self.0, parent, child, produce)?;
        let throughput = stream(&mut peer.parent, size, budget)?;
        peer.process.wait()?;
        Ok(throughput)
    }
}

/// The parent's side of the stream, whoever the peer is: calibrated batches, then the request
/// for nothing that ends the peer.
pub fn stream<E: End>(parent: &mut E, size: usize, budget: Budget) -> crate::Result<Throughput> {
    let mut request = Message::new(size, PARENT_SALT);
    let child = Source::new(size, CHILD_SALT);
    // Sequence numbers run on across batches, so a message left over from one batch
    // cannot pass for one of the next.
    let mut seq = 0;
    let mut batch = |n: u64| -> crate::Result<Duration> {
        let started = Instant::now();
        parent.send(request.stamp(n))?;
        for _ in 0..n {
            parent.recv(|msg| payload::expect(msg, &child, seq))??;
            seq += 1;
        }
        Ok(started.elapsed())
    };
    // Calibrate: double the batch until it lasts the warm-up time.
    let mut n = 64;
    let took = loop {
        let took = batch(n)?;
        if took >= budget.warmup || n >= Budget::MAX_COUNT {
            break took;
        }
        n *= 2;
    };
    let count = budget.count(n, took, 1000);
    let elapsed = batch(count)?;
    // A request for no messages ends the child.
    batch(0)?;
    Ok(Throughput { messages: count, size, elapsed })
}

/// The child's side of the stream.
pub fn produce<E: End>(end: &mut E, size: usize) -> crate::Result<()> {
    let mut msg = Message::new(size, CHILD_SALT);
    let parent = Source::new(size, PARENT_SALT);
    let mut seq = 0;
    loop {
        let n = end.recv(|request| payload::read(request, &parent))??;
        if n == 0 {
            return Ok(());
        }
        for _ in 0..n {
            end.send(msg.stamp(seq))?;
            seq += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::io;

    use super::*;
    use crate::payload::PayloadError;

    /// A link end that replays scripted messages and records what is sent: the loops' logic
    /// without a second process.
    struct Scripted {
        incoming: VecDeque<Vec<u8>>,
        sent: Vec<Vec<u8>>,
    }

    impl Scripted {
        fn new(incoming: Vec<Vec<u8>>) -> Scripted {
            Scripted { incoming: incoming.into(), sent: Vec::new() }
        }
    }

    impl End for Scripted {
        fn send(&mut self, msg: &[u8]) -> io::Result<()> {
            self.sent.push(msg.to_vec());
            Ok(())
        }

        fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
            let msg = self.incoming.pop_front().ok_or(io::ErrorKind::UnexpectedEof)?;
            Ok(f(&msg))
        }
    }

    const SIZE: usize = 64;

    fn from(salt: u64, seqs: &[u64]) -> Vec<Vec<u8>> {
        let mut msg = Message::new(SIZE, salt);
        seqs.iter().map(|&s| msg.stamp(s).to_vec()).collect()
    }

    fn payload_error(result: crate::Result<()>) -> PayloadError {
        *result
            .expect_err("the loop must fail")
            .downcast::<PayloadError>()
            .expect("a payload error")
    }

    #[test]
    fn echo_answers_each_ping_with_its_number_until_stop() {
        let mut end = Scripted::new(from(PARENT_SALT, &[0, 1, 2, STOP]));
        echo(&mut end, SIZE).unwrap();
        let seqs: Vec<u64> = end
            .sent
            .iter()
            .map(|m| payload::read(m, &Source::new(SIZE, CHILD_SALT)).unwrap())
            .collect();
        assert_eq!(seqs, [0, 1, 2]);
    }

    #[test]
    fn echo_refuses_a_lost_ping() {
        let mut end = Scripted::new(from(PARENT_SALT, &[0, 2, STOP]));
        assert_eq!(
            payload_error(echo(&mut end, SIZE)),
            PayloadError::OutOfOrder { expected: 1, got: 2 }
        );
    }

    #[test]
    fn round_trip_refuses_a_repeated_or_corrupt_reply() {
        // The transport delivers reply 0 twice: the second round trip expected reply 1.
        let mut end = Scripted::new(from(CHILD_SALT, &[0, 0]));
        let mut ping = Message::new(SIZE, PARENT_SALT);
        let child = Source::new(SIZE, CHILD_SALT);
        round_trip(&mut end, &mut ping, &child, 0).unwrap();
        assert_eq!(
            payload_error(round_trip(&mut end, &mut ping, &child, 1)),
            PayloadError::OutOfOrder { expected: 1, got: 0 }
        );

        let mut corrupt = from(CHILD_SALT, &[0]);
        corrupt[0][20] ^= 1;
        let mut end = Scripted::new(corrupt);
        assert_eq!(
            payload_error(round_trip(&mut end, &mut ping, &child, 0)),
            PayloadError::Corrupt { seq: 0 }
        );
    }

    #[test]
    fn round_trip_refuses_its_own_ping_echoed_back() {
        // A transport that hands the parent its own message: right number, right checksum,
        // wrong sender.
        let mut end = Scripted::new(from(PARENT_SALT, &[0]));
        let mut ping = Message::new(SIZE, PARENT_SALT);
        let child = Source::new(SIZE, CHILD_SALT);
        assert_eq!(
            payload_error(round_trip(&mut end, &mut ping, &child, 0)),
            PayloadError::WrongSender { seq: 0 }
        );
    }

    #[test]
    fn produce_sends_what_is_asked_numbered_on_across_requests() {
        let mut end = Scripted::new(from(PARENT_SALT, &[3, 2, 0]));
        produce(&mut end, SIZE).unwrap();
        let seqs: Vec<u64> = end
            .sent
            .iter()
            .map(|m| payload::read(m, &Source::new(SIZE, CHILD_SALT)).unwrap())
            .collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4]);
    }
}
