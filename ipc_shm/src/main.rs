//! Shared memory between processes in Rust: POSIX `shm_open` mapped with memmap2, and the
//! synchronisation that makes it correct.
//!
//! Run it: `cargo run -p ipc_shm`
//!
//! What it shows, one section each:
//! 1. a named shared-memory object (`shm_open`, unlinked at once, its memory reserved with
//!    `posix_fallocate`) mapped with `MmapMut::map_mut` (MAP_SHARED); a forked child writes
//!    three length-prefixed messages into slots big enough for them, and the parent reads them
//!    after `waitpid` says the child exited cleanly;
//! 2. parent and child both incrementing one counter in the mapping, through an atomic: the
//!    total is exact;
//! 3. a process-shared semaphore (`sem_init` with pshared = 1) in the mapping, so the parent
//!    waits for the child's data without polling, while both run;
//! 4. the mapping seen from the outside: its size, its name gone from /dev/shm, still shared.
//!
//! Python it replaces: `mmap.mmap(-1, size)` + `os.fork()`,
//! `multiprocessing.shared_memory.SharedMemory`, `multiprocessing.Value`,
//! `multiprocessing.Semaphore`.
//!
//! This program starts no thread, so it may fork at any point (see `fork_flushed`).
//!
//! Man pages worth reading: shm_overview(7), shm_open(3), posix_fallocate(3), mmap(2)
//! (MAP_SHARED vs MAP_PRIVATE, SIGBUS), sem_overview(7), sem_init(3), proc_pid_maps(5).

use std::cell::UnsafeCell;
use std::fs::File;
use std::mem::size_of;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use memmap2::MmapMut;
use nix::errno::Errno;
use nix::fcntl::{OFlag, posix_fallocate};
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::{Mode, fstat};
use nix::sys::statvfs::statvfs;
use nix::sys::time::TimeSpec;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpid};

/// How long section 3 waits for the child's semaphore before asking what became of it.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> std::process::ExitCode {
    exit_status(run())
}

fn run() -> Result<()> {
    messages_after_exit()?;
    shared_counter()?;
    semaphore_handoff()?;
    seen_from_outside()?;
    Ok(())
}

/// A shared-memory object, mapped and already unlinked.
struct SharedMemory {
    map: MmapMut,
    /// The mapping's start, taken once at creation while no other process could touch it.
    /// Atomics and semaphores are reached through this pointer, never through `&map[..]`,
    /// which would make a slice reference over bytes another process writes.
    base: *mut u8,
    /// The file behind the mapping; the mapping alone would keep the memory alive too.
    file: File,
    /// The name it had, for display: it no longer exists.
    name: String,
}

/// Creates a POSIX shared-memory object of `size` bytes, reserves its memory, maps it shared,
/// and removes its name.
///
/// Why not `MmapMut::map_anon`: memmap2 maps anonymous memory MAP_PRIVATE, so after `fork` each
/// process writes its own copy-on-write pages and the parent never sees the child's writes.
/// Mapping a file descriptor (`map_mut`) gives MAP_SHARED.
fn create_shared_memory(size: usize) -> Result<SharedMemory> {
    static CREATED: AtomicU32 = AtomicU32::new(0);
    // Unique per process and per call. O_EXCL refuses to reuse a name someone else made (or
    // planted): we never map memory we did not create.
    let name = format!(
        "/ipc_shm-{}-{}",
        getpid(),
        CREATED.fetch_add(1, Ordering::Relaxed) + 1
    );
    let fd = shm_open(
        name.as_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
        Mode::S_IRUSR | Mode::S_IWUSR,
    )
    .with_context(|| format!("shm_open {name}"))?;
    // Remove the name at once: the descriptor keeps the object alive, and from here on a crash,
    // even SIGKILL, cannot leave it behind in /dev/shm. (Only the gap between these two calls
    // remains; `memfd_create` avoids even that when no name is needed.)
    shm_unlink(name.as_str()).with_context(|| format!("shm_unlink {name}"))?;
    // Size the object and reserve its memory now. `ftruncate` would only set the size: on a full
    // /dev/shm (a container's is 64 MB) it still succeeds, and the first write to a page that
    // cannot be had kills the writer with SIGBUS, with no error to report. posix_fallocate
    // allocates every page up front, so a lack of space is an ordinary ENOSPC here.
    let len = i64::try_from(size)?;
    if let Err(e) = posix_fallocate(&fd, 0, len) {
        return Err(format!(
            "posix_fallocate {name} ({size} bytes): {e}{}",
            space_hint(e)
        )
        .into());
    }
    let file = File::from(fd);
    // Safety: `map_mut` is unsafe because another process could truncate the file under us,
    // which would turn accesses into SIGBUS. Nobody else can: the object was created here
    // (O_EXCL) and its name is already gone, so only this process and the children it forks
    // hold it, and none of them truncates it.
    let mut map = unsafe { MmapMut::map_mut(&file) }.with_context(|| format!("mmap {name}"))?;
    let base = map.as_mut_ptr();
    Ok(SharedMemory {
        map,
        base,
        file,
        name,
    })
}

