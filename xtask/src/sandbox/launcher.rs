//! Giving each run its own IPC objects: a private IPC namespace and a private `/dev/shm`.
//!
//! POSIX shared memory, POSIX message queues and SysV IPC objects are shared by the whole
//! machine. Watching `/dev/shm` from outside cannot tell an example's leak from an object a
//! database or a browser made at the same moment, and removing it would destroy someone else's
//! data. So where the kernel allows it, each run starts inside a *launcher*: this same binary,
//! run as `xtask __sandbox MODE RUNDIR -- PROGRAM ARGS...`, which
//!
//! 1. moves into a new IPC namespace and a new mount namespace (with a new user namespace
//!    first when not root), makes every mount private so nothing propagates back, mounts an
//!    empty tmpfs on `/dev/shm` and an mqueue file system on `RUNDIR/mqueue`;
//! 2. writes the namespace's inode to `RUNDIR/report` (so that every process of the run can be
//!    found later, even one that left the process group), waits until verify has opened the
//!    namespace (end of file on the launcher's stdin), and starts the program, with stdin from
//!    `/dev/null`. Verify keeps the namespace open until the run is over: a namespace's inode
//!    number is reused once it is gone, and verify must never take another run's processes for
//!    this one's;
//! 3. once the program has exited, lists what is left in the namespace (`/dev/shm`, the queues,
//!    `/proc/sysvipc`), writes it and the program's exit status to the report, and exits.
//!
//! What the run leaves is then exact (no other program sees or adds to that namespace), and it
//! disappears with the namespace when the run's last process ends: verify removes nothing.
//! Where namespaces are not allowed, runs share the machine's objects; then new objects are
//! reported as warnings and nothing is removed ([`crate::sandbox::leftovers`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{SigSet, Signal};

use crate::sandbox::leftovers::{list_dir, sysv_objects};
use crate::sandbox::procs;
use crate::sandbox::report::REPORT;

/// The hidden command line word that makes this binary a launcher.
pub const LAUNCHER_COMMAND: &str = "__sandbox";
pub const MQUEUE_DIR: &str = "mqueue";
const SHM: &str = "/dev/shm";
/// The launcher option that leaves no room in /dev/shm: a one-page tmpfs, filled.
pub const FULL_SHM: &str = "full-shm";
/// The launcher option `nofile=N`: the program may open only N descriptors (`ulimit -n N`).
const NOFILE: &str = "nofile=";
/// The launcher option `msg-max=N`: POSIX queues of at most N messages, in the run's namespace.
const MSG_MAX: &str = "msg-max=";

/// Limits a run's program meets, to see how it fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// No room in /dev/shm (namespaces only).
    pub full_shm: bool,
    /// `RLIMIT_NOFILE` (soft) for the program.
    pub nofile: Option<u64>,
    /// /proc/sys/fs/mqueue/msg_max in the run's IPC namespace (namespaces entered as root
    /// only: the file belongs to the namespace's root, and a user namespace maps us to
    /// ourselves).
    pub msg_max: Option<u64>,
}

impl Limits {
    fn to_args(self) -> Vec<String> {
        let mut args = Vec::new();
        if self.full_shm {
            args.push(FULL_SHM.to_string());
        }
        if let Some(n) = self.nofile {
            args.push(format!("{NOFILE}{n}"));
        }
        if let Some(n) = self.msg_max {
            args.push(format!("{MSG_MAX}{n}"));
        }
        args
    }

    fn parse(args: &[String]) -> Option<Limits> {
        let mut limits = Limits::default();
        for arg in args {
            if arg == FULL_SHM {
                limits.full_shm = true;
            } else if let Some(n) = arg.strip_prefix(NOFILE) {
                limits.nofile = Some(n.parse().ok()?);
            } else if let Some(n) = arg.strip_prefix(MSG_MAX) {
                limits.msg_max = Some(n.parse().ok()?);
            } else {
                return None;
            }
        }
        Some(limits)
    }
}

/// Sets up `command` so that its process may open at most `nofile` descriptors. The hard limit
/// stays: only the soft one is lowered, as `ulimit -Sn` does.
pub fn limit_descriptors(command: &mut Command, nofile: u64) -> io::Result<()> {
    use std::os::unix::process::CommandExt;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // Safety: getrlimit writes one struct through a pointer to a live local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    limit.rlim_cur = nofile.min(limit.rlim_max);
    // Safety: the closure runs in the forked child before exec and makes one async-signal-safe
    // system call on a struct prepared before the fork.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}
/// The file that fills a full /dev/shm; not the example's.
const FILLER: &str = "xtask-filler";

/// How runs are kept apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// Each run in its own namespaces, started by `launcher`; `user` when a user namespace is
    /// needed for that (not root).
    Namespaces { launcher: PathBuf, user: bool },
    /// Every run sees the machine's objects. `why` says why namespaces are not used.
    Shared { why: String },
}

