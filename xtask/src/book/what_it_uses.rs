//! A recipe page's "What it uses" section: the std and crate items the recipe names, each
//! linked to its documentation, and a line on what std lacks where the recipe takes something
//! from `nix`, `libc`, `rustix` or `memmap2` instead, so that a reader knows which part may
//! one day move to std.

use std::collections::BTreeSet;

use anyhow::Result;

use crate::book::api_docs::ApiDocs;
use crate::book::uses::used_paths;
use crate::project::recipe::Recipe;

const HEADING: &str = "## What it uses";

/// The section for `recipe`, whose source is `source`.
pub fn section(recipe: &Recipe, source: &str, docs: &ApiDocs) -> Result<String> {
    let mut crates = vec!["std"];
    crates.extend(recipe.needs.iter().map(|n| n.krate.as_str()));
    let paths = used_paths(source, &crates)?;
    let mut out = format!("{HEADING}\n\n");
    let gaps = gaps(&paths);
    if !gaps.is_empty() {
        out.push_str("What std lacks here, so that the recipe takes it from a crate:\n\n");
        for gap in gaps {
            out.push_str(&format!("- {gap}.\n"));
        }
        out.push('\n');
    }
    out.push_str("The items it names, each linked to its documentation:\n\n");
    for krate in crates {
        let items: Vec<String> = paths
            .iter()
            .filter(|p| p.split("::").next() == Some(krate))
            .map(|path| match docs.url(path) {
                Some(url) => format!("[`{path}`]({url})"),
                None => format!("`{path}`"),
            })
            .collect();
        if !items.is_empty() {
            out.push_str(&format!("- **{krate}**: {}\n", items.join(", ")));
        }
    }
    out.push('\n');
    Ok(out)
}

/// What std lacks, by the module a recipe takes it from instead, longest prefix first.
fn gaps(paths: &BTreeSet<String>) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for path in paths {
        let gap =
            GAPS.iter().filter(|(prefix, _)| path.starts_with(prefix)).max_by_key(|g| g.0.len());
        if let Some((_, text)) = gap
            && !found.iter().any(|f| f == text)
        {
            found.push(text.to_string());
        }
    }
    found
}

