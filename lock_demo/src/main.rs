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
//! Section 1 starts threads and joins them all before section 2 forks: a process may fork
//! only while it has a single thread (see `fork_flushed`).
//!
//! Man pages worth reading: flock(2) (locks belong to the open file description), open(2)
//! (O_EXCL, O_NOFOLLOW), fork(2).

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
use nix::unistd::getpid;

fn main() -> std::process::ExitCode {
    exit_status(run())
}

fn run() -> Result<()> {
    threads()?;
    // The lock file is removed when `lock_file` is dropped: on success and on every error
    // path out of the sections below. Forked children never return or unwind into this frame
    // (see `run_child`), so they never drop their copy and never remove the parent's file.
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
    say!("== 1. threads: Mutex and atomic ==")?;

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
    say!("Mutex<u64>: {THREADS} threads x {ADDS} adds = {total}")?;

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
    say!(
        "AtomicU64: {THREADS} threads x {ADDS} adds = {}",
        counter.load(Ordering::Relaxed)
    )?;
    // When to use which: an atomic for one number or flag updated in one step; a Mutex when an
    // update reads and writes several things that must change together.
    say!("use an atomic for a lone counter, a Mutex for anything updated in several steps")?;
    Ok(())
}

/// Section 2: `fcntl.flock(fd, LOCK_EX)` around a read-modify-write of a file, in N processes.
fn processes(path: &Path) -> Result<()> {
    const WORKERS: usize = 4;
    const ADDS: usize = 50;
    say!("== 2. processes: flock around read-modify-write ==")?;
    write_number(&mut open(path)?, 0)?;
    let mut children = Vec::new();
    for _ in 0..WORKERS {
        match fork_flushed()? {
            Forked::Child(parent) => run_child(parent, || {
                increment_many(path, ADDS)?;
                Ok(0)
            }),
            Forked::Parent(child) => children.push(child),
        }
    }
    // The file's number counts only if every worker finished its increments.
    for child in children {
        check_child(wait_child(child)?)?;
    }
    let total = read_number(&mut open(path)?)?;
    say!("{WORKERS} processes x {ADDS} locked increments: the file holds {total}")?;
    Ok(())
}

/// One worker of section 2.
fn increment_many(path: &Path, adds: usize) -> Result<()> {
    // Each process opens the file itself. A descriptor inherited from the parent would share
    // one lock with every other process that inherited it (section 4): no exclusion at all.
    let mut file = open(path)?;
    for _ in 0..adds {
        // Blocks until no other open file description holds the lock. std: `file.lock()`.
        FileExt::lock_exclusive(&file).with_context(|| format!("flock {}", path.display()))?;
        let n = read_number(&mut file)?;
        write_number(&mut file, n + 1)?;
        // std: `file.unlock()`. With fs2, write it this way (see the `use` above).
        FileExt::unlock(&file).with_context(|| format!("unlocking {}", path.display()))?;
    }
    Ok(())
}

/// Section 3: `fcntl.flock(fd, LOCK_EX | LOCK_NB)` against a held lock.
fn contention(path: &Path) -> Result<()> {
    say!("== 3. contention: try_lock_exclusive ==")?;
    let holder = open(path)?;
    FileExt::lock_exclusive(&holder).with_context(|| format!("flock {}", path.display()))?;
    say!("parent: holding the exclusive lock")?;
    let (mut from_child, to_parent) = io::pipe().with_context(|| "pipe".to_string())?;
    let (from_parent, mut to_child) = io::pipe().with_context(|| "pipe".to_string())?;
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            // The child drops the parent's pipe ends: while it held a copy of `to_child`, its
            // own read of `from_parent` could never see EOF if the parent died.
            drop((from_child, to_child, holder));
            contending_child(path, to_parent, from_parent)
        }),
        Forked::Parent(child) => {
            drop((to_parent, from_parent));
            child
        }
    };
    // EOF instead of the child's word means the child ended early: its status says why.
    if let Err(e) = from_child.read_exact(&mut [0u8; 5]) {
        check_child(wait_child(child)?)?;
        return Err(e).with_context(|| "reading the child's word".to_string());
    }
    FileExt::unlock(&holder).with_context(|| format!("unlocking {}", path.display()))?;
    say!("parent: released the lock")?;
    if let Err(e) = to_child.write_all(b"released") {
        check_child(wait_child(child)?)?;
        return Err(e).with_context(|| "telling the child".to_string());
    }
    let status = wait_child(child)?;
    check_child(status)?;
    say!("parent: child {}", describe(status))?;
    Ok(())
}

