//! The Python child of `with_python`'s recipes ends when the recipe does, even when the recipe
//! started with SIGINT ignored, as a background job (`cmd &`) or `nohup` starts it: Python
//! inherits the ignored SIGINT, so `python.rs` must set it back, or stopping Python waits for
//! Python's own timeouts.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `with_python` binary of this workspace, built for the test.
fn with_python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut build = Command::new(env!("CARGO"));
    build.args(["build", "--quiet", "-p", "with_python"]).current_dir(&root);
    assert!(build.status().unwrap().success());
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), PathBuf::from);
    target.join("debug").join("with_python")
}

#[test]
fn a_recipe_whose_reader_left_ends_at_once_with_sigint_ignored() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: no python3 on PATH");
        return;
    }
    let mut command = Command::new(with_python());
    command.arg("framed_messages").stdout(Stdio::piped()).stderr(Stdio::piped());
    // Safety: signal() is async-signal-safe; SIG_IGN installs no handler.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            Ok(())
        })
    };
    let start = Instant::now();
    let mut child = command.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is gone, as with `| head -1`: the recipe must stop its Python and end.
    let output = child.wait_with_output().unwrap();
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(first.starts_with("rust: started python3"), "{first}{stderr}");
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(took < Duration::from_secs(2), "took {took:?}: Python ignored SIGINT");
}
