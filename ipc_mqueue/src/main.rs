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
//! Python it replaces: `multiprocessing.Queue` between processes, and the `os.open` +
//! `fcntl.flock` + `os.pread` file that seed 001 uses as a queue (README.md says how it fails).
//! Python's standard library has no POSIX message queues; the third-party
//! `posix_ipc.MessageQueue` wraps the same calls as here.
//!
//! This program starts no thread, so it may fork at any point (see `fork_flushed`).
//!
//! Man pages worth reading: mq_overview(7) (limits, /dev/mqueue), mq_open(3), mq_send(3),
//! mq_receive(3), mq_getattr(3).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::mqueue::{
    MQ_OFlag, MqAttr, MqdT, mq_attr_member_t, mq_close, mq_getattr, mq_open, mq_receive, mq_send,
    mq_set_nonblock, mq_timedreceive, mq_unlink,
};
use nix::sys::stat::Mode;
use nix::sys::time::TimeSpec;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::getpid;

/// Bytes per message. Unprivileged processes may ask for at most `msgsize_max` (8192 by
/// default, /proc/sys/fs/mqueue/msgsize_max) and `msg_max` messages (10 by default); more gives
/// EINVAL unless the process has CAP_SYS_RESOURCE.
const MSGSIZE: mq_attr_member_t = 256;
const MAXMSG: mq_attr_member_t = 10;

/// How long section 1 waits for each of the child's messages before asking what became of it.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> std::process::ExitCode {
    exit_status(run())
}

fn run() -> Result<()> {
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
    )
    .map_err(|e| {
        format!(
            "mq_open {name} (maxmsg {maxmsg}, msgsize {MSGSIZE}): {e}{}",
            limit_hint(e, maxmsg)
        )
    })?;
    // The descriptor keeps the queue alive, and a forked child inherits it. Without its name,
    // a crash (even SIGKILL) cannot leave the queue behind: a queue that is never unlinked
    // lives until reboot and counts against RLIMIT_MSGQUEUE, after which `mq_open` fails with
    // a misleading EMFILE.
    mq_unlink(name.as_str()).with_context(|| format!("mq_unlink {name}"))?;
    Ok((queue, name))
}

/// What to tell a user whose `mq_open` failed at one of the system's limits.
fn limit_hint(error: Errno, maxmsg: mq_attr_member_t) -> String {
    let read = |path: &str| -> String {
        std::fs::read_to_string(path).map_or_else(|_| "?".to_string(), |s| s.trim().to_string())
    };
    match error {
        Errno::EINVAL => format!(
            "; this system allows at most {} messages (/proc/sys/fs/mqueue/msg_max) of {} bytes \
             (/proc/sys/fs/mqueue/msgsize_max) without CAP_SYS_RESOURCE; asked for {maxmsg} of \
             {MSGSIZE}",
            read("/proc/sys/fs/mqueue/msg_max"),
            read("/proc/sys/fs/mqueue/msgsize_max")
        ),
        Errno::EMFILE => "; the queues of this user already use their RLIMIT_MSGQUEUE bytes \
                          (`ulimit -q`), or this process has too many descriptors open \
                          (`ulimit -n`); queues never unlinked stay until reboot: list them \
                          with `mount -t mqueue none /dev/mqueue; ls /dev/mqueue`"
            .to_string(),
        Errno::ENFILE => format!(
            "; this system allows at most {} queues (/proc/sys/fs/mqueue/queues_max)",
            read("/proc/sys/fs/mqueue/queues_max")
        ),
        _ => String::new(),
    }
}

/// Section 1: a child sends, the parent receives.
fn send_from_child() -> Result<()> {
    say!("== 1. a queue shared with a forked child ==")?;
    let (queue, name) = create_queue(MAXMSG, MQ_OFlag::empty())?;
    say!("parent: created {name} (maxmsg {MAXMSG}, msgsize {MSGSIZE}) and unlinked it")?;
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            for n in 1..=3 {
                mq_send(&queue, format!("Message {n}").as_bytes(), 0)
                    .with_context(|| format!("mq_send message {n}"))?;
            }
            // The child closes its own descriptor; the parent's stays open.
            mq_close(queue).with_context(|| "mq_close".to_string())?;
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    // The buffer must be at least `msgsize` bytes, or mq_receive fails with EMSGSIZE even for
    // a short message: size it from the queue's own attributes.
    let mut buf = vec![0u8; msgsize(&queue)?];
    for n in 1..=3 {
        let mut priority = 0;
        // Waits until a message is there; each call returns exactly one whole message. The wait
        // is bounded: a child that failed before sending would otherwise leave us waiting
        // forever for a message that never comes.
        let len = match mq_timedreceive(&queue, &mut buf, &mut priority, &deadline_in(PATIENCE)?) {
            Ok(len) => len,
            Err(Errno::ETIMEDOUT) => {
                // The child sends at once: this long a silence means it failed, and its exit
                // status says how.
                let status = waitpid(child, Some(WaitPidFlag::WNOHANG))
                    .with_context(|| format!("waitpid {child}"))?;
                if status != WaitStatus::StillAlive {
                    check_child(status)?;
                }
                return Err(format!("no message {n} from child {child} in {PATIENCE:?}").into());
            }
            Err(e) => return Err(e).with_context(|| format!("mq_timedreceive message {n}")),
        };
        say!(
            "parent: received {:?} ({len} bytes, priority {priority})",
            String::from_utf8_lossy(&buf[..len])
        )?;
    }
    let status = wait_child(child)?;
    check_child(status)?;
    say!("parent: child {}", describe(status))?;
    mq_close(queue).with_context(|| "mq_close".to_string())?;
    Ok(())
}

