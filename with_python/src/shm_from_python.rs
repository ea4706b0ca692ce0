//! Shared memory created by Python and used by Rust: a Python child creates a block with
//! `multiprocessing.shared_memory.SharedMemory(create=True, size=4096)` and sends its name;
//! Rust opens it with `shm_open` (no `O_CREAT`), maps what `fstat` says, reads Python's message
//! and writes an answer; Python, the creator, unlinks it. Python: `SharedMemory(create=True)`.
//! Run: `cargo run -p with_python -- shm_from_python`
//! Copy: shm_from_python.rs python.rs errors.rs shm_create.py
//! Needs: anyhow@1, memmap2@0.9, nix@0.31 (features fs, mman, signal)

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::fcntl::OFlag;
use nix::sys::mman::shm_open;
use nix::sys::stat::Mode;

mod errors;
mod python;
use errors::say;

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    ours.set_read_timeout(Some(Duration::from_secs(5))).context("SO_RCVTIMEO")?;
    let child = python::start(include_str!("shm_create.py"), &[], theirs)?;
    let mut lines = BufReader::new(&ours).lines();
    let mut next = |what: &str| match lines.next() {
        Some(line) => line.with_context(|| format!("reading {what} from python3")),
        None => bail!("python3 ended before it sent {what}"),
    };
    let created = match next("the block's name") {
        Ok(line) => line,
        Err(e) => return child.finish().and(Err(e)), // Python's own error says more.
    };
    let [name, size, length] = created.split(' ').collect::<Vec<_>>()[..] else {
        bail!("python3 sent {created:?}, not `NAME SIZE LENGTH`");
    };
    let length: usize = length.parse().context("the message's length")?;
    // Python's names have no slash (`psm_...`); shm_open wants one, as Python adds it.
    let fd = shm_open(format!("/{name}").as_str(), OFlag::O_RDWR, Mode::empty())
        .with_context(|| format!("shm_open /{name}"))?;
    let (mut map, mut socket) = (map(&File::from(fd))?, &ours); // as long as `fstat` says
    socket.write_all(b"attached\n").context("telling python3")?;
    let text = String::from_utf8_lossy(map.get(..length).context("a message past the block")?);
    let bytes = map.len();
    say!("rust: attached to /{name}: {bytes} bytes (Python asked for {size}), message {text:?}")?;
    let answer = b"hello back from Rust\0";
    let after = map.get_mut(length..length + answer.len()).context("an answer past the block")?;
    after.copy_from_slice(answer);
    socket.write_all(b"answered\n").context("telling python3")?;
    let read_back = next("what it read back")?;
    child.finish()?;
    Ok(say!("python: {read_back}; it had unlinked /{name} once Rust attached")?)
}

/// Maps the whole block, shared: what Python writes, this mapping sees.
fn map(block: &File) -> Result<memmap2::MmapMut> {
    // Safety: Python writes to the block only before it sends the name and after "answered",
    // and never shrinks it, so it neither changes nor shrinks under this process's accesses.
    unsafe { memmap2::MmapMut::map_mut(block) }.context("mmap")
}
