//! A POSIX message queue between Rust and Python: Rust creates it (`O_CREAT | O_EXCL`, 0600)
//! and queues a message; a Python child opens it by name with the `posix_ipc` package, takes
//! it and answers with messages of several priorities, which Rust receives highest first.
//! Run: `cargo run -p with_python -- posix_queue` (Python needs `pip install posix_ipc==1.3.2`)
//! Copy: posix_queue.rs python.rs errors.rs posix_queue.py
//! Needs: anyhow@1, nix@0.31 (features mqueue, signal, time)

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_open, mq_send, mq_timedreceive, mq_unlink};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

mod errors;
mod python;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    // Made before the queue: from mq_open to mq_unlink, nothing may fail and skip the unlink.
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    ours.set_read_timeout(Some(Duration::from_secs(5))).context("SO_RCVTIMEO")?;
    // One leading slash, unique; O_EXCL: never share a queue someone else made.
    let name = format!("/posix_queue-{}", std::process::id());
    let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR;
    let (attr, mode) = (MqAttr::new(0, 8, 128, 0), Mode::S_IRUSR | Mode::S_IWUSR);
    let queue = mq_open(name.as_str(), flags, mode, Some(&attr)).map_err(|e| {
        let max = std::fs::read_to_string("/proc/sys/fs/mqueue/msg_max").unwrap_or_default();
        anyhow!("mq_open {name}, 8 messages (msg_max {}): {e}", max.trim())
    })?;
    // Python answers once it has the queue open: until then, a SIGKILL here leaves the name.
    let mut lines = BufReader::new(&ours).lines();
    let said = hand_over(&queue, &name, theirs, &mut lines);
    mq_unlink(name.as_str()).with_context(|| format!("mq_unlink {name}"))?;
    let (said, child) = said?;
    child.finish()?;
    let (count, said) = said.split_once(' ').context("python3's answer")?;
    say!("python: opened {name}, {said}; rust: unlinked the name")?;
    let now = clock_gettime(ClockId::CLOCK_REALTIME).context("clock_gettime")?;
    let deadline = now + TimeSpec::from(Duration::from_secs(5));
    let (mut buf, mut priority) = ([0u8; 128], 0);
    let count: usize = count.parse().with_context(|| format!("python3's count {count:?}"))?;
    for _ in 0..count {
        let n =
            mq_timedreceive(&queue, &mut buf, &mut priority, &deadline).context("mq_receive")?;
        say!("rust: received priority {priority}: {:?}", String::from_utf8_lossy(&buf[..n]))?;
    }
    Ok(())
}

/// Queues Rust's message, starts Python and returns its first line.
fn hand_over(queue: &MqdT, name: &str, socket: UnixStream, lines: &mut Lines) -> Result<Said> {
    mq_send(queue, b"hello from Rust", 3).context("mq_send")?;
    let child = python::start(include_str!("posix_queue.py"), &[name], socket)?;
    match lines.next() {
        Some(line) => Ok((line.context("reading from python3")?, child)),
        None => child.finish().and(Err(anyhow!("python3 ended without a word"))),
    }
}

type Lines<'a> = std::io::Lines<BufReader<&'a UnixStream>>;
type Said = (String, python::Python);
