//! A bounded wait on a queue: `mq_timedreceive` gives up at a deadline, an absolute
//! CLOCK_REALTIME time rather than a duration. Python: `queue.get(timeout=0.05)`,
//! `posix_ipc.MessageQueue.receive(timeout)`.
//!
//! Run: `cargo run -p ipc_mqueue -- timed_receive`
//! Copy: timed_receive.rs queue.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features mqueue, time)

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::mqueue::{mq_close, mq_getattr, mq_timedreceive};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

mod errors;
mod queue;
use errors::say;

const WAIT: Duration = Duration::from_millis(50);

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (queue, _name) = queue::create("timed_receive", 10, 256)?;
    let size = mq_getattr(&queue).context("mq_getattr")?.msgsize();
    let mut buf = vec![0; usize::try_from(size).context("msgsize")?];
    // Start the stopwatch first, so that the measured wait cannot come out shorter than WAIT.
    let start = Instant::now();
    let now = clock_gettime(ClockId::CLOCK_REALTIME).context("clock_gettime")?;
    let deadline = now + TimeSpec::from_duration(WAIT);
    match mq_timedreceive(&queue, &mut buf, &mut 0, &deadline) {
        Err(Errno::ETIMEDOUT) if start.elapsed() >= WAIT => {
            say!("timed receive on an empty queue: ETIMEDOUT after at least {WAIT:?}")?
        }
        other => {
            let answer = other.map_or_else(|e| e.to_string(), |len| format!("{len} bytes"));
            let ms = start.elapsed().as_millis();
            bail!("mq_timedreceive on an empty queue gave {answer} after {ms} ms")
        }
    }
    mq_close(queue).context("mq_close")
}
