//! Locks in Rust: `Mutex` and atomics between threads, `flock` (through fs2) between processes.
//!
//! Run it: `cargo run -p lock_demo`
//!
//! What it shows, one section each:
//! 1. threads incrementing one counter under `Arc<Mutex<_>>`, then with an `AtomicU64`;
//! 2. processes incrementing a number stored in a file, each holding an exclusive `flock`
//!    through fs2 for its read-modify-write;
//! 3. contention: while one process holds the lock, another's `try_lock_exclusive` fails with
//!    "would block", and succeeds once the lock is released;
//! 4. the trap: a descriptor inherited over `fork` shares the parent's lock.
//!
//! Python it replaces: `threading.Lock()` (`with lock:`), `fcntl.flock(fd, LOCK_EX)` /
//! `LOCK_NB` / `LOCK_UN`, `multiprocessing.Lock()`.
//!
//! Man pages worth reading: flock(2) (locks belong to the open file description), open(2)
//! (O_EXCL, O_NOFOLLOW), fork(2).

use std::error::Error;
use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

// fs2's `FileExt` is called as `FileExt::method(&file)` throughout. Since Rust 1.89 `File` has
// inherent `lock`, `lock_shared`, `try_lock`, `try_lock_shared` and `unlock` methods, and an
// inherent method wins over a trait method: `file.unlock()` would silently call std's. The
// std equivalents are named next to each call.
use fs2::FileExt;
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, getpid, getppid};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    threads()?;
    // The lock file is removed when `lock_file` is dropped: on success and on every error
    // path out of the sections below. Forked children end with `_exit`, so they never drop
    // their copy and never remove the parent's file.
    let lock_file = LockFile::create()?;
    processes(&lock_file.path)?;
    contention(&lock_file.path)?;
    inherited_descriptor(&lock_file.path)?;
    Ok(())
}

/// Section 1: `threading.Lock()` around a shared counter, and the lock-free alternative.
fn threads() -> Result<()> {
    const THREADS: u64 = 4;
    const ADDS: u64 = 100_000;
    println!("== 1. threads: Mutex and atomic ==");

    let counter = Arc::new(Mutex::new(0u64));
    let handles = (0..THREADS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            thread::Builder::new().spawn(move || {
                for _ in 0..ADDS {
                    // `with lock:` in Python. The guard unlocks when it goes out of scope, and
                    // the data can only be reached through the guard.
                    *counter
                        .lock()
                        .expect("no thread panics while holding the lock") += 1;
                }
            })
        })
        .collect::<io::Result<Vec<_>>>()?;
    for handle in handles {
        handle.join().expect("a counting thread panicked");
    }
    let total = *counter
        .lock()
        .expect("no thread panics while holding the lock");
    println!("Mutex<u64>: {THREADS} threads x {ADDS} adds = {total}");

    let counter = AtomicU64::new(0);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..ADDS {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    println!(
        "AtomicU64: {THREADS} threads x {ADDS} adds = {}",
        counter.load(Ordering::Relaxed)
    );
    // When to use which: an atomic for one number or flag updated in one step; a Mutex when an
    // update reads and writes several things that must change together.
    println!("use an atomic for a lone counter, a Mutex for anything updated in several steps");
    Ok(())
}

/// Section 2: `fcntl.flock(fd, LOCK_EX)` around a read-modify-write of a file, in N processes.
fn processes(path: &Path) -> Result<()> {
    const WORKERS: usize = 4;
    const ADDS: usize = 50;
    println!("== 2. processes: flock around read-modify-write ==");
    write_number(&mut open(path)?, 0)?;
    let mut children = Vec::new();
    for _ in 0..WORKERS {
        match fork_flushed()? {
            ForkResult::Child => exit_child(increment_many(path, ADDS)),
            ForkResult::Parent { child } => children.push(child),
        }
    }
    for child in children {
        let status = waitpid(child, None)?;
        if !matches!(status, WaitStatus::Exited(_, 0)) {
            return Err(format!("worker {}", describe(status)).into());
        }
    }
    let total = read_number(&mut open(path)?)?;
    println!("{WORKERS} processes x {ADDS} locked increments: the file holds {total}");
    Ok(())
}

/// One worker of section 2.
fn increment_many(path: &Path, adds: usize) -> Result<()> {
    // Each process opens the file itself. A descriptor inherited from the parent would share
    // one lock with every other process that inherited it (section 4): no exclusion at all.
    let mut file = open(path)?;
    for _ in 0..adds {
        // Blocks until no other open file description holds the lock. std: `file.lock()`.
        FileExt::lock_exclusive(&file)?;
        let n = read_number(&mut file)?;
        write_number(&mut file, n + 1)?;
        // std: `file.unlock()`. With fs2, write it this way (see the `use` above).
        FileExt::unlock(&file)?;
    }
    Ok(())
}

/// Section 3: `fcntl.flock(fd, LOCK_EX | LOCK_NB)` against a held lock.
fn contention(path: &Path) -> Result<()> {
    println!("== 3. contention: try_lock_exclusive ==");
    let holder = open(path)?;
    FileExt::lock_exclusive(&holder)?;
    println!("parent: holding the exclusive lock");
    let (mut from_child, to_parent) = io::pipe()?;
    let (from_parent, mut to_child) = io::pipe()?;
    let child = match fork_flushed()? {
        ForkResult::Child => {
            // The child drops the parent's pipe ends: while it held a copy of `to_child`, its
            // own read of `from_parent` could never see EOF if the parent died.
            drop((from_child, to_child, holder));
            exit_child(contending_child(path, to_parent, from_parent))
        }
        ForkResult::Parent { child } => {
            drop((to_parent, from_parent));
            child
        }
    };
    from_child.read_exact(&mut [0u8; 5])?;
    FileExt::unlock(&holder)?;
    println!("parent: released the lock");
    to_child.write_all(b"released")?;
    println!("parent: child {}", describe(waitpid(child, None)?));
    Ok(())
}

