//! A POSIX message queue for a process and the children it forks, its name removed at once.

use anyhow::{Context, Result, anyhow};
use nix::errno::Errno;
use nix::mqueue::{MQ_OFlag, MqAttr, MqdT, mq_attr_member_t as Limit, mq_open, mq_unlink};
use nix::sys::stat::Mode;

/// Creates a queue named after `program`, of `maxmsg` messages of `msgsize` bytes at most.
/// The attributes are always passed: with `None`, nix 0.31's `mq_open` passes C garbage.
pub fn create(program: &str, maxmsg: Limit, msgsize: Limit) -> Result<(MqdT, String)> {
    // One leading slash and no other. O_EXCL: never share a queue someone else made.
    let name = format!("/{program}-{}", std::process::id());
    let flags = MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL | MQ_OFlag::O_RDWR;
    let attr = MqAttr::new(0, maxmsg, msgsize, 0);
    let mode = Mode::S_IRUSR | Mode::S_IWUSR;
    let queue = mq_open(name.as_str(), flags, mode, Some(&attr)).map_err(|e| {
        let hint = hint(e);
        anyhow!("mq_open {name} ({maxmsg} messages of {msgsize} bytes): {e}{hint}")
    })?;
    // The descriptor keeps the queue alive and children inherit it. Without its name, even a
    // SIGKILL leaves nothing: a queue never unlinked stays until reboot, using RLIMIT_MSGQUEUE.
    mq_unlink(name.as_str()).with_context(|| format!("mq_unlink {name}"))?;
    Ok((queue, name))
}

/// For an EINVAL: the limits that an unprivileged `mq_open` must stay within.
fn hint(error: Errno) -> String {
    if error != Errno::EINVAL {
        return String::new();
    }
    let read = |file| std::fs::read_to_string(format!("/proc/sys/fs/mqueue/{file}"));
    let limit = |file| read(file).unwrap_or_default().trim().to_string();
    format!(" (limits: msg_max {}, msgsize_max {})", limit("msg_max"), limit("msgsize_max"))
}