fn msgsize(queue: &MqdT) -> Result<usize> {
    let attr = mq_getattr(queue).with_context(|| "mq_getattr".to_string())?;
    Ok(usize::try_from(attr.msgsize())?)
}

/// Section 2: the queue orders by priority, not by arrival.
fn priorities() -> Result<()> {
    say!("== 2. priorities: highest first ==")?;
    let (queue, _) = create_queue(MAXMSG, MQ_OFlag::empty())?;
    let sends = [
        (1, "low"),
        (9, "urgent"),
        (5, "normal, first"),
        (0, "lowest"),
        (5, "normal, second"),
    ];
    let order: Vec<String> = sends.iter().map(|(p, t)| format!("{t:?} ({p})")).collect();
    say!("child will send, in this order: {}", order.join(", "))?;
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            for (priority, text) in sends {
                mq_send(&queue, text.as_bytes(), priority)
                    .with_context(|| format!("mq_send {text:?}"))?;
            }
            mq_close(queue).with_context(|| "mq_close".to_string())?;
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    // Priority orders only the messages already in the queue. A receiver running alongside the
    // sender could take "low" before "urgent" was even sent; waiting until the sender is done
    // makes every message queued first, so the order below is the queue's, not the scheduler's.
    let status = wait_child(child)?;
    check_child(status)?;
    say!(
        "parent: child sent {} messages and {}",
        sends.len(),
        describe(status)
    )?;
    let mut buf = vec![0u8; msgsize(&queue)?];
    for _ in 0..sends.len() {
        let mut priority = 0;
        let len = mq_receive(&queue, &mut buf, &mut priority)
            .with_context(|| "mq_receive".to_string())?;
        say!(
            "parent: received priority {priority}: {:?}",
            String::from_utf8_lossy(&buf[..len])
        )?;
    }
    mq_close(queue).with_context(|| "mq_close".to_string())?;
    Ok(())
}

/// Section 3: what `mq_getattr` reports, and the errors at the edges.
fn attributes_and_limits() -> Result<()> {
    say!("== 3. attributes and limits ==")?;
    let (queue, _) = create_queue(2, MQ_OFlag::empty())?;
    say!("getattr: {}", show(&queue)?)?;
    for text in ["one", "two"] {
        mq_send(&queue, text.as_bytes(), 0).with_context(|| format!("mq_send {text:?}"))?;
    }
    say!("getattr after 2 sends: {}", show(&queue)?)?;

    // Non-blocking mode turns "would wait" into EAGAIN. It can also be set at mq_open with
    // O_NONBLOCK; mq_set_nonblock changes it on an open descriptor.
    mq_set_nonblock(&queue).with_context(|| "mq_setattr O_NONBLOCK".to_string())?;
    say!("getattr in non-blocking mode: {}", show(&queue)?)?;
    match mq_send(&queue, b"three", 0) {
        Err(Errno::EAGAIN) => say!("send to a full queue: EAGAIN (a blocking send would wait)")?,
        other => return Err(format!("expected EAGAIN from a full queue, got {other:?}").into()),
    }

    let msgsize = msgsize(&queue)?;
    let mut priority = 0;
    let mut small = vec![0u8; msgsize - 1];
    match mq_receive(&queue, &mut small, &mut priority) {
        Err(Errno::EMSGSIZE) => say!(
            "receive into {} bytes: EMSGSIZE (the buffer must hold msgsize = {msgsize} bytes, \
             even for a 3-byte message)",
            small.len()
        )?,
        other => return Err(format!("expected EMSGSIZE, got {other:?}").into()),
    }
    let mut buf = vec![0u8; msgsize];
    for _ in 0..2 {
        let len = mq_receive(&queue, &mut buf, &mut priority)
            .with_context(|| "mq_receive".to_string())?;
        say!(
            "receive into {msgsize} bytes: {:?}",
            String::from_utf8_lossy(&buf[..len])
        )?;
    }
    match mq_receive(&queue, &mut buf, &mut priority) {
        Err(Errno::EAGAIN) => {
            say!("receive from an empty queue: EAGAIN (a blocking receive would wait)")?
        }
        other => return Err(format!("expected EAGAIN from an empty queue, got {other:?}").into()),
    }
    say!("getattr at the end: {}", show(&queue)?)?;
    mq_close(queue).with_context(|| "mq_close".to_string())?;
    Ok(())
}

