//! The shared-memory part that `shm_spin` and `shm_sem` have in common: one `shm_open` object
//! mapped with memmap2, holding a ring of message slots per direction.
//!
//! A ring has one producer and one consumer. `head` counts the messages the producer has
//! published, `tail` those the consumer has released; slot `n % slots` holds message `n`. The
//! producer writes a slot only when the consumer has released it (`n - tail < slots`), the
//! consumer reads it only when the producer has published it (`n < head`), so a slot is only
//! ever touched by one process at a time. `shm_spin` waits for those conditions by watching the
//! counters; `shm_sem` counts the same events with two semaphores, `items` and `spaces`.

use std::cell::UnsafeCell;
use std::mem::size_of;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;

use memmap2::MmapMut;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;
use nix::unistd::ftruncate;

use crate::links::link::Spec;
use crate::sys::{SignalsHeld, unique_name};

/// A counter alone on its 64-byte cache line. If `head` and `tail` shared a line, every write
/// by one process would steal the line from the other even when neither needs the other's
/// counter ("false sharing").
#[repr(C, align(64))]
struct Counter(AtomicU64);

/// A semaphore alone on its cache line, for the same reason.
#[repr(C, align(64))]
struct Semaphore(UnsafeCell<libc::sem_t>);

/// The start of each ring. `repr(C)` fixes the layout both processes rely on.
#[repr(C)]
struct Header {
    head: Counter,
    tail: Counter,
    items: Semaphore,
    spaces: Semaphore,
}

/// One direction of a link. Both processes hold a `Ring` for it, one producing, one consuming.
#[derive(Clone)]
pub struct Ring {
    /// Keeps the mapping alive as long as any ring of it is in use. Everything is reached
    /// through raw pointers taken when no other process existed, so that no `&[u8]` ever spans
    /// bytes the other process writes.
    _map: Rc<MmapMut>,
    header: *const Header,
    data: *mut u8,
    size: usize,
    slots: u64,
}

/// Creates the rings for a link: (parent to child, child to parent).
pub fn rings(spec: Spec) -> crate::Result<(Ring, Ring)> {
    let slots = spec.slots.max(1);
    // The slots start right after the header, which is a whole number of cache lines long, and
    // each ring is rounded up to a whole page.
    let ring_len = (size_of::<Header>() + slots * spec.size).next_multiple_of(4096);
    let (map, base) = create_region(2 * ring_len)?;
    let map = Rc::new(map);
    let ring = |offset: usize| -> crate::Result<Ring> {
        // Safety: `offset + ring_len` is within the mapping, which is page-aligned, so the
        // header (alignment 64) is aligned.
        let header = unsafe { base.add(offset) }.cast::<Header>();
        // Safety: as above; the slots follow the header inside the same ring.
        let data = unsafe { base.add(offset + size_of::<Header>()) };
        // Safety: `header` is valid and aligned; nothing else uses the semaphores yet.
        let items = unsafe { (*header).items.0.get() };
        // Safety: as for `items`, the other semaphore of the same header.
        let spaces = unsafe { (*header).spaces.0.get() };
        for (sem, value) in [(items, 0), (spaces, slots)] {
            // Safety: `sem` points into the mapping; pshared = 1 makes the semaphore work for
            // every process that maps this memory, which is what it is for.
            Errno::result(unsafe { libc::sem_init(sem, 1, u32::try_from(value)?) })?;
        }
        Ok(Ring { _map: Rc::clone(&map), header, data, size: spec.size, slots: slots as u64 })
    };
    Ok((ring(0)?, ring(ring_len)?))
}

/// Creates a shared-memory object of `len` zero bytes, maps it shared, and removes its name.
/// Returns the mapping and its base pointer.
fn create_region(len: usize) -> crate::Result<(MmapMut, *mut u8)> {
    let name = unique_name("shm");
    let held = SignalsHeld::new()?;
    let fd = shm_open(
        name.as_str(),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR,
        Mode::S_IRUSR | Mode::S_IWUSR,
    )?;
    // The descriptor (and then the mapping) keeps the memory alive; the name would outlive a
    // crash. memfd_create would need no name at all; shm_open is what the ipc_shm example
    // teaches.
    shm_unlink(name.as_str())?;
    drop(held);
    ftruncate(&fd, i64::try_from(len)?)?;
    // Safety: `map_mut` is unsafe because someone could truncate the object under the mapping
    // (accesses would then raise SIGBUS). Nobody can: it was created here with O_EXCL, its name
    // is gone, and only this process and its forked children hold it.
    let mut map = unsafe { MmapMut::map_mut(&fd)? };
    let base = map.as_mut_ptr();
    Ok((map, base))
}

impl Ring {
    pub fn slots(&self) -> u64 {
        self.slots
    }

    /// Messages published by the producer. Atomics in memory shared between processes work on
    /// Linux as between threads (they are what C++ calls address-free); Rust's memory model
    /// speaks only of threads, so this relies on the platform, not on a language guarantee.
    pub fn head(&self) -> &AtomicU64 {
        // Safety: `header` points to a live, aligned header (see `rings`) for as long as `self`
        // keeps the region alive, and the counter is only accessed atomically.
        unsafe { &(*self.header).head.0 }
    }

    /// Messages released by the consumer.
    pub fn tail(&self) -> &AtomicU64 {
        // Safety: as in `head`.
        unsafe { &(*self.header).tail.0 }
    }

    /// Posted by the producer for each message it publishes.
    pub fn items(&self) -> *mut libc::sem_t {
        // Safety: as in `head`; the semaphore is initialised in `rings`.
        unsafe { (*self.header).items.0.get() }
    }

    /// Posted by the consumer for each slot it releases.
    pub fn spaces(&self) -> *mut libc::sem_t {
        // Safety: as in `items`.
        unsafe { (*self.header).spaces.0.get() }
    }

    /// Copies `msg` into the slot of message `n`.
    ///
    /// # Safety
    /// The caller is this ring's only producer and has seen the consumer release the slot
    /// (with acquire ordering): no other access to the slot can happen during the copy.
    pub unsafe fn write(&self, n: u64, msg: &[u8]) {
        assert_eq!(msg.len(), self.size, "every message on a link has the link's size");
        // Safety: the slot lies inside the ring; exclusive access is the caller's promise.
        unsafe {
            let slot = self.data.add((n % self.slots) as usize * self.size);
            ptr::copy_nonoverlapping(msg.as_ptr(), slot, self.size);
        }
    }

    /// Lends the slot of message `n` to `f`, in place: shared memory needs no copy.
    ///
    /// # Safety
    /// The caller is this ring's only consumer and has seen the producer publish message `n`
    /// (with acquire ordering): the producer does not touch the slot until it is released.
    pub unsafe fn read<R>(&self, n: u64, f: impl FnOnce(&[u8]) -> R) -> R {
        // Safety: the slot lies inside the ring and nobody writes it while `f` runs (the
        // caller's promise), so a shared slice over it is sound for that time.
        let slot = unsafe {
            std::slice::from_raw_parts(
                self.data.add((n % self.slots) as usize * self.size),
                self.size,
            )
        };
        f(slot)
    }
}
