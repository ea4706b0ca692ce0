//! Shared memory between processes in Rust: POSIX `shm_open` mapped with memmap2, and the
//! synchronisation that makes it correct.
//!
//! Run it: `cargo run -p ipc_shm`
//!
//! What it shows, one section each:
//! 1. a named shared-memory object (`shm_open`, unlinked at once) mapped with
//!    `MmapMut::map_mut` (MAP_SHARED); a forked child writes three length-prefixed messages into
//!    slots big enough for them, and the parent reads them after `waitpid`;
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
//! Man pages worth reading: shm_overview(7), shm_open(3), mmap(2) (MAP_SHARED vs MAP_PRIVATE),
//! sem_overview(7), sem_init(3), proc_pid_maps(5).

use std::cell::UnsafeCell;
use std::error::Error;
use std::fs::File;
use std::io::{self, Write};
use std::mem::size_of;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use memmap2::MmapMut;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::Signal;
use nix::sys::stat::{Mode, fstat};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork, ftruncate, getpid, getppid};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
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

/// Creates a POSIX shared-memory object of `size` bytes, maps it shared, and removes its name.
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
    )?;
    // Remove the name at once: the descriptor keeps the object alive, and from here on a crash,
    // even SIGKILL, cannot leave it behind in /dev/shm. (Only the gap between these two calls
    // remains; `memfd_create` avoids even that when no name is needed.)
    shm_unlink(name.as_str())?;
    // A new object is empty; ftruncate sizes it and fills it with zeros.
    ftruncate(&fd, i64::try_from(size)?)?;
    let file = File::from(fd);
    // Safety: `map_mut` is unsafe because another process could truncate the file under us,
    // which would turn accesses into SIGBUS. Nobody else can: the object was created here
    // (O_EXCL) and its name is already gone, so only this process and the children it forks
    // hold it, and none of them truncates it.
    let mut map = unsafe { MmapMut::map_mut(&file)? };
    let base = map.as_mut_ptr();
    Ok(SharedMemory {
        map,
        base,
        file,
        name,
    })
}

impl SharedMemory {
    /// The mapping's first 8 bytes as an atomic, borrowed from the mapping.
    fn atomic_u64(&self) -> &AtomicU64 {
        assert!(self.map.len() >= size_of::<AtomicU64>());
        // Safety: the mapping is page-aligned, so its start satisfies AtomicU64's 8-byte
        // alignment, and it is at least 8 bytes long (checked above). Zero bytes are a valid
        // AtomicU64. The returned reference borrows `self`, so it cannot outlive the mapping,
        // and every access from any process goes through atomics: no plain reference to
        // these bytes is ever made.
        unsafe { AtomicU64::from_ptr(self.base.cast()) }
    }

    /// The mapping as section 3's `Handoff`, borrowed from the mapping.
    fn handoff(&self) -> &Handoff {
        assert!(self.map.len() >= size_of::<Handoff>());
        // Safety: the mapping is page-aligned (stricter than Handoff's alignment) and long
        // enough (checked above); all-zero bytes are valid for the integer fields, and the
        // semaphores are initialised with `sem_init` before any other use. Every field is an
        // UnsafeCell, so writing through this shared reference is allowed. The reference
        // borrows `self`, so it cannot outlive the mapping.
        unsafe { &*self.base.cast::<Handoff>() }
    }
}

// ---------------------------------------------------------------------------------------------
// Section 1: the seed's three messages, in slots that fit them, read after the writer is done.

const SLOT: usize = 64;
/// Each slot starts with the message length as a little-endian u32.
const LEN: usize = size_of::<u32>();