/// Section 4: wait for a message, but not forever.
fn bounded_wait() -> Result<()> {
    const WAIT: Duration = Duration::from_millis(50);
    say!("== 4. a bounded wait ==")?;
    let (queue, _) = create_queue(MAXMSG, MQ_OFlag::empty())?;
    let mut buf = vec![0u8; msgsize(&queue)?];
    let mut priority = 0;
    // Start the stopwatch first, so the measured wait cannot come out shorter than WAIT.
    let start = Instant::now();
    match mq_timedreceive(&queue, &mut buf, &mut priority, &deadline_in(WAIT)?) {
        Err(Errno::ETIMEDOUT) => say!(
            "timed receive on an empty queue: ETIMEDOUT after {} ms",
            if start.elapsed() >= WAIT {
                "at least 50"
            } else {
                "less than 50"
            }
        )?,
        other => return Err(format!("expected ETIMEDOUT, got {other:?}").into()),
    }
    mq_close(queue).with_context(|| "mq_close".to_string())?;
    Ok(())
}

/// The deadline `mq_timedreceive` wants: an absolute CLOCK_REALTIME time, not a duration.
fn deadline_in(wait: Duration) -> Result<TimeSpec> {
    Ok(TimeSpec::from(
        SystemTime::now().duration_since(UNIX_EPOCH)? + wait,
    ))
}

fn show(queue: &MqdT) -> Result<String> {
    let attr = mq_getattr(queue).with_context(|| "mq_getattr".to_string())?;
    let mode = if attr.flags() & mq_attr_member_t::from(libc::O_NONBLOCK) != 0 {
        "non-blocking"
    } else {
        "blocking"
    };
    Ok(format!(
        "maxmsg {}, msgsize {}, curmsgs {}, {mode}",
        attr.maxmsg(),
        attr.msgsize(),
        attr.curmsgs()
    ))
}

// ==== copied block: errors and output ========================================================
// Identical in every example (`cargo xtask tidy` checks): copy it with any part of this file.

/// Every error in these programs: boxed, and `Send + Sync` so that a thread can return one.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`) or
/// full (`> /dev/full`); use it as `say!(...)?`. Like `println!`, it holds the stdout lock for
/// the whole line, so lines from different threads or processes never tear.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).map_err(StdoutError)
    }};
}
use say;

/// A failed write to stdout, kept apart from other errors: a closed stdout ends the program
/// quietly, as it does any Unix tool in a pipeline.
#[derive(Debug)]
struct StdoutError(std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "writing to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Says what was being done when an error happened: which call, on what, with which limits.
trait Context<T> {
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Box<dyn std::error::Error + Send + Sync>>> Context<T>
    for std::result::Result<T, E>
{
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|cause| {
            let cause = cause.into();
            // A closed stdout stays recognisable, whatever was being done.
            if stdout_closed(&*cause) {
                return cause;
            }
            format!("{}: {cause}", what()).into()
        })
    }
}

/// Ends the program like a Unix tool: a closed stdout quietly (the reader has all it wanted),
/// any other error as one line on stderr and exit status 1.
fn exit_status(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if stdout_closed(&*e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", env!("CARGO_PKG_NAME"));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether `error` is a write to a stdout whose reader has gone away.
fn stdout_closed(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<StdoutError>()
        .is_some_and(|StdoutError(e)| e.kind() == std::io::ErrorKind::BrokenPipe)
}
// ==== end of copied block: errors and output =================================================

// ==== copied block: fork =====================================================================
// Identical in every example that forks (`cargo xtask tidy` checks). Needs the block above,
// `libc`, and nix with the `process` feature.

/// Exit code of a child whose stdout was closed under it (`| head`): 128 + SIGPIPE, as a shell
/// reports a program killed by SIGPIPE. The parent takes it as its own stdout being closed.
const EXIT_STDOUT_CLOSED: i32 = 141;

/// Exit code of a child that panicked, as for a Rust program whose `main` panicked.
const EXIT_PANICKED: i32 = 101;

/// What [`fork_flushed`] returns in each of the two processes.
enum Forked {
    /// In the parent: the new child's PID.
    Parent(nix::unistd::Pid),
    /// In the child: the parent's PID, for [`run_child`].
    Child(nix::unistd::Pid),
}

/// `fork`, after flushing stdout: a line still in its buffer would be copied into the child
/// and printed twice. The child must go straight to [`run_child`]:
///
/// ```ignore
/// let child = match fork_flushed()? {
///     Forked::Child(parent) => run_child(parent, || work_of_the_child()),
///     Forked::Parent(child) => child,
/// };
/// ```
fn fork_flushed() -> Result<Forked> {
    use std::io::Write as _;
    std::io::stdout().flush().map_err(StdoutError)?;
    let parent = nix::unistd::getpid();
    // Safety: fork is sound only while this process has a single thread. The child gets a copy
    // of the forking thread alone, so a lock another thread held at that moment (the
    // allocator's, stdout's) would stay locked in the child forever. Each program here forks
    // before it starts any thread, or after joining them all, as its `main` says.
    match unsafe { nix::unistd::fork() }.with_context(|| "fork".to_string())? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child)),
        nix::unistd::ForkResult::Child => Ok(Forked::Child(parent)),
    }
}

