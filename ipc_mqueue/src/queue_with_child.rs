//! A POSIX message queue shared with a forked child: the child sends, the parent receives each
//! message whole. Python: `multiprocessing.Queue`, `posix_ipc.MessageQueue`. See mq_overview(7).
//! Run: `cargo run -p ipc_mqueue -- queue_with_child`
//! Copy: queue_with_child.rs queue.rs fork.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features mqueue, process, signal, time)

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::mqueue::{mq_close, mq_getattr, mq_send, mq_timedreceive};
use nix::sys::signal::{Signal, kill};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

mod errors;
mod fork;
mod queue;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (queue, name) = queue::create("queue_with_child", 10, 256)?;
    say!("parent: created {name} (10 messages of 256 bytes at most) and unlinked it")?;
    let child = fork::fork(|| {
        for n in 1..=3 {
            mq_send(&queue, format!("Message {n}").as_bytes(), 0).context("mq_send")?;
        }
        Ok(())
    })?;
    let size = mq_getattr(&queue).context("mq_getattr")?.msgsize();
    let mut buf = vec![0; usize::try_from(size).context("msgsize")?]; // any less: EMSGSIZE
    let now = clock_gettime(ClockId::CLOCK_REALTIME).context("clock_gettime")?;
    let deadline = now + TimeSpec::new(10, 0); // mq_receive would wait for ever on a dead child
    for _ in 0..3 {
        let len = match mq_timedreceive(&queue, &mut buf, &mut 0, &deadline) {
            Err(Errno::ETIMEDOUT) => {
                let _ = kill(child.pid, Signal::SIGKILL); // ends it if stuck; a dead one ignores it
                fork::wait(child)?; // a child that failed says why
                bail!("no message from the child in 10 s");
            }
            other => other.context("mq_timedreceive")?,
        };
        say!("parent: received {:?} ({len} bytes)", String::from_utf8_lossy(&buf[..len]))?;
    }
    fork::wait(child)?;
    mq_close(queue).context("mq_close")?; // MqdT has no Drop: close it yourself
    Ok(say!("parent: child exited with 0")?)
}