/// The child of section 3: try, tell the parent, wait for the release, try again. Returns
/// the child's exit code.
fn contending_child(
    path: &Path,
    mut to_parent: io::PipeWriter,
    mut from_parent: io::PipeReader,
) -> Result<i32> {
    let file = open(path)?;
    // std: `file.try_lock()`, which reports contention as `TryLockError::WouldBlock`.
    match FileExt::try_lock_exclusive(&file) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            say!("child: try_lock_exclusive failed: would block ({e})")?
        }
        other => return Err(format!("expected would-block, got {other:?}").into()),
    }
    to_parent.write_all(b"tried")?;
    // Wait for the parent to release the lock. EOF means the parent died before it did: end
    // quietly, since nobody is left to tell.
    if let Err(e) = from_parent.read_exact(&mut [0u8; 8]) {
        return match e.kind() {
            ErrorKind::UnexpectedEof => Ok(1),
            _ => Err(e).with_context(|| "waiting for the parent's word".to_string()),
        };
    }
    FileExt::try_lock_exclusive(&file)?;
    say!("child: try_lock_exclusive succeeded after the parent unlocked")?;
    FileExt::unlock(&file)?;
    Ok(0)
}

/// Section 4: the lock lives in the open file description, which `fork` shares.
fn inherited_descriptor(path: &Path) -> Result<()> {
    say!("== 4. the trap: an inherited descriptor shares the lock ==")?;
    let inherited = open(path)?;
    FileExt::lock_exclusive(&inherited).with_context(|| format!("flock {}", path.display()))?;
    say!("parent: holding the exclusive lock")?;
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            sharing_child(path, &inherited)?;
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    let status = wait_child(child)?;
    check_child(status)?;
    say!("parent: child {}", describe(status))?;
    let fresh = open(path)?;
    match FileExt::try_lock_exclusive(&fresh) {
        Ok(()) => {
            say!("parent: a fresh descriptor locks the file: the child's unlock released my lock")?
        }
        Err(e) => say!("parent: a fresh descriptor cannot lock the file: {e}")?,
    }
    say!("so: every process that competes for a lock must open the file itself")?;
    Ok(())
}

/// The child of section 4, with the parent's locked descriptor.
fn sharing_child(path: &Path, inherited: &File) -> Result<()> {
    // Same open file description as the parent's: flock sees one owner, so this "succeeds"
    // while the parent still believes it holds the lock alone.
    FileExt::try_lock_exclusive(inherited)?;
    say!("child: try_lock_exclusive on the inherited descriptor succeeded")?;
    let own = open(path)?;
    match FileExt::try_lock_exclusive(&own) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            say!("child: on a descriptor it opened itself: would block")?
        }
        other => return Err(format!("expected would-block, got {other:?}").into()),
    }
    // Worse: unlocking through the inherited descriptor releases the parent's lock.
    FileExt::unlock(inherited)?;
    say!("child: unlocked the inherited descriptor")?;
    Ok(())
}

/// The lock file: a unique name in the temp dir, removed when dropped.
///
/// If the process is killed with SIGKILL, no destructor runs and the file stays behind,
/// holding whatever number was last written to it (empty, or a count from section 2). That is
/// harmless: the next run picks a new unique name, and a leftover file holds no lock (flock
/// locks die with the last descriptor).
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
            eprintln!("lock_demo: cannot remove {}: {e}", self.path.display());
        }
    }
}

/// Opens the existing lock file for reading and writing. No `create`: the file was made by
/// `LockFile::create`, and opening must not create a new one somewhere else by mistake.
fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

fn read_number(file: &mut File) -> Result<u64> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_string(&mut text)?;
    text.trim()
        .parse()
        .with_context(|| format!("the lock file holds {text:?}, not a number"))
}

fn write_number(file: &mut File, n: u64) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    file.set_len(0)?;
    writeln!(file, "{n}")
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
