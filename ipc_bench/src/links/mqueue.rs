//! Two POSIX message queues, one per direction. A queue keeps message boundaries, so one
//! `mq_send` is one `mq_receive`, whatever the size.
//!
//! Limits (mq_overview(7)): without CAP_SYS_RESOURCE a queue holds at most
//! /proc/sys/fs/mqueue/msg_max messages (10) of at most msgsize_max bytes (8192), so the 64 KiB
//! messages cannot be sent this way.

use std::io;

use nix::errno::Errno;
use std::os::fd::AsRawFd;

use nix::mqueue::{
    MQ_OFlag, MqAttr, MqdT, mq_attr_member_t, mq_close, mq_open, mq_receive, mq_send, mq_unlink,
};
use nix::sys::stat::Mode;

use crate::links::link::{End, Spec, Wake};
use crate::links::watch;
use crate::sys::{SignalsHeld, unique_name};

/// The system's limit on one message: the value of /proc/sys/fs/mqueue/msgsize_max, or the
/// kernel's default 8192 if that cannot be read.
pub fn max_msgsize() -> usize {
    read_limit("msgsize_max").unwrap_or(8192)
}

fn read_limit(name: &str) -> Option<usize> {
    std::fs::read_to_string(format!("/proc/sys/fs/mqueue/{name}")).ok()?.trim().parse().ok()
}

pub struct MqEnd {
    /// `Option` only so that `drop` can hand them to `mq_close`, which takes them by value.
    tx: Option<MqdT>,
    rx: Option<MqdT>,
    /// A non-blocking sender into `rx`'s queue, for the child's death to wake a receive.
    wake: Option<MqdT>,
    buf: Vec<u8>,
}

/// Both ends; the parent keeps the first.
pub fn link(spec: Spec) -> crate::Result<(MqEnd, MqEnd)> {
    let maxmsg = spec.slots.min(read_limit("msg_max").unwrap_or(10));
    let (down_tx, down_rx, down_wake) = queue(spec.size, maxmsg)?;
    let (up_tx, up_rx, up_wake) = queue(spec.size, maxmsg)?;
    Ok((
        MqEnd { tx: Some(down_tx), rx: Some(up_rx), wake: Some(up_wake), buf: vec![0; spec.size] },
        MqEnd {
            tx: Some(up_tx),
            rx: Some(down_rx),
            wake: Some(down_wake),
            buf: vec![0; spec.size],
        },
    ))
}

/// Creates a queue and returns a write-only, a read-only and a non-blocking write-only
/// descriptor for it (the last for `watch`), its name already removed.
///
/// Separate descriptors, not one shared by both ends: nix's `MqdT` closes nothing on drop and
/// is not `Clone` because two owners of one descriptor would close it twice.
fn queue(size: usize, maxmsg: usize) -> crate::Result<(MqdT, MqdT, MqdT)> {
    let name = unique_name("mq");
    // Attributes are always passed: nix 0.31's mq_open with O_CREAT and `None` calls C's
    // mq_open with two arguments, and the mode and attributes it reads are garbage.
    let attr =
        MqAttr::new(0, mq_attr_member_t::try_from(maxmsg)?, mq_attr_member_t::try_from(size)?, 0);
    let held = SignalsHeld::new()?;
    let tx = mq_open(
        name.as_str(),
        MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_WRONLY,
        Mode::S_IRUSR | Mode::S_IWUSR,
        Some(&attr),
    )?;
    let opened =
        mq_open(name.as_str(), MQ_OFlag::O_RDONLY, Mode::empty(), None).and_then(
            |rx| match mq_open(
                name.as_str(),
                MQ_OFlag::O_WRONLY | MQ_OFlag::O_NONBLOCK,
                Mode::empty(),
                None,
            ) {
                Ok(wake) => Ok((rx, wake)),
                Err(error) => {
                    let _ = mq_close(rx);
                    Err(error)
                }
            },
        );
    let (rx, wake) = match opened {
        Ok(both) => both,
        Err(error) => {
            let _ = mq_unlink(name.as_str());
            let _ = mq_close(tx);
            return Err(error.into());
        }
    };
    // From here on only the descriptors keep the queue alive, and the forked child inherits
    // them; a queue whose name survives would live until reboot.
    mq_unlink(name.as_str())?;
    drop(held);
    Ok((tx, rx, wake))
}

impl End for MqEnd {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        // Blocks while the queue is full. Only the child ever sends into a full queue (while
        // streaming), and it dies with the parent, so an untimed send cannot hang the bench.
        let tx = self.tx.as_ref().expect("open until drop");
        loop {
            match mq_send(tx, msg, 0) {
                Err(Errno::EINTR) => continue,
                result => return result.map_err(io::Error::from),
            }
        }
    }

    fn recv<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> io::Result<R> {
        let rx = self.rx.as_ref().expect("open until drop");
        let mut priority = 0;
        // No deadline: the child's death sends an empty message to wake this (`watch`).
        let len = loop {
            match mq_receive(rx, &mut self.buf, &mut priority) {
                Ok(len) => break len,
                Err(Errno::EINTR) => continue,
                Err(error) => return Err(error.into()),
            }
        };
        if watch::child_ended() {
            return Err(watch::child_gone("arrived in the queue"));
        }
        Ok(f(&self.buf[..len]))
    }

    fn wake(&self) -> Wake {
        Wake::Queue(self.wake.as_ref().expect("open until drop").as_raw_fd())
    }
}

impl Drop for MqEnd {
    fn drop(&mut self) {
        for queue in [self.tx.take(), self.rx.take(), self.wake.take()].into_iter().flatten() {
            // Closing a valid descriptor cannot fail; the queue itself goes away with its last
            // descriptor, because its name is already gone.
            let _ = mq_close(queue);
        }
    }
}