/// Module by module, what std does not have (or has only unstable) and the recipe takes from a
/// crate; a path that no entry covers is a problem the book check reports.
const GAPS: &[(&str, &str)] = &[
    ("nix::errno", "`Errno`, the error of a raw call that std does not wrap"),
    (
        "nix::sys::signal",
        "signals: std sends none but SIGKILL, and that only to a child it started (`Child::kill`); it cannot block, wait for, handle or send any other",
    ),
    (
        "rustix::process::Signal",
        "signals: std sends none but SIGKILL, and that only to a child it started (`Child::kill`); it cannot block, wait for, handle or send any other",
    ),
    (
        "rustix::process::kill_process_group",
        "signals to a process group: std signals only a child it started, and only with SIGKILL",
    ),
    ("nix::unistd::fork", "`fork` without exec: std only starts programs (`Command`)"),
    ("nix::unistd::ForkResult", "`fork` without exec: std only starts programs (`Command`)"),
    (
        "nix::unistd::getpid",
        "a `Pid` type for the calls that take one: std has a PID as a `u32` (`process::id()`, `Child::id()`)",
    ),
    (
        "nix::unistd::Pid",
        "a `Pid` type for the calls that take one: std has a PID as a `u32` (`process::id()`, `Child::id()`)",
    ),
    (
        "rustix::process::getpid",
        "a `Pid` type for the calls that take one: std has a PID as a `u32` (`process::id()`, `Child::id()`)",
    ),
    (
        "rustix::process::Pid",
        "a `Pid` type for the calls that take one: std has a PID as a `u32` (`process::id()`, `Child::id()`)",
    ),
    (
        "nix::unistd::getppid",
        "`getppid` as a `Pid` (std's `os::unix::process::parent_id()` gives the same number as a `u32`)",
    ),
    ("nix::unistd::pause", "`pause`: std cannot wait for a signal"),
    ("nix::unistd::mkfifo", "`mkfifo`: std cannot make a FIFO"),
    (
        "nix::unistd::getuid",
        "a process's user and group IDs: std has them for files only (`MetadataExt::uid`)",
    ),
    (
        "nix::unistd::getgid",
        "a process's user and group IDs: std has them for files only (`MetadataExt::uid`)",
    ),
    (
        "nix::sys::stat::Mode",
        "the mode of an IPC object: std sets modes only on the files it opens (`OpenOptionsExt::mode`)",
    ),
    ("nix::mqueue", "POSIX message queues: std has none"),
    (
        "nix::fcntl::fcntl",
        "`fcntl`: std cannot lock a range of a file, seal a memfd or change a descriptor's flags",
    ),
    (
        "nix::fcntl::FcntlArg",
        "`fcntl`: std cannot lock a range of a file, seal a memfd or change a descriptor's flags",
    ),
    ("nix::fcntl::OFlag", "the open flags of calls that std does not wrap (`shm_open`, `fcntl`)"),
    (
        "nix::fcntl::posix_fallocate",
        "`posix_fallocate`: std sizes a file (`set_len`) but cannot reserve its blocks, which turns a full disk into ENOSPC rather than a SIGBUS",
    ),
    ("nix::fcntl::SealFlag", "`memfd_create` and its seals: std has no memfd"),
    ("nix::sys::memfd", "`memfd_create` and its seals: std has no memfd"),
    (
        "nix::time",
        "`clock_gettime` as a `timespec`, the deadline the POSIX timed waits take: std's `Instant` and `SystemTime` give none",
    ),
    (
        "nix::sys::time",
        "`clock_gettime` as a `timespec`, the deadline the POSIX timed waits take: std's `Instant` and `SystemTime` give none",
    ),
    (
        "rustix::event::Timespec",
        "`clock_gettime` as a `timespec`, the deadline the POSIX timed waits take: std's `Instant` and `SystemTime` give none",
    ),
    (
        "nix::sys::wait",
        "`waitpid` on any process, without blocking, with a death by signal told apart: std waits only for a `Child` it started",
    ),
    (
        "rustix::process::waitpid",
        "`waitpid` on any process, without blocking, with a death by signal told apart: std waits only for a `Child` it started",
    ),
    (
        "rustix::process::WaitOptions",
        "`waitpid` on any process, without blocking, with a death by signal told apart: std waits only for a `Child` it started",
    ),
    ("nix::sys::mman", "`mmap` and POSIX shared memory (`shm_open`): std maps no memory"),
    (
        "nix::sys::socket",
        "descriptors passed over a socket and peer credentials: std's `SocketAncillary` and `UnixStream::peer_cred` are unstable (rust-lang/rust#76915, rust-lang/rust#42839)",
    ),
    (
        "nix::cmsg_space",
        "descriptors passed over a socket and peer credentials: std's `SocketAncillary` and `UnixStream::peer_cred` are unstable (rust-lang/rust#76915, rust-lang/rust#42839)",
    ),
    ("nix::sys::prctl", "`PR_SET_PDEATHSIG`: std cannot make a child die with its parent"),
    (
        "rustix::process::pidfd",
        "pidfds, a process that can be polled and signalled without PID reuse: std's `PidFd` is unstable (rust-lang/rust#82971)",
    ),
    (
        "rustix::process::Pidfd",
        "pidfds, a process that can be polled and signalled without PID reuse: std's `PidFd` is unstable (rust-lang/rust#82971)",
    ),
    ("rustix::event", "`poll` with a deadline: std has no poll"),
    (
        "rustix::process::set_child_subreaper",
        "`PR_SET_CHILD_SUBREAPER`: std cannot adopt its orphaned grandchildren",
    ),
    ("memmap2", "file mappings: std maps no memory"),
    (
        "libc::sem_",
        "POSIX semaphores: neither std nor nix wraps `sem_init`, `sem_post` or `sem_timedwait`",
    ),
    (
        "libc::_exit",
        "`_exit`: std's `process::exit` runs the parent's atexit handlers, which a forked child must not",
    ),
    (
        "libc::flock",
        "record locks: std locks whole files only (`File::lock`); nix's `fcntl` takes libc's `flock` struct",
    ),
    (
        "libc::F_",
        "record locks: std locks whole files only (`File::lock`); nix's `fcntl` takes libc's `flock` struct",
    ),
    (
        "libc::SEEK_",
        "record locks: std locks whole files only (`File::lock`); nix's `fcntl` takes libc's `flock` struct",
    ),
    ("libc::PIPE_BUF", "`PIPE_BUF`, up to which a pipe write is atomic: std does not name it"),
    (
        "libc::O_NONBLOCK",
        "the `O_NONBLOCK` flag as a number, to read the flags `mq_getattr` returns",
    ),
];

/// The crate paths of `source` that [`GAPS`] says nothing about.
pub fn unexplained(recipe: &Recipe, source: &str) -> Result<Vec<String>> {
    let crates: Vec<&str> = ["nix", "libc", "rustix", "memmap2"]
        .into_iter()
        .filter(|c| recipe.needs.iter().any(|n| n.krate == *c))
        .collect();
    let paths = used_paths(source, &crates)?;
    Ok(paths.into_iter().filter(|path| !GAPS.iter().any(|(p, _)| path.starts_with(p))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_gap_is_said_once_and_an_unknown_module_is_reported() {
        let paths: BTreeSet<String> = [
            "nix::sys::signal::kill",
            "rustix::process::Signal",
            "nix::mqueue::mq_open",
            "std::fs",
        ]
        .map(String::from)
        .into();
        let said = gaps(&paths);
        assert_eq!(said.len(), 2, "{said:?}"); // signals once, from nix and from rustix
        assert!(said[0].starts_with("POSIX message queues"), "{said:?}");
        let source =
            "use nix::mqueue::mq_open;\nuse nix::sys::ptrace;\nfn main() { libc::sem_post(); }";
        let text = format!(
            "//! Copy: r.rs\n//! Needs: anyhow@1, libc@0.2, nix@0.31 (features mqueue)\n{source}"
        );
        let recipe =
            crate::project::recipe::parse(std::path::Path::new("r.rs"), &text).unwrap().unwrap();
        assert_eq!(unexplained(&recipe, &text).unwrap(), ["nix::sys::ptrace"]);
    }
}
