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
//! Man pages worth reading: pipe(7) (PIPE_BUF and atomic writes), pipe(2), socketpair(2),
//! unix(7), fork(2).

use std::error::Error;
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    one_way_pipe()?;
    duplex_socketpair()?;
    many_writers()?;
    write_without_reader()?;
    Ok(())
}

/// Section 1: the seed's three messages, framed, then EOF.
fn one_way_pipe() -> Result<()> {
    println!("== 1. a one-way pipe, framed messages, EOF ==");

    // The seed's bug, shown without any race: a pipe is a byte stream, so writes that are
    // already in the pipe come back from one read as one lump.
    let (mut reader, mut writer) = io::pipe()?;
    for n in 1..=3 {
        writer.write_all(format!("Message {n}").as_bytes())?;
    }
    let mut lump = [0u8; 64];
    let len = reader.read(&mut lump)?;
    println!(
        "unframed: one read returned {:?}",
        String::from_utf8_lossy(&lump[..len])
    );
    drop((reader, writer));

    // Framing: one message per line. Newlines suit text messages that never contain one and
    // keep the stream readable in strace; for arbitrary bytes, prefix each message with its
    // length instead.
    let (reader, mut writer) = io::pipe()?;
    let child = match fork_flushed()? {
        ForkResult::Child => {
            // The child must close its copy of the write end: EOF comes only when *every*
            // write end is closed, so a child that kept one would wait for itself forever.
            drop(writer);
            exit_child(receive_messages(reader))
        }
        ForkResult::Parent { child } => child,
    };
    // The parent closes the read end it does not use. Not needed for EOF here, but without it
    // the parent would never get EPIPE if the child died (section 4).
    drop(reader);
    for n in 1..=3 {
        writer.write_all(format!("Message {n}\n").as_bytes())?;
    }
    // Closing the write end is what sends EOF.
    drop(writer);
    let status = waitpid(child, None)?;
    println!(
        "parent: sent 3 messages and closed the write end; child {}",
        describe(status)
    );
    Ok(())
}

fn receive_messages(reader: io::PipeReader) -> Result<()> {
    let mut count = 0;
    // `lines()` reads until a newline, however the bytes were split into reads, and ends at EOF.
    for message in BufReader::new(reader).lines() {
        count += 1;
        println!("child: message {count}: {:?}", message?);
    }
    println!("child: EOF after {count} messages");
    Ok(())
}

/// Section 2: `parent_conn, child_conn = multiprocessing.Pipe()` (duplex by default).
fn duplex_socketpair() -> Result<()> {
    println!("== 2. a duplex socketpair: request and response ==");
    let (parent_end, child_end) = UnixStream::pair()?;
    let child = match fork_flushed()? {
        ForkResult::Child => {
            drop(parent_end);
            exit_child(serve_squares(child_end))
        }
        ForkResult::Parent { child } => child,
    };
    drop(child_end);
    let mut responses = BufReader::new(parent_end.try_clone()?);
    let mut requests = parent_end;
    for n in [3u64, 7, 12] {
        writeln!(requests, "{n}")?;
        let mut answer = String::new();
        responses.read_line(&mut answer)?;
        println!(
            "parent: asked for {n} squared, the child answered {}",
            answer.trim_end()
        );
    }
    // Half-close: the child sees EOF on its reading side and ends, while the socket could still
    // carry data the other way.
    requests.shutdown(std::net::Shutdown::Write)?;
    let status = waitpid(child, None)?;
    println!(
        "parent: shut down my sending side; child {}",
        describe(status)
    );
    Ok(())
}

/// The child's side of section 2: answer each request line until EOF.
fn serve_squares(stream: UnixStream) -> Result<()> {
    let mut replies = stream.try_clone()?;
    for request in BufReader::new(stream).lines() {
        let n: u64 = request?.parse()?;
        writeln!(replies, "{}", n * n)?;
    }
    Ok(())
}

/// Section 3: many writers, one reader, records that never interleave.
fn many_writers() -> Result<()> {
    const WRITERS: usize = 4;
    const RECORDS: usize = 3;
    println!("== 3. four writers, one reader, atomic records ==");
    let (reader, writer) = io::pipe()?;
    let mut children = Vec::new();
    for w in 1..=WRITERS {
        match fork_flushed()? {
            ForkResult::Child => {
                drop(reader);
                exit_child(write_records(&writer, w, RECORDS))
            }
            ForkResult::Parent { child } => children.push(child),
        }
    }
    // Every child has its own copy now; the parent's must go, or the reader never sees EOF.
    drop(writer);
    let mut records = Vec::new();
    for line in BufReader::new(reader).lines() {
        let line = line?;
        println!("reader: {line}");
        records.push(line);
    }
    // Every record must arrive whole and exactly once; order between writers is free.
    let mut expected: Vec<String> = (1..=WRITERS)
        .flat_map(|w| (1..=RECORDS).map(move |r| format!("writer {w} record {r} of {RECORDS}")))
        .collect();
    expected.sort();
    records.sort();
    if records == expected {
        println!(
            "reader: EOF; all {} records arrived whole, each once",
            records.len()
        );
    } else {
        println!(
            "reader: EOF; records differ from the {} expected",
            expected.len()
        );
    }
    for (w, child) in (1..=WRITERS).zip(children) {
        println!("parent: writer {w} {}", describe(waitpid(child, None)?));
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
        assert!(
            record.len() <= libc::PIPE_BUF,
            "a record must fit in PIPE_BUF"
        );
        let written = writer.write(record.as_bytes())?;
        if written != record.len() {
            return Err(format!("short write: {written} of {}", record.len()).into());
        }
    }
    Ok(())
}

/// Section 4: the reader is gone; the writer gets `EPIPE`, not a silent loss.
fn write_without_reader() -> Result<()> {
    println!("== 4. writing after the reader is gone ==");
    let (reader, mut writer) = io::pipe()?;
    let child = match fork_flushed()? {
        ForkResult::Child => {
            drop(writer);
            exit_child(read_one_line(reader))
        }
        ForkResult::Parent { child } => child,
    };
    drop(reader);
    writer.write_all(b"hello\n")?;
    // Once the child has exited, no read end is open anywhere.
    let status = waitpid(child, None)?;
    println!("parent: child {}", describe(status));
    // Rust's runtime ignores SIGPIPE at startup, so the write returns an error instead of
    // killing the process (C's default); Python does the same and raises BrokenPipeError.
    match writer.write_all(b"anyone there?\n") {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => println!(
            "parent: write failed with EPIPE ({})",
            io::Error::from_raw_os_error(e.raw_os_error().unwrap_or_default())
        ),
        other => return Err(format!("expected EPIPE, got {other:?}").into()),
    }
    Ok(())
}

fn read_one_line(reader: io::PipeReader) -> Result<()> {
    let mut line = String::new();
    BufReader::new(reader).read_line(&mut line)?;
    println!(
        "child: read {:?} and exits, closing the read end",
        line.trim_end()
    );
    Ok(())
}

/// `fork`, after flushing stdout: anything still buffered would be copied into the child and
/// written twice.
fn fork_flushed() -> Result<ForkResult> {
    io::stdout().flush()?;
    // Safety: this program never starts a thread, so the child is a complete copy of a
    // single-threaded process and may allocate, print and use the descriptors it inherited.
    Ok(unsafe { fork() }?)
}

/// Ends a forked child: 0 on success, 101 after printing the error.
///
/// Never return from `main` in a forked child: it would run the rest of the parent's program.
/// `_exit` ends the process at once, skipping atexit handlers and buffers that belong to the
/// parent; our own output is flushed first.
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
