//! Pipes between processes in Rust, for a reader coming from Python's `os.pipe` and
//! `multiprocessing.Pipe`/`Queue`.
//!
//! Run it: `cargo run -p ipc_pipe`
//!
//! What it shows, one section each:
//! 1. a one-way pipe from parent to forked child, with messages framed so that three writes
//!    arrive as three messages, and EOF once the writer is done;
//! 2. a duplex channel (`UnixStream::pair`, a socketpair) with requests and responses;
//! 3. many writers and one reader on one pipe, like `multiprocessing.Queue`: records of at most
//!    `PIPE_BUF` bytes, each written with a single `write`, never interleave;
//! 4. writing after the reader is gone fails with `EPIPE`.
//!
//! Python it replaces: `os.pipe()`, `os.read`/`os.write`, `os.close`, `multiprocessing.Pipe()`,
//! `multiprocessing.Queue()` between processes.
//!
//! This program starts no thread, so it may fork at any point (see `fork_flushed`). The two
//! blocks at the end of the file are shared by every example and explained there.
//!
//! Man pages worth reading: pipe(7) (PIPE_BUF and atomic writes), pipe(2), socketpair(2),
//! unix(7), fork(2), _exit(2).

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;

fn main() -> std::process::ExitCode {
    exit_status(run())
}

fn run() -> Result<()> {
    one_way_pipe()?;
    duplex_socketpair()?;
    many_writers()?;
    write_without_reader()?;
    Ok(())
}

/// Section 1: the seed's three messages, framed, then EOF.
fn one_way_pipe() -> Result<()> {
    say!("== 1. a one-way pipe, framed messages, EOF ==")?;

    // A pipe is a byte stream, shown without any race: writes that are already in the pipe
    // come back from one read as one lump.
    let (mut reader, mut writer) = io::pipe().with_context(|| "pipe".to_string())?;
    for n in 1..=3 {
        writer.write_all(format!("Message {n}").as_bytes())?;
    }
    let mut lump = [0u8; 64];
    let len = reader.read(&mut lump)?;
    say!(
        "unframed: one read returned {:?}",
        String::from_utf8_lossy(&lump[..len])
    )?;
    drop((reader, writer));

    // Framing: one message per line. Newlines suit text messages that never contain one and
    // keep the stream readable in strace; for arbitrary bytes, prefix each message with its
    // length instead.
    let (reader, mut writer) = io::pipe().with_context(|| "pipe".to_string())?;
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            // The child must close its copy of the write end: EOF comes only when *every*
            // write end is closed, so a child that kept one would wait for itself forever.
            drop(writer);
            receive_messages(reader)?;
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    // The parent closes the read end it does not use. Not needed for EOF here, but without it
    // the parent would never get EPIPE if the child died (section 4).
    drop(reader);
    for n in 1..=3 {
        if let Err(e) = writer.write_all(format!("Message {n}\n").as_bytes()) {
            // EPIPE: the child closed its end, most likely by exiting. Its status says why.
            check_child(wait_child(child)?)?;
            return Err(e).with_context(|| format!("writing message {n} to the child"));
        }
    }
    // Closing the write end is what sends EOF.
    drop(writer);
    let status = wait_child(child)?;
    check_child(status)?;
    say!(
        "parent: sent 3 messages and closed the write end; child {}",
        describe(status)
    )?;
    Ok(())
}

fn receive_messages(reader: io::PipeReader) -> Result<()> {
    let mut count = 0;
    // `lines()` reads until a newline, however the bytes were split into reads, and ends at EOF.
    for message in BufReader::new(reader).lines() {
        count += 1;
        say!("child: message {count}: {:?}", message?)?;
    }
    say!("child: EOF after {count} messages")?;
    Ok(())
}

/// Section 2: `parent_conn, child_conn = multiprocessing.Pipe()` (duplex by default).
fn duplex_socketpair() -> Result<()> {
    say!("== 2. a duplex socketpair: request and response ==")?;
    let (parent_end, child_end) = UnixStream::pair().with_context(|| "socketpair".to_string())?;
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            drop(parent_end);
            serve_squares(child_end)?;
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    drop(child_end);
    let mut responses = BufReader::new(parent_end.try_clone()?);
    let mut requests = parent_end;
    for n in [3u64, 7, 12] {
        if let Err(e) = writeln!(requests, "{n}") {
            check_child(wait_child(child)?)?;
            return Err(e).with_context(|| format!("sending request {n} to the child"));
        }
        let mut answer = String::new();
        // Zero bytes means EOF: the child is gone without answering.
        if responses.read_line(&mut answer)? == 0 {
            check_child(wait_child(child)?)?;
            return Err("the child closed the socket without answering".into());
        }
        say!(
            "parent: asked for {n} squared, the child answered {}",
            answer.trim_end()
        )?;
    }
    // Half-close: the child sees EOF on its reading side and ends, while the socket could still
    // carry data the other way.
    requests.shutdown(std::net::Shutdown::Write)?;
    let status = wait_child(child)?;
    check_child(status)?;
    say!(
        "parent: shut down my sending side; child {}",
        describe(status)
    )?;
    Ok(())
}