/// The child of section 3: try, tell the parent, wait for the release, try again.
fn contending_child(
    path: &Path,
    mut to_parent: io::PipeWriter,
    mut from_parent: io::PipeReader,
) -> Result<()> {
    let file = open(path)?;
    // std: `file.try_lock()`, which reports contention as `TryLockError::WouldBlock`.
    match FileExt::try_lock_exclusive(&file) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            println!("child: try_lock_exclusive failed: would block ({e})")
        }
        other => return Err(format!("expected would-block, got {other:?}").into()),
    }
    to_parent.write_all(b"tried")?;
    // Wait for the parent to release the lock. EOF (the parent died) also ends the wait.
    from_parent.read_exact(&mut [0u8; 8])?;
    FileExt::try_lock_exclusive(&file)?;
    println!("child: try_lock_exclusive succeeded after the parent unlocked");
    FileExt::unlock(&file)?;
    Ok(())
}

/// Section 4: the lock lives in the open file description, which `fork` shares.
fn inherited_descriptor(path: &Path) -> Result<()> {
    println!("== 4. the trap: an inherited descriptor shares the lock ==");
    let inherited = open(path)?;
    FileExt::lock_exclusive(&inherited)?;
    println!("parent: holding the exclusive lock");
    let child = match fork_flushed()? {
        ForkResult::Child => exit_child(sharing_child(path, &inherited)),
        ForkResult::Parent { child } => child,
    };
    println!("parent: child {}", describe(waitpid(child, None)?));
    let fresh = open(path)?;
    match FileExt::try_lock_exclusive(&fresh) {
        Ok(()) => println!(
            "parent: a fresh descriptor locks the file: the child's unlock released my lock"
        ),
        Err(e) => println!("parent: a fresh descriptor cannot lock the file: {e}"),
    }
    println!("so: every process that competes for a lock must open the file itself");
    Ok(())
}

/// The child of section 4, with the parent's locked descriptor.
fn sharing_child(path: &Path, inherited: &File) -> Result<()> {
    // Same open file description as the parent's: flock sees one owner, so this "succeeds"
    // while the parent still believes it holds the lock alone.
    FileExt::try_lock_exclusive(inherited)?;
    println!("child: try_lock_exclusive on the inherited descriptor succeeded");
    let own = open(path)?;
    match FileExt::try_lock_exclusive(&own) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            println!("child: on a descriptor it opened itself: would block")
        }
        other => return Err(format!("expected would-block, got {other:?}").into()),
    }
    // Worse: unlocking through the inherited descriptor releases the parent's lock.
    FileExt::unlock(inherited)?;
    println!("child: unlocked the inherited descriptor");
    Ok(())
}

/// The lock file: a unique name in the temp dir, removed when dropped.
///
/// If the process is killed with SIGKILL, no destructor runs and the empty file stays behind.
/// That is harmless: the next run picks a new unique name, and a leftover file holds no lock
/// (flock locks die with the last descriptor).
struct LockFile {
    path: PathBuf,
}

impl LockFile {
    fn create() -> Result<LockFile> {
        let dir = std::env::temp_dir();
        for attempt in 0..100 {
            let path = dir.join(format!("lock_demo-{}-{attempt}.lock", getpid()));
            // `create_new` is O_CREAT | O_EXCL: it fails if anything, a symlink included, already
            // has the name, so an attacker's planted link cannot redirect our writes.
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(_) => return Ok(LockFile { path }),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("cannot create {}: {e}", path.display()).into()),
            }
        }
        Err(format!("no free lock file name in {}", dir.display()).into())
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            eprintln!("cannot remove {}: {e}", self.path.display());
        }
    }
}

/// Opens the existing lock file for reading and writing. No `create`: the file was made by
/// `LockFile::create`, and opening must not create a new one somewhere else by mistake.
fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open(path)
}

fn read_number(file: &mut File) -> Result<u64> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_string(&mut text)?;
    Ok(text.trim().parse()?)
}

fn write_number(file: &mut File, n: u64) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    file.set_len(0)?;
    writeln!(file, "{n}")
}

/// `fork`, after flushing stdout so no buffered line is printed twice. The child dies with its
/// parent: one waiting on a pipe or a lock would otherwise outlive a killed parent.
fn fork_flushed() -> Result<ForkResult> {
    io::stdout().flush()?;
    let parent = getpid();
    // Safety: the threads of section 1 have all been joined before the first fork, so the
    // process is single-threaded here and the child may allocate, print and take locks.
    let forked = unsafe { fork() }?;
    if let ForkResult::Child = forked {
        set_pdeathsig(Signal::SIGKILL)?;
        // If the parent died before the line above, the signal will never come.
        if getppid() != parent {
            exit_child(Err("the parent is gone".into()));
        }
    }
    Ok(forked)
}

/// Ends a forked child: 0 on success, 101 after printing the error. Returning from `main`
/// would run the parent's code and destructors in the child (removing the parent's lock
/// file); `_exit` ends the process at once.
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