impl Isolation {
    /// Namespaces if this machine allows them (tried, not assumed), else shared.
    pub fn detect() -> Isolation {
        let launcher = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => {
                return Isolation::Shared {
                    why: format!("cannot find this program to start runs with: {e}"),
                };
            }
        };
        let mut reasons = Vec::new();
        for user in [false, true] {
            match probe(&launcher, user) {
                Ok(()) => return Isolation::Namespaces { launcher, user },
                Err(e) => reasons.push(format!("{e:#}")),
            }
        }
        Isolation::Shared { why: reasons.join("; ") }
    }

    /// One line for the report's header.
    pub fn describe(&self) -> String {
        match self {
            Isolation::Namespaces { user: false, .. } => "each run in its own IPC and mount \
                namespace (private /dev/shm, queues, SysV IPC): leaks are exact per run, and \
                nothing outside is touched"
                .to_string(),
            Isolation::Namespaces { user: true, .. } => "each run in its own user, IPC and mount \
                namespace (private /dev/shm, queues, SysV IPC): leaks are exact per run, and \
                nothing outside is touched"
                .to_string(),
            Isolation::Shared { why } => format!(
                "shared: runs see this machine's /dev/shm, queues and SysV IPC; new objects are \
                 reported as warnings, never removed (no namespaces: {why})"
            ),
        }
    }
}

/// Runs a launcher in probe mode: it sets up the namespaces and exits.
fn probe(launcher: &Path, user: bool) -> Result<()> {
    let dir = crate::sandbox::interrupt::OwnedDir::create("xtask-probe-")
        .context("cannot create a folder for the namespace probe")?;
    fs::create_dir(dir.path().join(MQUEUE_DIR))?;
    let output = crate::sandbox::interrupt::unblocked(&mut Command::new(launcher))
        .args([LAUNCHER_COMMAND, mode_word(user)])
        .arg(dir.path())
        .args([FULL_SHM, "--"])
        .stdin(Stdio::null())
        .output()
        .context("cannot start the namespace probe")?;
    if output.status.success() {
        Ok(())
    } else {
        bail!("{}: {}", mode_word(user), String::from_utf8_lossy(&output.stderr).trim())
    }
}

fn mode_word(user: bool) -> &'static str {
    if user { "user" } else { "root" }
}

/// The command that starts `program` in a new sandbox whose files live in `run_dir`, under
/// `limits`.
pub fn launcher_command(
    launcher: &Path,
    user: bool,
    run_dir: &Path,
    limits: Limits,
    program: &Path,
    args: &[std::ffi::OsString],
) -> Command {
    let mut command = Command::new(launcher);
    command.args([LAUNCHER_COMMAND, mode_word(user)]).arg(run_dir).args(limits.to_args());
    command.arg("--").arg(program).args(args);
    command
}

/// The launcher's side: `args` are what follows `__sandbox`. Never returns. Must run before
/// this process starts any thread: a multithreaded process cannot enter a user namespace.
pub fn launcher_main(args: &[String]) -> ! {
    let usage = || -> ! {
        eprintln!(
            "usage: xtask {LAUNCHER_COMMAND} root|user RUNDIR [{FULL_SHM}] [{NOFILE}N] \
             [{MSG_MAX}N] -- [PROGRAM ARGS...]"
        );
        std::process::exit(125)
    };
    let [mode, run_dir, rest @ ..] = args else { usage() };
    let Some(dashes) = rest.iter().position(|a| a == "--") else { usage() };
    let Some(limits) = Limits::parse(&rest[..dashes]) else { usage() };
    let rest = &rest[dashes + 1..];
    if !matches!(mode.as_str(), "root" | "user") {
        usage();
    }
    let run_dir = PathBuf::from(run_dir);
    let result = enter(mode == "user", &run_dir, limits).and_then(|()| match rest {
        // Probe mode: the namespaces work; nothing to run.
        [] => Ok(()),
        [program, args @ ..] => launch(&run_dir, program, args, limits),
    });
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            // In probe mode stderr is ours; in a run it belongs to the example, so the error
            // goes to the report as well, where verify reads it.
            eprintln!("{e:#}");
            if !rest.is_empty() {
                let _ = append(&run_dir, &format!("error {e:#}"));
            }
            std::process::exit(125)
        }
    }
}

/// Makes `command` (a launcher) start with SIGINT, SIGTERM and SIGHUP blocked. Ctrl-C at a
/// terminal, and verify's own signal conditions, signal the run's whole group, the launcher
/// included, which must outlive the program to report on it.
pub fn stops_blocked(command: &mut Command) -> &mut Command {
    // Safety: the closure runs in the forked child before exec and makes one async-signal-safe
    // call (sigprocmask) on a set built on its own stack; it allocates nothing.
    unsafe {
        command.pre_exec(|| {
            let stops = SigSet::from_iter([Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP]);
            stops.thread_set_mask().map_err(io::Error::from)
        })
    }
}

