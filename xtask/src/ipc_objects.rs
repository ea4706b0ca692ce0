//! Named IPC objects that outlive a process: POSIX shared memory under /dev/shm and POSIX message
//! queues under an mqueue mount.
//!
//! They live in one namespace for the whole machine, so a new name seen while several examples
//! run at once cannot be pinned on one of them: each run records the names that appeared during
//! it, and a name counts as left behind only if it still exists once every run has ended. Such a
//! name is blamed on every run it appeared during (`--jobs 1` makes that exact), then removed.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::runner::{Leftover, list_dir};

const SHM_DIR: &str = "/dev/shm";

pub struct Watch {
    shm: Option<PathBuf>,
    mqueue: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot {
    shm: BTreeSet<String>,
    queues: BTreeSet<String>,
}

impl Watch {
    pub fn detect() -> Result<Watch> {
        let shm = PathBuf::from(SHM_DIR);
        let mounts =
            fs::read_to_string("/proc/self/mounts").context("cannot read /proc/self/mounts")?;
        Ok(Watch {
            shm: shm.is_dir().then_some(shm),
            mqueue: mqueue_mount(&mounts),
        })
    }

    /// What is checked, for the report's header.
    pub fn describe(&self) -> String {
        let mut parts = vec!["stdout", "stderr", "exit status", "processes", "TMPDIR"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        match &self.shm {
            Some(dir) => parts.push(dir.display().to_string()),
            None => parts.push(format!("not {SHM_DIR} (missing)")),
        }
        match &self.mqueue {
            Some(dir) => parts.push(format!("message queues ({})", dir.display())),
            None => parts.push(
                "not message queues (no mqueue mount; `mount -t mqueue none /dev/mqueue` adds it)"
                    .to_string(),
            ),
        }
        parts.join(", ")
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
        })
    }

    /// Removes a left-behind object so that one failing run does not pile up objects.
    pub fn remove(&self, leftover: &Leftover) -> Result<()> {
        let path = match (leftover, &self.shm, &self.mqueue) {
            (Leftover::Shm(name), Some(dir), _) | (Leftover::Queue(name), _, Some(dir)) => {
                dir.join(name)
            }
            _ => return Ok(()),
        };
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

impl Snapshot {
    /// Objects in `self` that were not in `before`.
    pub fn added_since(&self, before: &Snapshot) -> Vec<Leftover> {
        let shm = self.shm.difference(&before.shm).cloned().map(Leftover::Shm);
        let queues = self
            .queues
            .difference(&before.queues)
            .cloned()
            .map(Leftover::Queue);
        shm.chain(queues).collect()
    }

    pub fn contains(&self, leftover: &Leftover) -> bool {
        match leftover {
            Leftover::Shm(name) => self.shm.contains(name),
            Leftover::Queue(name) => self.queues.contains(name),
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
    path.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
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
        let before = Snapshot {
            shm: ["a".to_string()].into(),
            queues: BTreeSet::new(),
        };
        let after = Snapshot {
            shm: ["a".to_string(), "b".to_string()].into(),
            queues: ["q".to_string()].into(),
        };
        assert_eq!(
            after.added_since(&before),
            vec![Leftover::Shm("b".into()), Leftover::Queue("q".into())]
        );
        assert!(after.contains(&Leftover::Queue("q".into())));
        assert!(!before.contains(&Leftover::Shm("b".into())));
    }
}
