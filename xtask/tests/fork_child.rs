//! The fork helper the recipes copy, tested where it matters: a child that panics, fails or
//! loses its stdout must never run the parent's code or destructors, and the parent must learn
//! from `wait` what happened. The two modules below are `process_basic`'s own files, included
//! by path (`cargo xtask tidy` checks every copy of them is the same), so this tests exactly
//! what readers copy.
//!
//! A plain `main` (`harness = false`): forking is sound only in a single-threaded process, and
//! the test harness runs tests on threads.

#[path = "../../process_basic/src/errors.rs"]
mod errors;
#[path = "../../process_basic/src/fork.rs"]
mod fork;

use std::cell::Cell;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use errors::{StdoutError, say};

/// Whether `error` is a write to a stdout whose reader has gone, as `errors::exit` decides it.
fn stdout_closed(error: &anyhow::Error) -> bool {
    error.downcast_ref::<StdoutError>().is_some_and(|e| e.0.kind() == io::ErrorKind::BrokenPipe)
}

/// A drop guard that belongs to the parent, like a recipe's lock file.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn main() -> std::process::ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("xtask-fork-test-{}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = cases(&dir);
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    result?;
    say!("fork helper: all cases passed")?;
    Ok(())
}

/// The error `wait` gives for the child that `work` describes.
fn failure_of(work: impl FnOnce() -> Result<()>) -> Result<anyhow::Error> {
    let child = fork::fork(work)?;
    let pid = child.pid;
    match fork::wait(child) {
        Ok(()) => bail!("child {pid} should have failed, but exited with 0"),
        Err(e) => Ok(e),
    }
}

fn cases(dir: &Path) -> Result<()> {
    let path = dir.join("owned-by-the-parent");
    std::fs::write(&path, "parent").with_context(|| format!("writing {}", path.display()))?;
    let guard = RemoveOnDrop(path.clone());

    // A panic deep inside the child's work stops in `fork`: it does not unwind through this
    // frame and drop `guard` in the child.
    let e = failure_of(|| {
        let _childs_own = RemoveOnDrop(dir.join("owned-by-the-child"));
        panic!("the child panics on purpose (this message is expected)")
    })?;
    ensure!(e.to_string().contains("status 101"), "a panicking child: {e:#}");
    ensure!(path.exists(), "the child's unwinding removed the parent's file");

    // An error: the child's own words reach the parent, to be printed once, by the parent;
    // and the parent's state is intact.
    let e = failure_of(|| bail!("failing on purpose"))?;
    ensure!(
        e.to_string().ends_with(": failing on purpose") && e.to_string().starts_with("child "),
        "a failing child: {e:#}"
    );
    ensure!(!stdout_closed(&e), "a failing child is not a closed stdout: {e:#}");
    ensure!(path.exists(), "a failing child removed the parent's file");

    // A closed stdout (`| head`): the parent gets it as its own, and ends quietly. (A failed
    // write always carries its errno; `fork` passes on EIO for an error without one.)
    let e = failure_of(|| Err(StdoutError(io::Error::from_raw_os_error(libc::EPIPE)))?)?;
    ensure!(stdout_closed(&e), "a child's closed stdout must reach the parent: {e:#}");

    // A full disk: the parent gets the child's errno, to report once.
    let e = failure_of(|| Err(StdoutError(io::Error::from_raw_os_error(libc::ENOSPC)))?)?;
    let errno = e.downcast_ref::<StdoutError>().and_then(|StdoutError(e)| e.raw_os_error());
    ensure!(errno == Some(libc::ENOSPC), "a child's full stdout: {e:#}");
    ensure!(!stdout_closed(&e), "a full stdout is not a closed one: {e:#}");

    // A child that ends itself with a status above 128 is not a stdout error, nor a success.
    for status in [137, 160] {
        // Safety: _exit takes no pointer and runs nothing of the parent's.
        let e = failure_of(|| unsafe { libc::_exit(status) })?;
        ensure!(
            e.to_string().ends_with(&format!("exited with status {status}"))
                && e.downcast_ref::<StdoutError>().is_none(),
            "a child that exited with {status}: {e:#}"
        );
    }

    // A second thread makes fork unsound: the helper refuses, naming the count.
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || stopped.recv());
    let refused = fork::fork(|| Ok(()));
    stop.send(()).context("stopping the thread")?;
    let _ = thread.join();
    match refused {
        Ok(child) => {
            fork::wait(child)?;
            bail!("fork with two threads was allowed");
        }
        Err(e) => ensure!(e.to_string().contains("2 threads"), "fork with two threads: {e:#}"),
    }

    // A clean exit; and the parent drops the work unrun.
    let ran = Cell::new(false);
    let child = fork::fork(|| {
        ran.set(true);
        Ok(())
    })?;
    fork::wait(child)?;
    ensure!(!ran.get(), "the parent ran the child's work");

    drop(guard);
    ensure!(!path.exists(), "the parent's own guard must still work");
    Ok(())
}
