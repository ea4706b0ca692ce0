//! POSIX message queues in Rust: kernel queues with message boundaries, priorities, limits and
//! timeouts.
//!
//! Run it: `cargo run -p ipc_mqueue`
//!
//! What it shows, one section each:
//! 1. a queue created with explicit attributes, unlinked at once, shared with a forked child
//!    that sends; the parent receives each message whole;
//! 2. priorities: the highest priority is received first, equal priorities in sending order;
//! 3. attributes and limits: `mq_getattr` before and after, `EAGAIN` from a non-blocking receive
//!    on an empty queue and a non-blocking send on a full one, `EMSGSIZE` from a receive buffer
//!    smaller than `msgsize`;
//! 4. a bounded wait: `mq_timedreceive` that times out.
//!
//! Python it replaces: the seed's `os.open` + `fcntl.flock` file posing as a queue, and
//! `multiprocessing.Queue` between processes. Python's standard library has no POSIX message
//! queues; the third-party `posix_ipc.MessageQueue` wraps the same calls as here.
//!
//! Man pages worth reading: mq_overview(7) (limits, /dev/mqueue), mq_open(3), mq_send(3),
//! mq_receive(3), mq_getattr(3).

use std::error::Error;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::mqueue::{
    MQ_OFlag, MqAttr, MqdT, mq_attr_member_t, mq_close, mq_getattr, mq_open, mq_receive, mq_send,
    mq_set_nonblock, mq_timedreceive, mq_unlink,
};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getpid};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Bytes per message. Unprivileged processes may ask for at most `msgsize_max` (8192 by
/// default, /proc/sys/fs/mqueue/msgsize_max) and `msg_max` messages (10 by default); more gives
/// EINVAL unless the process has CAP_SYS_RESOURCE.
const MSGSIZE: mq_attr_member_t = 256;
const MAXMSG: mq_attr_member_t = 10;

fn main() -> Result<()> {
    send_from_child()?;
    priorities()?;
    attributes_and_limits()?;
    bounded_wait()?;
    Ok(())
}

/// Creates a queue with explicit attributes and removes its name at once.
///
/// Attributes are always passed: nix 0.31's `mq_open` with `O_CREAT` and `None` calls C's
/// `mq_open` with two arguments, so the mode and attributes it reads are garbage (EINVAL in
/// debug builds, a wrong mode in release builds).
fn create_queue(maxmsg: mq_attr_member_t, flags: MQ_OFlag) -> Result<(MqdT, String)> {
    static CREATED: AtomicU32 = AtomicU32::new(0);
    // One leading slash and no other: that is the whole syntax of a queue name. Unique per
    // process and call; O_EXCL refuses a name that already exists instead of sharing a queue
    // someone else made.
    let name = format!(
        "/ipc_mqueue-{}-{}",
        getpid(),
        CREATED.fetch_add(1, Ordering::Relaxed) + 1
    );
    let attr = MqAttr::new(0, maxmsg, MSGSIZE, 0);
    let queue = mq_open(
        name.as_str(),
        MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR | flags,
        Mode::S_IRUSR | Mode::S_IWUSR,
        Some(&attr),
    )?;
    // The descriptor keeps the queue alive, and a forked child inherits it. Without its name,
    // a crash (even SIGKILL) cannot leave the queue behind: a queue that is never unlinked
    // lives until reboot and counts against RLIMIT_MSGQUEUE, after which `mq_open` fails with
    // a misleading EMFILE.
    mq_unlink(name.as_str())?;
    Ok((queue, name))
}

/// Section 1: a child sends, the parent receives.
fn send_from_child() -> Result<()> {
    println!("== 1. a queue shared with a forked child ==");
    let (queue, name) = create_queue(MAXMSG, MQ_OFlag::empty())?;
    println!("parent: created {name} (maxmsg {MAXMSG}, msgsize {MSGSIZE}) and unlinked it");
    let child = match fork_flushed()? {
        ForkResult::Child => {
            let sent =
                (1..=3).try_for_each(|n| mq_send(&queue, format!("Message {n}").as_bytes(), 0));
            // The child closes its own descriptor; the parent's stays open.
            let closed = mq_close(queue);
            exit_child(sent.and(closed).map_err(Into::into))
        }
        ForkResult::Parent { child } => child,
    };
    // The buffer must be at least `msgsize` bytes, or mq_receive fails with EMSGSIZE even for
    // a short message: size it from the queue's own attributes.
    let mut buf = vec![0u8; usize::try_from(mq_getattr(&queue)?.msgsize())?];
    for _ in 0..3 {
        let mut priority = 0;
        // Blocks until a message is there; each call returns exactly one whole message.
        let len = mq_receive(&queue, &mut buf, &mut priority)?;
        println!(
            "parent: received {:?} ({len} bytes, priority {priority})",
            String::from_utf8_lossy(&buf[..len])
        );
    }
    println!("parent: child {}", describe(waitpid(child, None)?));
    mq_close(queue)?;
    Ok(())
}

/// Section 2: the queue orders by priority, not by arrival.
fn priorities() -> Result<()> {
    println!("== 2. priorities: highest first ==");
    let (queue, _) = create_queue(MAXMSG, MQ_OFlag::empty())?;
    let sends = [
        (1, "low"),
        (9, "urgent"),
        (5, "normal, first"),
        (0, "lowest"),
        (5, "normal, second"),
    ];
    let order: Vec<String> = sends.iter().map(|(p, t)| format!("{t:?} ({p})")).collect();
    println!("child will send, in this order: {}", order.join(", "));
    let child = match fork_flushed()? {
        ForkResult::Child => {
            let sent = sends
                .iter()
                .try_for_each(|(priority, text)| mq_send(&queue, text.as_bytes(), *priority));
            let closed = mq_close(queue);
            exit_child(sent.and(closed).map_err(Into::into))
        }
        ForkResult::Parent { child } => child,
    };
    // Priority orders only the messages already in the queue. A receiver running alongside the
    // sender could take "low" before "urgent" was even sent; waiting until the sender is done
    // makes every message queued first, so the order below is the queue's, not the scheduler's.
    println!(
        "parent: child sent {} messages and {}",
        sends.len(),
        describe(waitpid(child, None)?)
    );
    let mut buf = vec![0u8; usize::try_from(mq_getattr(&queue)?.msgsize())?];
    for _ in 0..sends.len() {
        let mut priority = 0;
        let len = mq_receive(&queue, &mut buf, &mut priority)?;
        println!(
            "parent: received priority {priority}: {:?}",
            String::from_utf8_lossy(&buf[..len])
        );
    }
    mq_close(queue)?;
    Ok(())
}

/// Section 3: what `mq_getattr` reports, and the errors at the edges.
fn attributes_and_limits() -> Result<()> {
    println!("== 3. attributes and limits ==");
    let (queue, _) = create_queue(2, MQ_OFlag::empty())?;
    println!("getattr: {}", show(&mq_getattr(&queue)?));
    mq_send(&queue, b"one", 0)?;
    mq_send(&queue, b"two", 0)?;
    println!("getattr after 2 sends: {}", show(&mq_getattr(&queue)?));

    // Non-blocking mode turns "would wait" into EAGAIN. It can also be set at mq_open with
    // O_NONBLOCK; mq_set_nonblock changes it on an open descriptor.
    mq_set_nonblock(&queue)?;
    println!(
        "getattr in non-blocking mode: {}",
        show(&mq_getattr(&queue)?)
    );
    match mq_send(&queue, b"three", 0) {
        Err(Errno::EAGAIN) => println!("send to a full queue: EAGAIN (a blocking send would wait)"),
        other => return Err(format!("expected EAGAIN from a full queue, got {other:?}").into()),
    }

    let msgsize = usize::try_from(mq_getattr(&queue)?.msgsize())?;
    let mut priority = 0;
    let mut small = vec![0u8; msgsize - 1];
    match mq_receive(&queue, &mut small, &mut priority) {
        Err(Errno::EMSGSIZE) => println!(
            "receive into {} bytes: EMSGSIZE (the buffer must hold msgsize = {msgsize} bytes, \
             even for a 3-byte message)",
            small.len()
        ),
        other => return Err(format!("expected EMSGSIZE, got {other:?}").into()),
    }
    let mut buf = vec![0u8; msgsize];
    for _ in 0..2 {
        let len = mq_receive(&queue, &mut buf, &mut priority)?;
        println!(
            "receive into {msgsize} bytes: {:?}",
            String::from_utf8_lossy(&buf[..len])
        );
    }
    match mq_receive(&queue, &mut buf, &mut priority) {
        Err(Errno::EAGAIN) => {
            println!("receive from an empty queue: EAGAIN (a blocking receive would wait)")
        }
        other => return Err(format!("expected EAGAIN from an empty queue, got {other:?}").into()),
    }
    println!("getattr at the end: {}", show(&mq_getattr(&queue)?));
    mq_close(queue)?;
    Ok(())
}

/// Section 4: wait for a message, but not forever.
fn bounded_wait() -> Result<()> {
    const WAIT: Duration = Duration::from_millis(50);
    println!("== 4. a bounded wait ==");
    let (queue, _) = create_queue(MAXMSG, MQ_OFlag::empty())?;
    let mut buf = vec![0u8; usize::try_from(mq_getattr(&queue)?.msgsize())?];
    let mut priority = 0;
    // Start the stopwatch first, so the measured wait cannot come out shorter than WAIT.
    let start = Instant::now();
    // The deadline is an absolute CLOCK_REALTIME time, not a duration: compute it from now.
    let deadline = TimeSpec::from(SystemTime::now().duration_since(UNIX_EPOCH)? + WAIT);
    match mq_timedreceive(&queue, &mut buf, &mut priority, &deadline) {
        Err(Errno::ETIMEDOUT) => println!(
            "timed receive on an empty queue: ETIMEDOUT after {} ms",
            if start.elapsed() >= WAIT {
                "at least 50"
            } else {
                "less than 50"
            }
        ),
        other => return Err(format!("expected ETIMEDOUT, got {other:?}").into()),
    }
    mq_close(queue)?;
    Ok(())
}

fn show(attr: &MqAttr) -> String {
    let mode = if attr.flags() & mq_attr_member_t::from(libc::O_NONBLOCK) != 0 {
        "non-blocking"
    } else {
        "blocking"
    };
    format!(
        "maxmsg {}, msgsize {}, curmsgs {}, {mode}",
        attr.maxmsg(),
        attr.msgsize(),
        attr.curmsgs()
    )
}

/// `fork`, after flushing stdout so no buffered line is printed twice.
fn fork_flushed() -> Result<ForkResult> {
    io::stdout().flush()?;
    // Safety: this program never starts a thread, so the child is a complete copy of a
    // single-threaded process and may allocate and use the queue descriptor it inherited.
    Ok(unsafe { fork() }?)
}

/// Ends a forked child: 0 on success, 101 after printing the error. Returning from `main`
/// instead would run the parent's remaining code in the child; `_exit` ends it at once,
/// without exit handlers or flushing buffers that belong to the parent.
fn exit_child(result: Result<()>) -> ! {
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("child: {e}");
            101
        }
    };
    let _ = io::stdout().flush();
    // Safety: `_exit` takes no pointers and is async-signal-safe.
    unsafe { libc::_exit(code) }
}

fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited with {code}"),
        WaitStatus::Signaled(_, signal, _) => format!("was killed by {signal:?}"),
        other => format!("changed state: {other:?}"),
    }
}