/// What to tell a user whose shared memory could not be reserved.
fn space_hint(error: Errno) -> String {
    if error != Errno::ENOSPC {
        return String::new();
    }
    match statvfs("/dev/shm") {
        Ok(fs) => format!(
            "; /dev/shm has {} KiB free of {} KiB (in a container, raise it with \
             `--shm-size`)",
            fs.blocks_available() * fs.fragment_size() / 1024,
            fs.blocks() * fs.fragment_size() / 1024
        ),
        Err(_) => "; /dev/shm is full".to_string(),
    }
}

impl SharedMemory {
    /// The mapping's first 8 bytes as an atomic, borrowed from the mapping.
    fn atomic_u64(&self) -> &AtomicU64 {
        assert!(self.map.len() >= size_of::<AtomicU64>());
        // Safety: `AtomicU64::from_ptr` needs a pointer that is aligned, valid for the
        // reference's whole lifetime, and only ever accessed atomically meanwhile.
        // - Aligned and in bounds: the mapping starts on a page boundary (4096 is a multiple of
        //   AtomicU64's 8) and is at least 8 bytes long (asserted above).
        // - Valid: the returned reference borrows `self`, which owns the mapping, so it cannot
        //   outlive it; the memory was reserved with posix_fallocate, so no access faults.
        // - Atomic only: every process reaches these bytes through this function, and zero
        //   bytes are a valid AtomicU64.
        unsafe { AtomicU64::from_ptr(self.base.cast()) }
    }

    /// The mapping as section 3's `Handoff`, borrowed from the mapping.
    fn handoff(&self) -> &Handoff {
        assert!(self.map.len() >= size_of::<Handoff>());
        // Safety: creating `&Handoff` needs an aligned pointer to initialised bytes that stay
        // valid, with no `&mut` to them, for the reference's lifetime.
        // - Aligned and in bounds: the mapping is page-aligned (stricter than Handoff's
        //   alignment) and long enough (asserted above).
        // - Initialised: the mapping starts zeroed, and zero bytes are valid for every field
        //   (the semaphores are then set up with sem_init before any other use).
        // - Aliasing: every field is an UnsafeCell, so writes through a shared reference (ours
        //   or the other process's) are allowed; no `&mut Handoff` is ever made.
        // - Lifetime: the reference borrows `self`, which owns the mapping.
        unsafe { &*self.base.cast::<Handoff>() }
    }
}

// ---------------------------------------------------------------------------------------------
// Section 1: the seed's three messages, in slots that fit them, read after the writer is done.

const SLOT: usize = 64;
/// Each slot starts with the message length as a little-endian u32.
const LEN: usize = size_of::<u32>();

