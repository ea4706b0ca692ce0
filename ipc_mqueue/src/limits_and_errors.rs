//! What `mq_getattr` reports, and the errors at a queue's edges: EAGAIN from a non-blocking
//! send to a full queue and receive from an empty one, EMSGSIZE from a receive buffer smaller
//! than the queue's message size. Python: `posix_ipc.BusyError` and `queue.Full`/`queue.Empty`.
//!
//! Run: `cargo run -p ipc_mqueue -- limits_and_errors`
//! Copy: limits_and_errors.rs queue.rs errors.rs
//! Needs: anyhow@1, libc@0.2, nix@0.31 (features mqueue)
//!
//! Man pages: mq_overview(7) (the limits in /proc/sys/fs/mqueue), mq_getattr(3).

use anyhow::{Context, Result, bail};
use nix::errno::Errno;
use nix::mqueue::{MqdT, mq_close, mq_getattr, mq_receive, mq_send, mq_set_nonblock};

mod errors;
mod queue;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (queue, _name) = queue::create("limits_and_errors", 2, 256)?;
    say!("created: {}", attributes(&queue)?)?;
    for text in ["one", "two"] {
        mq_send(&queue, text.as_bytes(), 0).context("mq_send")?;
    }
    say!("after 2 sends: {}", attributes(&queue)?)?;
    // Non-blocking turns "would wait" into EAGAIN; O_NONBLOCK at mq_open does it from the start.
    mq_set_nonblock(&queue).context("mq_setattr O_NONBLOCK")?;
    match mq_send(&queue, b"three", 0) {
        Err(Errno::EAGAIN) => say!("send to a full queue: EAGAIN (a blocking send would wait)")?,
        Ok(()) => bail!("a send to a full queue succeeded, where EAGAIN was due"),
        Err(e) => return Err(e).context("mq_send to a full queue (EAGAIN was due)"),
    }
    let msgsize =
        mq_getattr(&queue).context("mq_getattr")?.msgsize().try_into().context("msgsize")?;
    let (mut buf, mut priority) = (vec![0; msgsize], 0);
    match mq_receive(&queue, &mut buf[..msgsize - 1], &mut priority) {
        Err(Errno::EMSGSIZE) => {
            say!("receive into {} bytes: EMSGSIZE, for a 3-byte message", msgsize - 1)?
        }
        Ok(_) => bail!("a receive into a short buffer succeeded, where EMSGSIZE was due"),
        Err(e) => return Err(e).context("mq_receive into a short buffer (EMSGSIZE was due)"),
    }
    for _ in 0..2 {
        let len = mq_receive(&queue, &mut buf, &mut priority).context("mq_receive")?;
        say!("receive into {msgsize} bytes: {:?}", String::from_utf8_lossy(&buf[..len]))?;
    }
    match mq_receive(&queue, &mut buf, &mut priority) {
        Err(Errno::EAGAIN) => say!("receive from an empty queue: EAGAIN")?,
        Ok(_) => bail!("a receive from an empty queue succeeded, where EAGAIN was due"),
        Err(e) => return Err(e).context("mq_receive from an empty queue (EAGAIN was due)"),
    }
    say!("at the end: {}", attributes(&queue)?)?;
    mq_close(queue).context("mq_close")
}

fn attributes(queue: &MqdT) -> Result<String> {
    let attr = mq_getattr(queue).context("mq_getattr")?;
    let nonblock = attr.flags() & libc::O_NONBLOCK as i64 != 0;
    let mode = if nonblock { "non-blocking" } else { "blocking" };
    let (max, size, now) = (attr.maxmsg(), attr.msgsize(), attr.curmsgs());
    Ok(format!("maxmsg {max}, msgsize {size}, curmsgs {now}, {mode}"))
}