fn messages_after_exit() -> Result<()> {
    println!("== 1. shared memory: the child writes, the parent reads after waitpid ==");
    let mut shm = create_shared_memory(3 * SLOT)?;
    println!(
        "parent: created and unlinked {}, {} bytes",
        shm.name,
        shm.map.len()
    );
    let child = match fork_flushed()? {
        ForkResult::Child => {
            let mut work = || -> Result<()> {
                for (i, slot) in shm.map.chunks_exact_mut(SLOT).enumerate() {
                    let msg = format!("Message {} from the child", i + 1);
                    // The seed's 4-byte slots could not hold "Message1": check, never overrun.
                    if LEN + msg.len() > SLOT {
                        return Err(format!("{msg:?} does not fit in a {SLOT}-byte slot").into());
                    }
                    slot[..LEN].copy_from_slice(&u32::try_from(msg.len())?.to_le_bytes());
                    slot[LEN..LEN + msg.len()].copy_from_slice(msg.as_bytes());
                    println!("child: wrote {msg:?} into slot {i}");
                }
                Ok(())
            };
            // While the child holds `&mut` over the bytes, the parent touches none of them: it
            // is blocked in waitpid below.
            exit_child(work())
        }
        ForkResult::Parent { child } => child,
    };
    // The seed's bug was to read here, before the child had written anything. waitpid returns
    // after the child has exited, so every write it made is done and visible.
    let status = waitpid(child, None)?;
    println!("parent: child {}", describe(status));
    for (i, slot) in shm.map.chunks_exact(SLOT).enumerate() {
        let len = u32::from_le_bytes(slot[..LEN].try_into()?) as usize;
        let text = slot
            .get(LEN..LEN + len)
            .ok_or("a slot's length runs past the slot")?;
        println!("parent: slot {i}: {:?}", std::str::from_utf8(text)?);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Section 2: both processes update one counter at the same time.

fn shared_counter() -> Result<()> {
    const ADDS: u64 = 100_000;
    println!("== 2. one counter, two processes, atomic adds ==");
    let shm = create_shared_memory(size_of::<AtomicU64>())?;
    let counter = shm.atomic_u64();
    // Atomics across processes: Linux maps both processes' pages to the same physical memory,
    // and x86_64's lock-free atomic instructions (like those of other targets where AtomicU64
    // is lock-free) act on that memory, so `fetch_add` is atomic between processes just as
    // between threads. C++ calls such atomics address-free. Rust's memory model speaks only of threads in one program, so
    // this relies on the platform rather than on a language guarantee.
    let child = match fork_flushed()? {
        ForkResult::Child => {
            for _ in 0..ADDS {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            exit_child(Ok(()))
        }
        ForkResult::Parent { child } => child,
    };
    for _ in 0..ADDS {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    let status = waitpid(child, None)?;
    println!(
        "parent: child {}; each process added 1 {ADDS} times; counter = {}",
        describe(status),
        counter.load(Ordering::Relaxed)
    );
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
    println!("== 3. a process-shared semaphore: wait for data without polling ==");
    let shm = create_shared_memory(size_of::<Handoff>())?;
    let handoff = shm.handoff();
    for sem in [&handoff.ready, &handoff.ack] {
        // Safety: the pointer is valid and aligned (above); pshared = 1 makes the semaphore
        // usable by every process that maps this memory, which is what it is for.
        Errno::result(unsafe { libc::sem_init(sem.get(), 1, 0) })?;
    }
    let child = match fork_flushed()? {
        ForkResult::Child => exit_child(hand_over(handoff)),
        ForkResult::Parent { child } => child,
    };
    sem_wait(&handoff.ready)?;
    // Safety: the child wrote `len` and `text` before posting `ready` and does not touch them
    // again; sem_post/sem_wait order those writes before these reads.
    let text = unsafe {
        let text: &[u8; 56] = &*handoff.text.get();
        let len = (*handoff.len.get() as usize).min(text.len());
        String::from_utf8_lossy(&text[..len]).into_owned()
    };
    println!("parent: woke up on the semaphore, read {text:?}");
    sem_post(&handoff.ack)?;
    let status = waitpid(child, None)?;
    println!("parent: child {}", describe(status));
    for sem in [&handoff.ready, &handoff.ack] {
        // Safety: no process waits on the semaphore any more: the child has exited.
        Errno::result(unsafe { libc::sem_destroy(sem.get()) })?;
    }
    Ok(())
}

/// The child's side of section 3.
fn hand_over(handoff: &Handoff) -> Result<()> {
    let msg = format!("result from child {}", getpid());
    // Safety: until it posts `ready`, the child is the only one touching `len` and `text`: the
    // parent reads them only after `sem_wait(ready)` returns.
    unsafe {
        let text = &mut *handoff.text.get();
        let len = msg.len().min(text.len());
        text[..len].copy_from_slice(&msg.as_bytes()[..len]);
        *handoff.len.get() = u32::try_from(len)?;
    }
    println!("child: wrote {msg:?}, posting the semaphore");
    sem_post(&handoff.ready)?;
    sem_wait(&handoff.ack)?;
    println!("child: the parent acknowledged, still running, now exiting");
    Ok(())
}

fn sem_wait(sem: &UnsafeCell<libc::sem_t>) -> Result<()> {
    loop {
        // Safety: `sem` points to a semaphore initialised with sem_init in shared memory that
        // stays mapped while the reference lives.
        match Errno::result(unsafe { libc::sem_wait(sem.get()) }) {
            Ok(_) => return Ok(()),
            // A signal handler interrupted the wait; nothing was consumed, so wait again.
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

fn sem_post(sem: &UnsafeCell<libc::sem_t>) -> Result<()> {
    // Safety: as in `sem_wait`.
    Errno::result(unsafe { libc::sem_post(sem.get()) })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Section 4: what the kernel shows about the mapping.

fn seen_from_outside() -> Result<()> {
    println!("== 4. the mapping seen from the outside ==");
    let shm = create_shared_memory(4096)?;
    println!("size: fstat says {} bytes", fstat(&shm.file)?.st_size);
    let path = Path::new("/dev/shm").join(shm.name.trim_start_matches('/'));
    println!(
        "name: {} {}",
        path.display(),
        if path.exists() {
            "still exists"
        } else {
            "is gone (unlinked right after shm_open)"
        }
    );
    // /proc/self/maps lists the mapping with `s` (shared) in its permissions and the old name
    // marked "(deleted)": the memory outlives its name.
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    let line = maps
        .lines()
        .find(|l| l.contains(&shm.name))
        .ok_or("the mapping is missing from /proc/self/maps")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    println!(
        "maps: permissions {} (s = shared), file {}",
        fields.get(1).unwrap_or(&"?"),
        fields.get(5..).map(|f| f.join(" ")).unwrap_or_default()
    );
    let cell = shm.atomic_u64();
    let child = match fork_flushed()? {
        ForkResult::Child => {
            cell.store(42, Ordering::Relaxed);
            exit_child(Ok(()))
        }
        ForkResult::Parent { child } => child,
    };
    waitpid(child, None)?;
    println!(
        "shared: the child stored 42 after the unlink; the parent reads {}",
        cell.load(Ordering::Relaxed)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Fork rules: flush first, die with the parent, leave with `_exit`.

/// `fork`, after flushing stdout (a buffered line would be printed by both processes). In the
/// child, the parent's death now kills the child too: a child blocked in `sem_wait` would
/// otherwise wait forever for a parent that is gone.
fn fork_flushed() -> Result<ForkResult> {
    io::stdout().flush()?;
    let parent = getpid();
    // Safety: this program never starts a thread, so the child is a complete copy of a
    // single-threaded process and may allocate, print and use the mapping.
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
/// instead would run the parent's remaining code, and `std::process::exit` would run exit
/// handlers and flush buffers that belong to the parent; `_exit` ends the process at once.
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