/// The whole life of a forked child: follow the parent's death, run `work`, and end with the
/// exit code it returns (1 after printing its error). Never returns.
///
/// Returning, or unwinding out of a panic, would run the rest of the parent's program in the
/// child, destructors included: a drop guard that removes the parent's lock file or unlinks
/// its queue would do it in the child, under the parent's feet. So `work` runs under
/// `catch_unwind`, and the child ends with `_exit`, which also skips the atexit handlers and
/// the stdio buffers it copied from the parent.
fn run_child(parent: nix::unistd::Pid, work: impl FnOnce() -> Result<i32>) -> ! {
    use std::io::Write as _;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if !die_with_parent(parent)? {
            // The parent is gone already: nobody is left to use or report what we would do.
            return Ok(1);
        }
        work()
    }));
    let code = match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(e)) if stdout_closed(&*e) => EXIT_STDOUT_CLOSED,
        Ok(Err(e)) => {
            let pid = nix::unistd::getpid();
            eprintln!("{} child {pid}: {e}", env!("CARGO_PKG_NAME"));
            1
        }
        // The panic hook has printed the message already.
        Err(_) => EXIT_PANICKED,
    };
    // `_exit` flushes nothing: the child's own output must get out first, and only once.
    let _ = std::io::stdout().flush();
    // Safety: `_exit` takes no pointers and is async-signal-safe; it ends the process without
    // running anything that belongs to the parent.
    unsafe { libc::_exit(code) }
}

/// Makes this process die when its parent does (`PR_SET_PDEATHSIG`), so that a child blocked
/// on a pipe, a queue or a semaphore cannot outlive a killed parent. Returns `false` when the
/// parent has died already.
fn die_with_parent(parent: nix::unistd::Pid) -> Result<bool> {
    use nix::sys::signal::Signal;
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .with_context(|| "prctl(PR_SET_PDEATHSIG)".to_string())?;
    // The race: a parent that died before the line above sends no signal, ever. Checking that
    // it is still our parent after setting it closes the gap.
    Ok(nix::unistd::getppid() == parent)
}

/// Waits for `child` to end and reaps it: an exited child stays a zombie until then.
fn wait_child(child: nix::unistd::Pid) -> Result<nix::sys::wait::WaitStatus> {
    nix::sys::wait::waitpid(child, None).with_context(|| format!("waitpid {child}"))
}

/// Turns anything but a clean exit into an error. Call it before using anything the child
/// wrote: a child that failed or was killed may have written half of it.
fn check_child(status: nix::sys::wait::WaitStatus) -> Result<()> {
    use nix::sys::wait::WaitStatus;
    match status {
        WaitStatus::Exited(_, 0) => Ok(()),
        WaitStatus::Exited(_, EXIT_STDOUT_CLOSED) => {
            Err(StdoutError(std::io::ErrorKind::BrokenPipe.into()).into())
        }
        other => {
            let pid = other.pid().map_or("?".to_string(), |p| p.to_string());
            Err(format!("child {pid} {}", describe(other)).into())
        }
    }
}

/// A `WaitStatus` in words: Python's `os.WIFEXITED`/`os.WEXITSTATUS`/`os.WTERMSIG`, decoded.
fn describe(status: nix::sys::wait::WaitStatus) -> String {
    use nix::sys::wait::WaitStatus;
    match status {
        WaitStatus::Exited(_, code) => format!("exited with {code}"),
        WaitStatus::Signaled(_, signal, core) => format!(
            "was killed by {signal:?}{}",
            if core { " (core dumped)" } else { "" }
        ),
        other => format!("changed state: {other:?}"),
    }
}
// ==== end of copied block: fork ==============================================================
