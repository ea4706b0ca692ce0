//! Named IPC objects seen from outside a sandbox, for the runs that share the machine's
//! (`Isolation::Shared`): POSIX shared memory under /dev/shm, POSIX message queues under an
//! mqueue mount, and SysV objects in /proc/sysvipc.
//!
//! These are shared by every program on the machine, so a new object seen while an example
//! runs may be a database's or a browser's. Each run records the objects that appeared during
//! it; one that still exists after every run has ended is reported as a *warning* on each run
//! it appeared during, and never removed: verify cannot prove that one of its runs made it.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// What a run can leave behind, wherever verify found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// A process the run started, still alive after the example ended: `pid (command line)`.
    Process(String),
    /// A child that had exited but that nobody reaped (a zombie handed to us).
    Unreaped(String),
    /// A file or directory left in the run's TMPDIR.
    TmpFile(String),
    /// A file or directory left in the run's working directory.
    WorkFile(String),
    /// A POSIX shared-memory object left under /dev/shm.
    Shm(String),
    /// A POSIX message queue.
    Queue(String),
    /// A SysV shared-memory segment, message queue or semaphore set.
    SysV(String),
}

const SHM_DIR: &str = "/dev/shm";

pub struct Watch {
    shm: Option<PathBuf>,
    mqueue: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot {
    shm: BTreeSet<String>,
    queues: BTreeSet<String>,
    sysv: BTreeSet<String>,
}

impl Watch {
    pub fn detect() -> Result<Watch> {
        let shm = PathBuf::from(SHM_DIR);
        let mounts =
            fs::read_to_string("/proc/self/mounts").context("cannot read /proc/self/mounts")?;
        Ok(Watch { shm: shm.is_dir().then_some(shm), mqueue: mqueue_mount(&mounts) })
    }

    pub fn snapshot(&self) -> Result<Snapshot> {
        let list = |dir: &Option<PathBuf>| -> Result<BTreeSet<String>> {
            match dir {
                Some(dir) => Ok(list_dir(dir)
                    .with_context(|| format!("cannot list {}", dir.display()))?
                    .into_iter()
                    .collect()),
                None => Ok(BTreeSet::new()),
            }
        };
        Ok(Snapshot {
            shm: list(&self.shm)?,
            queues: list(&self.mqueue)?,
            sysv: sysv_objects()?.into_iter().collect(),
        })
    }
}

impl Snapshot {
    /// Objects in `self` that were not in `before`.
    pub fn added_since(&self, before: &Snapshot) -> Vec<Leftover> {
        let shm = self.shm.difference(&before.shm).cloned().map(Leftover::Shm);
        let queues = self.queues.difference(&before.queues).cloned().map(Leftover::Queue);
        let sysv = self.sysv.difference(&before.sysv).cloned().map(Leftover::SysV);
        shm.chain(queues).chain(sysv).collect()
    }

    pub fn contains(&self, leftover: &Leftover) -> bool {
        match leftover {
            Leftover::Shm(name) => self.shm.contains(name),
            Leftover::Queue(name) => self.queues.contains(name),
            Leftover::SysV(name) => self.sysv.contains(name),
            _ => false,
        }
    }
}

/// The mount point of the first mqueue file system in a `/proc/self/mounts` text.
fn mqueue_mount(mounts: &str) -> Option<PathBuf> {
    mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let _source = fields.next()?;
        let target = fields.next()?;
        (fields.next()? == "mqueue").then(|| PathBuf::from(unescape_mount_path(target)))
    })
}

/// /proc/self/mounts writes space, tab, newline and backslash in paths as octal escapes.
fn unescape_mount_path(path: &str) -> String {
    path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// Names of the entries directly under `dir`, sorted.
pub fn list_dir(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

/// The SysV objects of the current IPC namespace, as `KIND id ID key KEY`.
pub fn sysv_objects() -> Result<Vec<String>> {
    let mut found = Vec::new();
    for (kind, file) in
        [("shared memory", "shm"), ("message queue", "msg"), ("semaphore set", "sem")]
    {
        let path = Path::new("/proc/sysvipc").join(file);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        // The first line is a header; each other line starts with `key id`.
        for line in text.lines().skip(1) {
            let mut fields = line.split_whitespace();
            if let (Some(key), Some(id)) = (fields.next(), fields.next()) {
                found.push(format!("{kind} id {id} key {key}"));
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_mqueue_mount() {
        let mounts = "proc /proc proc rw 0 0\n\
                      tmpfs /dev/shm tmpfs rw 0 0\n\
                      none /tmp/my\\040queues mqueue rw 0 0\n";
        assert_eq!(mqueue_mount(mounts), Some(PathBuf::from("/tmp/my queues")));
        assert_eq!(mqueue_mount("tmpfs /dev/shm tmpfs rw 0 0\n"), None);
    }

    #[test]
    fn new_names_are_found() {
        let before = Snapshot { shm: ["a".to_string()].into(), ..Snapshot::default() };
        let after = Snapshot {
            shm: ["a".to_string(), "b".to_string()].into(),
            queues: ["q".to_string()].into(),
            sysv: ["shared memory id 3 key 0".to_string()].into(),
        };
        assert_eq!(
            after.added_since(&before),
            vec![
                Leftover::Shm("b".into()),
                Leftover::Queue("q".into()),
                Leftover::SysV("shared memory id 3 key 0".into())
            ]
        );
        assert!(after.contains(&Leftover::Queue("q".into())));
        assert!(!before.contains(&Leftover::Shm("b".into())));
    }
}
