//! A POSIX message queue delivers by priority, not by arrival: the highest priority first,
//! equal priorities in the order they were sent. Python: `queue.PriorityQueue` (in one
//! process), `posix_ipc.MessageQueue.send(msg, priority=p)` between processes.
//!
//! Run: `cargo run -p ipc_mqueue -- priorities`
//! Copy: priorities.rs queue.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features mqueue)

use anyhow::{Context, Result};
use nix::mqueue::{mq_close, mq_getattr, mq_receive, mq_send};

mod errors;
mod queue;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (queue, _name) = queue::create("priorities", 10, 256)?;
    let sends =
        [(1, "low"), (9, "urgent"), (5, "normal, first"), (0, "lowest"), (5, "normal, second")];
    // Priority orders only what is already queued: a receiver running beside the sender can
    // take "low" before "urgent" is even sent. Here every message is queued before the first
    // receive, so the order below is the queue's, not the scheduler's.
    for (priority, text) in sends {
        mq_send(&queue, text.as_bytes(), priority).with_context(|| format!("mq_send {text:?}"))?;
        say!("sent priority {priority}: {text:?}")?;
    }
    let size = mq_getattr(&queue).context("mq_getattr")?.msgsize();
    let mut buf = vec![0; usize::try_from(size).context("msgsize")?];
    for _ in sends {
        let mut priority = 0;
        let len = mq_receive(&queue, &mut buf, &mut priority).context("mq_receive")?;
        say!("received priority {priority}: {:?}", String::from_utf8_lossy(&buf[..len]))?;
    }
    mq_close(queue).context("mq_close")
}
