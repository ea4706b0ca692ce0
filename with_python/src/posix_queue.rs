//! A POSIX message queue between Rust and Python. Rust creates the queue (`O_CREAT | O_EXCL`,
//! mode 0600), queues one message at priority 3 and starts Python with the queue's name.
//! Python opens the queue, takes Rust's message, queues five of its own at several priorities
//! and says what it did in one line. Rust then unlinks the name, asks the queue how many
//! messages wait, and receives them, highest priority first. Python: `posix_ipc.MessageQueue`.
//! Run: `cargo run -p with_python -- posix_queue` (Python needs `pip install posix_ipc==1.3.2`)
//! Copy: posix_queue.rs python.rs errors.rs posix_queue.py
//! Needs: anyhow@1, nix@0.31 (features mqueue, signal, time)

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_getattr, mq_open, mq_send, mq_timedreceive};
use nix::sys::{stat::Mode, time::TimeSpec};
use nix::time::{ClockId, clock_gettime};

mod errors;
mod python;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    ours.set_read_timeout(Some(Duration::from_secs(5))).context("SO_RCVTIMEO")?;
    let name = format!("/posix_queue-{}", std::process::id());
    let queue = create(&name)?;
    let unlink = UnlinkOnDrop(&name); // From here on, every way out of `run` unlinks the name.
    mq_send(&queue, b"hello from Rust", 3).context("mq_send")?;
    let python = python::start(include_str!("posix_queue.py"), &[&name], theirs)?;
    let reply = BufReader::new(&ours).lines().next(); // Python has opened the queue, or failed.
    drop(unlink);
    let Some(reply) = reply else {
        return python.finish().and(Err(anyhow!("python3 ended without a word")));
    };
    say!("python: {}", reply.context("reading from python3")?)?;
    python.finish()?; // Python has exited, so every message it sent is in the queue.
    let waiting = mq_getattr(&queue).context("mq_getattr")?.curmsgs();
    say!("rust: unlinked the queue's name; {waiting} messages wait in the queue")?;
    let now = clock_gettime(ClockId::CLOCK_REALTIME).context("clock_gettime")?;
    let deadline = now + TimeSpec::from(Duration::from_secs(5));
    let (mut message, mut priority) = ([0u8; 128], 0);
    for _ in 0..waiting {
        let n = mq_timedreceive(&queue, &mut message, &mut priority, &deadline)
            .context("mq_timedreceive")?;
        let text = String::from_utf8_lossy(&message[..n]);
        say!("rust: received priority {priority}: {text:?}")?;
    }
    Ok(())
}

/// Creates a queue for 8 messages of 128 bytes that nobody else can have made or opened.
fn create(name: &str) -> Result<MqdT> {
    let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR;
    let (attr, mode) = (MqAttr::new(0, 8, 128, 0), Mode::S_IRUSR | Mode::S_IWUSR);
    mq_open(name, flags, mode, Some(&attr)).map_err(|e| {
        let max = std::fs::read_to_string("/proc/sys/fs/mqueue/msg_max").unwrap_or_default();
        anyhow!("mq_open {name}, 8 messages (msg_max {}): {e}", max.trim())
    })
}

/// Unlinks the queue's name when dropped, on every way out: Python's `finally: unlink()`.
struct UnlinkOnDrop<'a>(&'a str);

impl Drop for UnlinkOnDrop<'_> {
    fn drop(&mut self) {
        // The queue is ours (O_EXCL, 0600): only its owner or root can remove it first.
        let _ = nix::mqueue::mq_unlink(self.0);
    }
}
