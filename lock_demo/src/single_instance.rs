//! One instance only, by a pidfile with a lock. An instance opens the pidfile without
//! truncating it, takes an exclusive lock without waiting (`File::try_lock`), and only once it
//! holds the lock writes its PID there. A second instance started meanwhile fails to take the
//! lock, reads who holds it, and refuses. The lock ends with the holder, even a killed one, so
//! a pidfile left by a killed instance is stale: the next instance takes it over. The file is
//! never removed: an instance that unlinked it on exit could remove the file that the next
//! instance had just opened and locked, and a third would then lock a new file beside it.
//!
//! Here this program plays every instance: itself, a second one it starts while it holds the
//! lock, and a third that takes the lock after it and is killed. The pidfile lives in a new
//! private folder; a real program uses a fixed path, such as `$XDG_RUNTIME_DIR/NAME.pid`.
//!
//! Python: `python-daemon`'s `PIDLockFile`, `fcntl.flock(f, LOCK_EX | LOCK_NB)`.
//! Man pages: flock(2). Run: `cargo run -p lock_demo -- single_instance`
//! Copy: single_instance.rs errors.rs
//! Needs: anyhow@1, tempfile@3

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

mod errors;
use errors::say;

/// Set in the environment of the other instances: the pidfile's path, and the part played.
const PIDFILE: &str = "SINGLE_INSTANCE_PIDFILE";
const PART: &str = "SINGLE_INSTANCE_PART";

pub fn main() -> std::process::ExitCode {
    match (std::env::var_os(PIDFILE), std::env::var(PART)) {
        (Some(path), Ok(part)) => errors::exit(other_instance(Path::new(&path), &part)),
        _ => errors::exit(run()),
    }
}

/// The lock on `path`, and what the file said before this instance wrote its PID; or, if
/// another instance holds it, the PID that one wrote.
fn take(path: &Path) -> Result<std::result::Result<(File, String), String>> {
    // Read and write, created if missing (mode 0600), and never truncated on open: the PID in
    // it belongs to whoever holds the lock.
    let mut options = File::options();
    options.read(true).write(true).create(true).truncate(false).mode(0o600);
    let opened = options.open(path);
    let mut file = opened.with_context(|| format!("opening {}", path.display()))?;
    let locked = file.try_lock();
    let mut before = String::new();
    file.read_to_string(&mut before).with_context(|| format!("reading {}", path.display()))?;
    match locked {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(Err(before)),
        Err(e) => return Err(std::io::Error::from(e)).context("flock"),
    }
    file.set_len(0).context("truncating the pidfile")?;
    file.rewind().context("seeking the pidfile")?;
    write!(file, "{}", std::process::id()).context("writing the pidfile")?;
    Ok(Ok((file, before)))
}

fn run() -> Result<()> {
    let dir = tempfile::tempdir().context("making a private folder")?; // mode 0700
    let path = dir.path().join("single_instance.pid");
    let Ok((held, _)) = take(&path)? else { bail!("a new pidfile was locked already") };
    say!("instance 1 (this process, {}): has the lock, wrote its PID", std::process::id())?;
    let second = start(&path, "second")?.wait_with_output().context("waiting for instance 2")?;
    let error = String::from_utf8_lossy(&second.stderr); // `NAME: why`, as every error here
    let why = error.trim().split_once(": ").map_or(error.trim(), |(_, why)| why);
    say!("instance 2: {why} ({})", second.status)?;
    drop(held); // closing the file releases the lock; the file and its PID stay
    let mut third = start(&path, "killed")?;
    let mut ready = String::new();
    let stdout = third.stdout.as_mut().expect("stdout is piped");
    BufReader::new(stdout).read_line(&mut ready).context("reading instance 3")?;
    third.kill().context("killing instance 3")?;
    third.wait().context("waiting for instance 3")?;
    say!("instance 3: {}; then it was killed with SIGKILL", ready.trim())?;
    let Ok((_held, stale)) = take(&path)? else { bail!("the killed instance still holds it") };
    say!("instance 1: took the lock over from the killed {stale}, and wrote its own PID")?;
    Ok(())
}

/// Starts this program again as another instance, playing `part`, its output piped here.
fn start(path: &Path, part: &str) -> Result<std::process::Child> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut command = Command::new(&exe);
    command.args(std::env::args_os().skip(1)).env(PIDFILE, path).env(PART, part);
    let started = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = started.spawn();
    started.with_context(|| format!("starting {}", exe.display()))
}

/// Instance 2 refuses; instance 3 takes the lock and blocks until killed, or until stdin, the
/// first instance's pipe, closes: it never outlives the first.
fn other_instance(path: &Path, part: &str) -> Result<()> {
    match take(path)? {
        Err(holder) => bail!("refused: another instance holds the lock, PID {holder}"),
        Ok(_) if part == "second" => bail!("took a lock that instance 1 holds"),
        Ok((_held, _)) => {
            say!("took the lock, wrote its PID {}", std::process::id())?;
            std::io::stdin().read_to_end(&mut Vec::new()).context("reading stdin")?;
        }
    }
    Ok(())
}
