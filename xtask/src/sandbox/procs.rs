//! The processes of this machine as /proc shows them: the one walker over /proc that the runner
//! uses to find what an example started, however it detached itself.

use std::fs;
use std::io;
use std::path::Path;

use nix::sys::signal::Signal;

/// One process, read from `/proc/PID/{stat,cmdline,ns}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    /// The short name from `stat` (at most 15 bytes).
    pub comm: String,
    /// The command line, arguments joined by spaces; empty for zombies and kernel threads.
    pub cmdline: String,
    /// `R`, `S`, `Z`, ...: see proc_pid_stat(5).
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    /// The inode of its IPC namespace, when readable (not for zombies, nor other users').
    pub ipc_ns: Option<u64>,
}

impl Proc {
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }

    /// `pid (command line)` for reports; the short name when there is no command line.
    pub fn describe(&self) -> String {
        let what = if self.cmdline.is_empty() { &self.comm } else { &self.cmdline };
        format!("{} ({what})", self.pid)
    }
}

/// Every process for which `keep` is true. Processes that end while /proc is read are skipped.
pub fn scan(mut keep: impl FnMut(&Proc) -> bool) -> io::Result<Vec<Proc>> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Some(process) = read(pid, &entry.path())
            && keep(&process)
        {
            found.push(process);
        }
    }
    found.sort_by_key(|p| p.pid);
    Ok(found)
}

/// The inode of the IPC namespace of process `pid` (`self` for this one).
pub fn ipc_namespace(pid: &str) -> Option<u64> {
    namespace_inode(&Path::new("/proc").join(pid).join("ns/ipc"))
}

fn read(pid: i32, dir: &Path) -> Option<Proc> {
    let stat = Stat::parse(&fs::read_to_string(dir.join("stat")).ok()?)?;
    let cmdline = fs::read(dir.join("cmdline"))
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .split('\0')
                .filter(|a| !a.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Some(Proc {
        pid,
        comm: stat.comm,
        cmdline,
        state: stat.state,
        ppid: stat.ppid,
        pgrp: stat.pgrp,
        ipc_ns: namespace_inode(&dir.join("ns/ipc")),
    })
}

/// A namespace link reads `ipc:[4026531839]`.
fn namespace_inode(link: &Path) -> Option<u64> {
    let target = fs::read_link(link).ok()?;
    let target = target.to_str()?;
    target.split_once(":[")?.1.strip_suffix(']')?.parse().ok()
}

struct Stat {
    comm: String,
    state: char,
    ppid: i32,
    pgrp: i32,
}

impl Stat {
    /// Parses `/proc/PID/stat`: `pid (comm) state ppid pgrp ...`. The command name may itself
    /// contain spaces and parentheses, so split at the last `)`.
    fn parse(stat: &str) -> Option<Stat> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_string();
        let mut fields = stat.get(close + 1..)?.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let ppid = fields.next()?.parse().ok()?;
        let pgrp = fields.next()?.parse().ok()?;
        Some(Stat { comm, state, ppid, pgrp })
    }
}

/// `SIGTERM` for 15; `signal 99` for a number that names no signal.
pub fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {signal}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parses_names_with_parentheses() {
        let s = Stat::parse("42 (a (b) c) S 1 77 77 0 -1").unwrap();
        assert_eq!(s.comm, "a (b) c");
        assert_eq!(s.state, 'S');
        assert_eq!(s.ppid, 1);
        assert_eq!(s.pgrp, 77);
    }

    #[test]
    fn finds_itself_with_its_namespace() {
        let me = std::process::id() as i32;
        let found = scan(|p| p.pid == me).unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].cmdline.contains("xtask"), "{:?}", found[0]);
        assert_eq!(found[0].ipc_ns, ipc_namespace("self"));
        assert!(found[0].ipc_ns.is_some());
    }
}
