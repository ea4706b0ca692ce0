//! The threading side of the hand-off comparison: the same messages, the same checks and the
//! same loops as between processes (`measure::ping_pong`, `measure::stream`), but the peer is a
//! thread of this process, linked by `std::sync::mpsc` or by a `Mutex` + `Condvar` mailbox.

use std::io;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use crate::links::link::End;
use crate::measure::{Setup, echo, ping_pong, produce, stream};
use crate::stats::{Latency, Throughput};

/// A bounded `mpsc` channel per direction, each message its own `Vec` (what most programs do).
pub struct ChannelEnd {
    tx: SyncSender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
}

impl End for ChannelEnd {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        self.tx.send(msg.to_vec()).map_err(|_| gone())
    }

    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        let msg = self.rx.recv().map_err(|_| gone())?;
        Ok(f(&msg))
    }
}

pub fn channels(slots: usize) -> (ChannelEnd, ChannelEnd) {
    let (down_tx, down_rx) = sync_channel(slots);
    let (up_tx, up_rx) = sync_channel(slots);
    (ChannelEnd { tx: down_tx, rx: up_rx }, ChannelEnd { tx: up_tx, rx: down_rx })
}

/// One message slot per direction, guarded by a mutex, with a condition variable for "full"
/// and "empty": the threading analogue of the shared-memory ring with semaphores, one slot deep.
struct Mailbox {
    slot: Mutex<Slot>,
    changed: Condvar,
}

struct Slot {
    full: bool,
    bytes: Vec<u8>,
    /// Set when an end is dropped: a waiter must not wait for it forever.
    closed: bool,
}

pub struct MailboxEnd {
    tx: Arc<Mailbox>,
    rx: Arc<Mailbox>,
}

pub fn mailboxes(size: usize) -> (MailboxEnd, MailboxEnd) {
    let new = || {
        Arc::new(Mailbox {
            slot: Mutex::new(Slot { full: false, bytes: vec![0; size], closed: false }),
            changed: Condvar::new(),
        })
    };
    let (down, up) = (new(), new());
    (MailboxEnd { tx: down.clone(), rx: up.clone() }, MailboxEnd { tx: up, rx: down })
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the peer thread has ended")
}

impl End for MailboxEnd {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        let mut slot = self.tx.slot.lock().expect("no thread panics holding the mailbox");
        while slot.full && !slot.closed {
            slot = self.tx.changed.wait(slot).expect("no thread panics holding the mailbox");
        }
        if slot.closed {
            return Err(gone());
        }
        slot.bytes.copy_from_slice(msg);
        slot.full = true;
        self.tx.changed.notify_one();
        Ok(())
    }

    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        let mut slot = self.rx.slot.lock().expect("no thread panics holding the mailbox");
        while !slot.full && !slot.closed {
            slot = self.rx.changed.wait(slot).expect("no thread panics holding the mailbox");
        }
        if !slot.full {
            return Err(gone());
        }
        let result = f(&slot.bytes);
        slot.full = false;
        self.rx.changed.notify_one();
        Ok(result)
    }
}

impl Drop for MailboxEnd {
    fn drop(&mut self) {
        for mailbox in [&self.tx, &self.rx] {
            if let Ok(mut slot) = mailbox.slot.lock() {
                slot.closed = true;
                mailbox.changed.notify_all();
            }
        }
    }
}

/// Which threading link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadLink {
    Channel,
    Mailbox,
}

impl ThreadLink {
    pub const ALL: [ThreadLink; 2] = [ThreadLink::Channel, ThreadLink::Mailbox];

    pub fn name(self) -> &'static str {
        match self {
            ThreadLink::Channel => "threads: mpsc channel",
            ThreadLink::Mailbox => "threads: Mutex + Condvar, one slot",
        }
    }
}

/// What one hand-off measurement gives.
pub enum Measured {
    RoundTrip(Latency),
    Stream(Throughput),
}

/// Round trip or stream with a peer thread, placed like the processes of the IPC part.
pub fn measure(link: ThreadLink, round_trip: bool, setup: Setup) -> crate::Result<Measured> {
    match link {
        ThreadLink::Channel => {
            let slots = if round_trip { 1 } else { (64 * 1024 / setup.size).clamp(4, 1024) };
            let (parent, child) = channels(slots);
            with_peer_thread(parent, child, round_trip, setup)
        }
        ThreadLink::Mailbox => {
            let (parent, child) = mailboxes(setup.size);
            with_peer_thread(parent, child, round_trip, setup)
        }
    }
}

fn with_peer_thread<E: End + Send + 'static>(
    mut parent: E,
    mut child: E,
    round_trip: bool,
    setup: Setup,
) -> crate::Result<Measured> {
    let Setup { size, cpus, placement, budget } = setup;
    let pinned = cpus.pin(placement)?;
    let child_cpu = pinned.child_cpu();
    let peer = thread::Builder::new().name("peer".into()).spawn(move || -> crate::Result<()> {
        if let Some(cpu) = child_cpu {
            crate::sys::pin_current(cpu)?;
        }
        if round_trip { echo(&mut child, size) } else { produce(&mut child, size) }
    })?;
    let result = if round_trip {
        ping_pong(&mut parent, size, budget).map(Measured::RoundTrip)
    } else {
        stream(&mut parent, size, budget).map(Measured::Stream)
    };
    // Dropping our end first wakes a peer still waiting, whatever went wrong.
    drop(parent);
    let peer = peer.join().map_err(|_| "the peer thread panicked")?;
    let measured = result?;
    peer?;
    drop(pinned);
    Ok(measured)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{Message, Source};

    #[test]
    fn both_thread_links_carry_messages_both_ways() {
        let mut msg = Message::new(64, 5);
        let from = Source::new(64, 5);
        let (mut a, mut b) = channels(2);
        a.send(msg.stamp(1)).unwrap();
        assert_eq!(b.recv(|m| crate::payload::read(m, &from)).unwrap(), Ok(1));
        let (mut a, mut b) = mailboxes(64);
        b.send(msg.stamp(2)).unwrap();
        assert_eq!(a.recv(|m| crate::payload::read(m, &from)).unwrap(), Ok(2));
        drop(b);
        assert!(a.recv(|_| ()).is_err(), "a dropped peer is not waited for");
    }
}
