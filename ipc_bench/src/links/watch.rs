//! Noticing that the child died, at no cost per message.
//!
//! A pipe or a socket tells its reader that the other side is gone (end of file); a semaphore
//! and a message queue do not, so a parent blocked on one would wait forever for a child that
//! died. Waiting with a deadline (`sem_timedwait`, `mq_timedreceive`) bounds that, but arms and
//! cancels a kernel timer on every wait that sleeps: measured here, 8 to 17 % more per round
//! trip on one core, which is the benchmark measuring its own safety net.
//!
//! Instead the waits have no deadline, and the child's death wakes them: the parent handles
//! SIGCHLD, and the handler records that the child ended and posts the semaphores the parent
//! may be waiting on, or sends an empty message into the queue it may be receiving from. After
//! each wait returns, the waiter checks the record, one relaxed load. The child needs no such
//! thing: it dies with its parent (PDEATHSIG).

use std::io;
use std::os::fd::RawFd;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// Set by the handler: a child of this process has ended since the last [`Watch`] began.
static CHILD_ENDED: AtomicBool = AtomicBool::new(false);
/// The semaphores the handler posts; null when none.
static WAKE_SEMS: [AtomicPtr<libc::sem_t>; 2] =
    [AtomicPtr::new(ptr::null_mut()), AtomicPtr::new(ptr::null_mut())];
/// A non-blocking queue descriptor the handler sends an empty message to; -1 when none.
static WAKE_QUEUE: AtomicI32 = AtomicI32::new(-1);

/// What to wake when the child dies.
#[derive(Debug, Clone, Copy)]
pub enum Wake {
    /// The waits notice by themselves (end of file), or give up on their own (spinning).
    Nothing,
    /// Post these semaphores.
    Semaphores(*mut libc::sem_t, *mut libc::sem_t),
    /// Send an empty message to this queue, through this non-blocking descriptor.
    Queue(RawFd),
}

extern "C" fn on_sigchld(_: libc::c_int) {
    CHILD_ENDED.store(true, Ordering::Relaxed);
    for sem in &WAKE_SEMS {
        let sem = sem.load(Ordering::Relaxed);
        if !sem.is_null() {
            // Safety: sem_post is async-signal-safe, and the pointer is registered only while
            // its mapping is alive (a `Watch` is dropped before the link it watches).
            unsafe { libc::sem_post(sem) };
        }
    }
    let queue = WAKE_QUEUE.load(Ordering::Relaxed);
    if queue >= 0 {
        // The raw system call, which is async-signal-safe; the descriptor is non-blocking, so
        // a full queue (which the waiter will drain anyway) cannot block the handler.
        // Safety: an empty message needs no buffer; a null pointer with length 0 is valid.
        unsafe {
            libc::syscall(
                libc::SYS_mq_timedsend,
                queue,
                ptr::null::<u8>(),
                0usize,
                0u32,
                ptr::null::<libc::timespec>(),
            )
        };
    }
}

/// Installs the SIGCHLD handler. `SA_RESTART` lets pipes' and sockets' waits go on after it;
/// `SA_NOCLDSTOP` ignores a child that is only stopped.
pub fn install() -> io::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_sigchld),
        SaFlags::SA_RESTART | SaFlags::SA_NOCLDSTOP,
        SigSet::empty(),
    );
    // Safety: the handler only stores to atomics and makes async-signal-safe calls.
    unsafe { sigaction(Signal::SIGCHLD, &action) }.map_err(io::Error::from)?;
    Ok(())
}

/// Forgets any earlier child's end: call right before forking the one to watch.
pub fn reset() {
    CHILD_ENDED.store(false, Ordering::Relaxed);
}

/// Whether the watched child has ended: checked after each wait that has no deadline.
#[inline]
pub fn child_ended() -> bool {
    CHILD_ENDED.load(Ordering::Relaxed)
}

/// The error a wait returns when the child ended under it.
pub fn child_gone(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, format!("nothing {what}: the child process ended"))
}

/// While alive, the child's death wakes `wake`. Drop it before what `wake` points into.
pub struct Watch;

impl Watch {
    pub fn new(wake: Wake) -> Watch {
        match wake {
            Wake::Nothing => {}
            Wake::Semaphores(a, b) => {
                WAKE_SEMS[0].store(a, Ordering::Relaxed);
                WAKE_SEMS[1].store(b, Ordering::Relaxed);
            }
            Wake::Queue(fd) => WAKE_QUEUE.store(fd, Ordering::Relaxed),
        }
        // A child that died before the targets were set woke nothing: wake them now.
        if child_ended() {
            on_sigchld(libc::SIGCHLD);
        }
        Watch
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for sem in &WAKE_SEMS {
            sem.store(ptr::null_mut(), Ordering::Relaxed);
        }
        WAKE_QUEUE.store(-1, Ordering::Relaxed);
    }
}