/// Steps 1: new namespaces, private mounts, an empty /dev/shm, a queue mount.
fn enter(user: bool, run_dir: &Path, limits: Limits) -> Result<()> {
    let full_shm = limits.full_shm;
    // If verify dies, the launcher dies with it; the example, its child, likewise (below).
    set_pdeathsig(Signal::SIGKILL).context("prctl(PR_SET_PDEATHSIG)")?;
    // Safety: getuid and getgid cannot fail and take no arguments.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let mut flags = CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWNS;
    if user {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    unshare(flags).with_context(|| format!("unshare({flags:?})"))?;
    if user {
        // Map our own ids to themselves, so the example runs as the same user it would
        // otherwise; setgroups must be denied before an unprivileged process may write gid_map.
        fs::write("/proc/self/setgroups", "deny").context("writing /proc/self/setgroups")?;
        fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"))
            .context("writing /proc/self/uid_map")?;
        fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"))
            .context("writing /proc/self/gid_map")?;
    }
    // Without this, a mount below could propagate to the machine's own mount table.
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .context("making every mount private (mount --make-rprivate /)")?;
    let options = if full_shm { "mode=1777,size=4k" } else { "mode=1777" };
    mount(
        Some("xtask-shm"),
        SHM,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(options),
    )
    .with_context(|| format!("mounting a private tmpfs on {SHM}"))?;
    if full_shm {
        // One page, taken: the example's first page of shared memory finds no room.
        let filler = Path::new(SHM).join(FILLER);
        fs::write(&filler, [0u8; 4096]).with_context(|| format!("filling {}", filler.display()))?;
    }
    if let Some(n) = limits.msg_max {
        // Per IPC namespace: the machine's own limit is untouched.
        fs::write("/proc/sys/fs/mqueue/msg_max", n.to_string())
            .context("lowering /proc/sys/fs/mqueue/msg_max in the run's namespace")?;
    }
    let queues = run_dir.join(MQUEUE_DIR);
    mount(Some("xtask-mqueue"), &queues, Some("mqueue"), MsFlags::empty(), None::<&str>)
        .with_context(|| format!("mounting an mqueue file system on {}", queues.display()))?;
    Ok(())
}

/// Steps 2 and 3: start the program, wait for it, report what it left.
fn launch(run_dir: &Path, program: &str, args: &[String], limits: Limits) -> Result<()> {
    let ns = procs::ipc_namespace("self").context("cannot read /proc/self/ns/ipc")?;
    append(run_dir, &format!("ns {ns}"))?;
    // Verify closes our stdin once it holds the namespace; an error means the same to us.
    let _ = io::Read::read_to_end(&mut io::stdin(), &mut Vec::new());
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    if let Some(n) = limits.nofile {
        limit_descriptors(&mut command, n).context("getrlimit")?;
    }
    // The launcher started with SIGINT, SIGTERM and SIGHUP blocked (`stops_blocked`); the
    // program gets an empty mask, or it would inherit them blocked.
    // Safety: the closure runs in the forked child before exec and makes two async-signal-safe
    // system calls with arguments made before the fork; it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            SigSet::empty().thread_set_mask().map_err(io::Error::from)
        });
    }
    let mut child = command.spawn().with_context(|| format!("cannot start {program}"))?;
    // The output pipes are the example's: let go of ours, so that the pipes close as soon as
    // the example and everything it started have closed theirs.
    let null = File::open("/dev/null")?;
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        // Safety: dup2 onto a standard descriptor this process owns; `null` stays open for the
        // duration of the call.
        if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd) } < 0 {
            return Err(io::Error::last_os_error()).context("dup2");
        }
    }
    let status = child.wait().context("waiting for the example")?;
    let ending = match (status.code(), status.signal()) {
        (Some(code), _) => format!("status exited {code}"),
        (None, Some(signal)) => format!("status signaled {signal}"),
        (None, None) => bail!("an ended process has a code or a signal"),
    };
    let mut lines = Vec::new();
    for name in list(Path::new(SHM))? {
        if name != FILLER {
            lines.push(format!("shm {name}"));
        }
    }
    for name in list(&run_dir.join(MQUEUE_DIR))? {
        lines.push(format!("queue {name}"));
    }
    for object in sysv_objects()? {
        lines.push(format!("sysv {object}"));
    }
    lines.push(ending);
    append(run_dir, &lines.join("\n"))
}

fn list(dir: &Path) -> Result<Vec<String>> {
    list_dir(dir).with_context(|| format!("cannot list {}", dir.display()))
}

fn append(run_dir: &Path, text: &str) -> Result<()> {
    let path = run_dir.join(REPORT);
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("cannot write {}", path.display()))
}
