//! Shared memory created by Rust and used by Python: Rust creates and sizes a POSIX shared
//! memory object, then hands its name to a Python child, which attaches with
//! `multiprocessing.shared_memory.SharedMemory(name)`. The trap: Python 3.12 and older unlink
//! a segment they only attached to when they exit; `shm_attach.py` shows the fix.
//! Run: `cargo run -p with_python -- shm_from_rust`
//! Copy: shm_from_rust.rs python.rs errors.rs shm_attach.py
//! Needs: anyhow@1, memmap2@0.9, nix@0.31 (features fs, mman, signal)

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::fcntl::{OFlag, posix_fallocate};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;

mod errors;
mod python;
use errors::say;

const SIZE: usize = 4096;
const MESSAGE: &str = "hello from Rust";

pub fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    // Unique; O_EXCL: never open another program's object. Python adds the slash itself.
    let name = format!("shm_from_rust-{}", std::process::id());
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let fd = shm_open(name.as_str(), flags, Mode::S_IRUSR | Mode::S_IWUSR)
        .with_context(|| format!("shm_open /{name}"))?;
    // Until Python attaches, a SIGKILL here leaves the name in /dev/shm (in Python too).
    let shared = share(&name, File::from(fd));
    let _ = shm_unlink(name.as_str()); // On success it is gone already (ENOENT).
    Ok(say!("rust: read back {:?}", shared?)?)
}

fn share(name: &str, file: File) -> Result<String> {
    // Sized before Python learns the name: Python cannot attach to an empty object. Reserved,
    // not only sized (ftruncate): on a full /dev/shm the first write would be a SIGBUS.
    posix_fallocate(&file, 0, SIZE as i64).context("posix_fallocate")?;
    // Safety: the object is new and ours; Python writes to it only while this process waits
    // for it to exit, and does not touch the mapping.
    let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }.context("mmap")?;
    map[..MESSAGE.len()].copy_from_slice(MESSAGE.as_bytes()); // Python stops at the 0 after.
    say!("rust: created /{name}, {SIZE} bytes, mode 0600, and wrote {MESSAGE:?}")?;
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    ours.set_read_timeout(Some(Duration::from_secs(5))).context("SO_RCVTIMEO")?;
    let child = python::start(include_str!("shm_attach.py"), &[name], theirs)?;
    let (mut said, mut reader) = (String::new(), BufReader::new(&ours));
    reader.read_line(&mut said).context("reading from python3")?;
    if said != "attached\n" {
        child.finish()?; // Its own error says more than ours.
        bail!("python3 said {said:?}, not \"attached\"");
    }
    // Both processes have it mapped: the name has done its job.
    shm_unlink(name).with_context(|| format!("shm_unlink /{name}"))?;
    say!("python: attached; rust: unlinked /{name}, the mapping stays")?;
    child.finish()?; // Python has written its answer and closed the block.
    let answer = map[MESSAGE.len() + 1..].split(|&b| b == 0).next().expect("one part at least");
    Ok(String::from_utf8_lossy(answer).into_owned())
}