fn messages_after_exit() -> Result<()> {
    say!("== 1. shared memory: the child writes, the parent reads after waitpid ==")?;
    let mut shm = create_shared_memory(3 * SLOT)?;
    say!(
        "parent: created and unlinked {}, {} bytes",
        shm.name,
        shm.map.len()
    )?;
    let child = match fork_flushed()? {
        // While the child holds `&mut` over the bytes, the parent touches none of them: it is
        // blocked in waitpid below.
        Forked::Child(parent) => run_child(parent, || {
            for (i, slot) in shm.map.chunks_exact_mut(SLOT).enumerate() {
                let msg = format!("Message {} from the child", i + 1);
                // Check the message fits its slot: never write past it.
                if LEN + msg.len() > SLOT {
                    return Err(format!("{msg:?} does not fit in a {SLOT}-byte slot").into());
                }
                slot[..LEN].copy_from_slice(&u32::try_from(msg.len())?.to_le_bytes());
                slot[LEN..LEN + msg.len()].copy_from_slice(msg.as_bytes());
                say!("child: wrote {msg:?} into slot {i}")?;
            }
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    // Read only after waitpid: the child has exited, so every write it made is done and
    // visible. And only after a clean exit: a child that failed or was killed may have left
    // half a message.
    let status = wait_child(child)?;
    check_child(status)?;
    say!("parent: child {}", describe(status))?;
    for (i, slot) in shm.map.chunks_exact(SLOT).enumerate() {
        let len = u32::from_le_bytes(slot[..LEN].try_into()?) as usize;
        let text = slot
            .get(LEN..LEN + len)
            .ok_or("a slot's length runs past the slot")?;
        say!("parent: slot {i}: {:?}", std::str::from_utf8(text)?)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Section 2: both processes update one counter at the same time.

fn shared_counter() -> Result<()> {
    const ADDS: u64 = 100_000;
    say!("== 2. one counter, two processes, atomic adds ==")?;
    let shm = create_shared_memory(size_of::<AtomicU64>())?;
    let counter = shm.atomic_u64();
    // Atomics across processes: Linux maps both processes' pages to the same physical memory,
    // and x86_64's lock-free atomic instructions (like those of other targets where AtomicU64
    // is lock-free) act on that memory, so `fetch_add` is atomic between processes just as
    // between threads. C++ calls such atomics address-free. Rust's memory model speaks only of
    // threads in one program, so this relies on the platform rather than on a language
    // guarantee.
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            for _ in 0..ADDS {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    for _ in 0..ADDS {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    let status = wait_child(child)?;
    check_child(status)?;
    say!(
        "parent: child {}; each process added 1 {ADDS} times; counter = {}",
        describe(status),
        counter.load(Ordering::Relaxed)
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Section 3: the child hands data over while both keep running.

/// The shared layout of section 3. `repr(C)` fixes the field order and offsets, so both
/// processes (copies of one program here, but possibly different programs) agree on them.
#[repr(C)]
struct Handoff {
    /// Posted by the child when `text` is written.
    ready: UnsafeCell<libc::sem_t>,
    /// Posted by the parent when it has read `text`.
    ack: UnsafeCell<libc::sem_t>,
    len: UnsafeCell<u32>,
    text: UnsafeCell<[u8; 56]>,
}

fn semaphore_handoff() -> Result<()> {
    say!("== 3. a process-shared semaphore: wait for data without polling ==")?;
    let shm = create_shared_memory(size_of::<Handoff>())?;
    let handoff = shm.handoff();
    for sem in [&handoff.ready, &handoff.ack] {
        // Safety: sem_init needs a pointer to memory that can hold a sem_t and that no
        // semaphore operation uses yet: `handoff` is aligned and in bounds (see `handoff`), and
        // no other process exists yet. pshared = 1 makes the semaphore work for every process
        // that maps this memory, which is what it is for.
        Errno::result(unsafe { libc::sem_init(sem.get(), 1, 0) })
            .with_context(|| "sem_init".to_string())?;
    }
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            hand_over(handoff)?;
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    if !sem_wait_for(&handoff.ready, child)? {
        return Err(format!("child {child} did not post the semaphore in {PATIENCE:?}").into());
    }
    // Safety: reading `len` and `text` through their UnsafeCells needs no write to them at the
    // same time. The child wrote them before posting `ready` and never touches them again, and
    // sem_post/sem_wait order its writes before these reads.
    let text = unsafe {
        let text: &[u8; 56] = &*handoff.text.get();
        let len = (*handoff.len.get() as usize).min(text.len());
        String::from_utf8_lossy(&text[..len]).into_owned()
    };
    say!("parent: woke up on the semaphore, read {text:?}")?;
    sem_post(&handoff.ack)?;
    let status = wait_child(child)?;
    check_child(status)?;
    say!("parent: child {}", describe(status))?;
    for sem in [&handoff.ready, &handoff.ack] {
        // Safety: sem_destroy needs a semaphore nobody waits on, now or later: the child, the
        // only other user, has exited, and this process is done with both.
        Errno::result(unsafe { libc::sem_destroy(sem.get()) })
            .with_context(|| "sem_destroy".to_string())?;
    }
    Ok(())
}

/// The child's side of section 3.
fn hand_over(handoff: &Handoff) -> Result<()> {
    let msg = format!("result from child {}", getpid());
    // Safety: writing `len` and `text` through their UnsafeCells needs nobody else to access
    // them meanwhile: the parent reads them only after `sem_wait(ready)` returns, and the
    // child posts `ready` only below, after these writes.
    unsafe {
        let text = &mut *handoff.text.get();
        let len = msg.len().min(text.len());
        text[..len].copy_from_slice(&msg.as_bytes()[..len]);
        *handoff.len.get() = u32::try_from(len)?;
    }
    say!("child: wrote {msg:?}, posting the semaphore")?;
    sem_post(&handoff.ready)?;
    sem_wait(&handoff.ack)?;
    say!("child: the parent acknowledged, still running, now exiting")?;
    Ok(())
}

/// Waits on `sem`, posted by `child`. Returns `false` if it was not posted within [`PATIENCE`]
/// and the child is still alive; fails if the child has ended without posting it. A plain
/// `sem_wait` would wait forever for a child that died first.
fn sem_wait_for(sem: &UnsafeCell<libc::sem_t>, child: Pid) -> Result<bool> {
    // An absolute CLOCK_REALTIME time, as for mq_timedreceive.
    let deadline = TimeSpec::from(SystemTime::now().duration_since(UNIX_EPOCH)? + PATIENCE);
    loop {
        // Safety: sem_timedwait needs an initialised semaphore that stays mapped during the
        // call and a valid timespec: `sem` borrows the mapping (see `sem_wait`), `deadline`
        // is a live local.
        match Errno::result(unsafe { libc::sem_timedwait(sem.get(), deadline.as_ref()) }) {
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(Errno::ETIMEDOUT) => {
                let status = waitpid(child, Some(WaitPidFlag::WNOHANG))
                    .with_context(|| format!("waitpid {child}"))?;
                if status != WaitStatus::StillAlive {
                    check_child(status)?;
                    return Err(format!("child {child} exited without posting").into());
                }
                return Ok(false);
            }
            Err(e) => return Err(e).with_context(|| "sem_timedwait".to_string()),
        }
    }
}

fn sem_wait(sem: &UnsafeCell<libc::sem_t>) -> Result<()> {
    loop {
        // Safety: sem_wait needs a semaphore initialised with sem_init that stays mapped for
        // the call: `sem` is a field of the `Handoff` borrowed from the mapping, and sem_init
        // ran before the fork, so both processes see it initialised.
        match Errno::result(unsafe { libc::sem_wait(sem.get()) }) {
            Ok(_) => return Ok(()),
            // A signal handler interrupted the wait; nothing was consumed, so wait again.
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e).with_context(|| "sem_wait".to_string()),
        }
    }
}

fn sem_post(sem: &UnsafeCell<libc::sem_t>) -> Result<()> {
    // Safety: as in `sem_wait`: an initialised semaphore in memory that stays mapped.
    Errno::result(unsafe { libc::sem_post(sem.get()) }).with_context(|| "sem_post".to_string())?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Section 4: what the kernel shows about the mapping.

fn seen_from_outside() -> Result<()> {
    say!("== 4. the mapping seen from the outside ==")?;
    let shm = create_shared_memory(4096)?;
    say!(
        "size: fstat says {} bytes",
        fstat(&shm.file)
            .with_context(|| "fstat".to_string())?
            .st_size
    )?;
    let path = Path::new("/dev/shm").join(shm.name.trim_start_matches('/'));
    say!(
        "name: {} {}",
        path.display(),
        if path.exists() {
            "still exists"
        } else {
            "is gone (unlinked right after shm_open)"
        }
    )?;
    // /proc/self/maps lists the mapping with `s` (shared) in its permissions and the old name
    // marked "(deleted)": the memory outlives its name.
    let maps = std::fs::read_to_string("/proc/self/maps")
        .with_context(|| "reading /proc/self/maps".to_string())?;
    let line = maps
        .lines()
        .find(|l| l.contains(&shm.name))
        .ok_or("the mapping is missing from /proc/self/maps")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    say!(
        "maps: permissions {} (s = shared), file {}",
        fields.get(1).unwrap_or(&"?"),
        fields.get(5..).map(|f| f.join(" ")).unwrap_or_default()
    )?;
    let cell = shm.atomic_u64();
    let child = match fork_flushed()? {
        Forked::Child(parent) => run_child(parent, || {
            cell.store(42, Ordering::Relaxed);
            Ok(0)
        }),
        Forked::Parent(child) => child,
    };
    check_child(wait_child(child)?)?;
    say!(
        "shared: the child stored 42 after the unlink; the parent reads {}",
        cell.load(Ordering::Relaxed)
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