/// The child's side of section 2: answer each request line until EOF.
fn serve_squares(stream: UnixStream) -> Result<()> {
    let mut replies = stream.try_clone()?;
    for request in BufReader::new(stream).lines() {
        let request = request?;
        let n: u64 = request
            .parse()
            .with_context(|| format!("request {request:?} is not a number"))?;
        writeln!(replies, "{}", n * n)?;
    }
    Ok(())
}

/// Section 3: many writers, one reader, records that never interleave.
fn many_writers() -> Result<()> {
    const WRITERS: usize = 4;
    const RECORDS: usize = 3;
    say!("== 3. four writers, one reader, atomic records ==")?;
    let (reader, writer) = io::pipe().with_context(|| "pipe".to_string())?;
    let mut children = Vec::new();
    for w in 1..=WRITERS {
        match fork_flushed()? {
            Forked::Child(parent) => run_child(parent, || {
                drop(reader);
                write_records(&writer, w, RECORDS)?;
                Ok(0)
            }),
            Forked::Parent(child) => children.push(child),
        }
    }
    // Every child has its own copy now; the parent's must go, or the reader never sees EOF.
    drop(writer);
    let mut records = Vec::new();
    for line in BufReader::new(reader).lines() {
        let line = line?;
        say!("reader: {line}")?;
        records.push(line);
    }
    // Reap and check every writer before trusting what they wrote.
    let mut statuses = Vec::new();
    for child in children {
        let status = wait_child(child)?;
        check_child(status)?;
        statuses.push(status);
    }
    // Every record must arrive whole and exactly once; order between writers is free.
    let mut expected: Vec<String> = (1..=WRITERS)
        .flat_map(|w| (1..=RECORDS).map(move |r| format!("writer {w} record {r} of {RECORDS}")))
        .collect();
    expected.sort();
    records.sort();
    if records != expected {
        return Err(format!(
            "the {} records read differ from the {} expected",
            records.len(),
            expected.len()
        )
        .into());
    }
    say!(
        "reader: EOF; all {} records arrived whole, each once",
        records.len()
    )?;
    for (w, status) in (1..=WRITERS).zip(statuses) {
        say!("parent: writer {w} {}", describe(status))?;
    }
    Ok(())
}

/// One writer of section 3.
fn write_records(mut writer: &io::PipeWriter, w: usize, records: usize) -> Result<()> {
    for r in 1..=records {
        let record = format!("writer {w} record {r} of {records}\n");
        // pipe(7): a write of at most PIPE_BUF bytes to a pipe is atomic, so records from
        // different writers never mix. That holds only for a single `write`: `write_all` would
        // loop on a short write and could split the record, so write once and treat a short
        // write as the error it is.
        if record.len() > libc::PIPE_BUF {
            return Err(format!("a record of {} bytes exceeds PIPE_BUF", record.len()).into());
        }
        let written = writer.write(record.as_bytes())?;
        if written != record.len() {
            return Err(format!("short write: {written} of {} bytes", record.len()).into());
        }
    }
    Ok(())
}

/// Section 4: the reader is gone; the writer gets `EPIPE`, not a silent loss.
fn write_without_reader() -> Result<()> {
    say!("== 4. writing after the reader is gone ==")?;
    let (reader, mut writer) = io::pipe().with_context(|| "pipe".to_string())?;
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            drop(writer);
            read_one_line(reader)?;
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    drop(reader);
    if let Err(e) = writer.write_all(b"hello\n") {
        check_child(wait_child(child)?)?;
        return Err(e).with_context(|| "writing to the child".to_string());
    }
    // Once the child has exited, no read end is open anywhere.
    let status = wait_child(child)?;
    check_child(status)?;
    say!("parent: child {}", describe(status))?;
    // Rust's runtime ignores SIGPIPE at startup, so the write returns an error instead of
    // killing the process (C's default); Python does the same and raises BrokenPipeError.
    match writer.write_all(b"anyone there?\n") {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => say!(
            "parent: write failed with EPIPE ({})",
            io::Error::from_raw_os_error(e.raw_os_error().unwrap_or_default())
        )?,
        other => return Err(format!("expected EPIPE, got {other:?}").into()),
    }
    Ok(())
}

fn read_one_line(reader: io::PipeReader) -> Result<()> {
    let mut line = String::new();
    BufReader::new(reader).read_line(&mut line)?;
    say!(
        "child: read {:?} and exits, closing the read end",
        line.trim_end()
    )?;
    Ok(())
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
