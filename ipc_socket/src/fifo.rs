//! Two processes that find each other by a path: a FIFO, a pipe with a name. The parent makes
//! the FIFO (mode 0600) in a folder of its own (mode 0700). Opening either end blocks until the
//! other end is open too, and a non-blocking open for writing with no reader fails at once,
//! with ENXIO (shown). The order that works: the reader opens first, non-blocking, so it never
//! waits; then the writer (this program again) opens for writing, at once since a reader is
//! there, and says so. The reader then reads, blocking again, until end of file, which comes
//! when the last writer has closed its end. The FIFO is removed at the end. A pipe does the
//! same between a parent and the children it starts, with no name to find or remove; a FIFO is
//! for processes that share nothing but a path.
//!
//! Python: `os.mkfifo(path, 0o600)`, `open(path)`. Man pages: fifo(7), mkfifo(3).
//! Run: `cargo run -p ipc_socket -- fifo`
//! Copy: fifo.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features fs), tempfile@3

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::stat::Mode;
use nix::unistd::mkfifo;

mod errors;
use errors::say;

/// Set in the writer's environment: the FIFO's path.
const WRITER: &str = "FIFO_WRITER";

pub fn main() -> std::process::ExitCode {
    match std::env::var_os(WRITER) {
        Some(path) => errors::exit(writer(Path::new(&path))),
        None => errors::exit(run()),
    }
}

/// Opens `path` for reading or for writing, without waiting for the other end.
fn open_nonblocking(path: &Path, write: bool) -> std::io::Result<File> {
    let mut options = File::options();
    options.read(!write).write(write).custom_flags(OFlag::O_NONBLOCK.bits()).open(path)
}

fn run() -> Result<()> {
    let folder = tempfile::tempdir().context("making a private folder")?; // mode 0700
    let path = folder.path().join("fifo");
    mkfifo(&path, Mode::S_IRUSR | Mode::S_IWUSR).context("mkfifo")?;
    match open_nonblocking(&path, true) {
        Err(e) if e.raw_os_error() == Some(Errno::ENXIO as i32) => {
            say!("writer, non-blocking, before any reader: {e} (ENXIO)")?
        }
        Err(e) => return Err(e).context("a non-blocking write open, before any reader"),
        Ok(_) => bail!("a non-blocking write open succeeded before any reader"),
    }
    let reader = open_nonblocking(&path, false).context("opening the FIFO for reading")?;
    say!("reader: opened the FIFO without waiting; starting the writer")?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut command = Command::new(&exe);
    command.args(std::env::args_os().skip(1)).env(WRITER, &path);
    command.stdout(Stdio::piped()).stderr(Stdio::piped()); // one line of error: ours
    let mut child = command.spawn().context("starting the writer")?;
    let mut said = String::new();
    let stdout = child.stdout.as_mut().expect("stdout is piped");
    BufReader::new(stdout).read_line(&mut said).context("reading the writer's word")?;
    ensure!(said == "opened\n", "the writer ended before it opened the FIFO");
    // With a writer in, reads may block, and end of file means that the writer has closed.
    fcntl(&reader, FcntlArg::F_SETFL(OFlag::empty())).context("clearing O_NONBLOCK")?;
    for line in BufReader::new(reader).lines() {
        say!("reader: {}", line.context("reading the FIFO")?)?;
    }
    let output = child.wait_with_output().context("waiting for the writer")?;
    let (status, why) = (output.status, String::from_utf8_lossy(&output.stderr));
    ensure!(status.success(), "the writer ended: {status}: {}", why.trim());
    std::fs::remove_file(&path).context("removing the FIFO")?;
    Ok(say!("reader: end of file, the writer closed ({status}); removed the FIFO")?)
}

/// The writer: opens the FIFO by its path (a reader is there, so at once), says so, writes.
fn writer(path: &Path) -> Result<()> {
    let mut fifo = File::options().write(true).open(path).context("opening the FIFO")?;
    say!("opened")?;
    for n in 1..=3 {
        writeln!(fifo, "line {n} from the writer").context("writing the FIFO")?;
    }
    Ok(())
}
