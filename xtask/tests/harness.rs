//! The harness under the conditions of a real machine: Ctrl-C and SIGTERM in the middle of a
//! run, another program's shared memory, runaway output, processes that leave their group.
//! Each test drives the real `xtask` binary (`xtask run -- PROGRAM`), as a user would.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

fn xtask(tmpdir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(XTASK);
    command.args(args).env("TMPDIR", tmpdir).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Live (not zombie) processes whose command line is exactly `cmdline`.
fn running(cmdline: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmd = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let stat = fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie =
            stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if !zombie && String::from_utf8_lossy(&cmd).replace('\0', " ").trim() == cmdline {
            found.push(pid);
        }
    }
    found
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(10), "{what} never happened");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `signal` to a running `xtask run` with a hung program that started a background
/// process and a `setsid` one, and checks that everything is gone.
fn interrupted_run_leaves_nothing(signal: i32, expected_status: i32) {
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("{}{}", std::process::id(), signal);
    let script =
        format!("sleep 1{tag}1 & (setsid sleep 1{tag}2 >/dev/null 2>&1 &); exec sleep 1{tag}3");
    let mut child: Child =
        xtask(tmp.path(), &["run", "--timeout", "60", "--", "sh", "-c", &script]).spawn().unwrap();
    for n in 1..=3 {
        wait_until("the run's processes starting", || {
            !running(&format!("sleep 1{tag}{n}")).is_empty()
        });
    }
    let start = Instant::now();
    // Safety: kill takes no pointers.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let status = child.wait().unwrap();
    let took = start.elapsed();
    let output = child.wait_with_output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(status.code(), Some(expected_status), "{status:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    for n in 1..=3 {
        let left = running(&format!("sleep 1{tag}{n}"));
        assert!(left.is_empty(), "sleep 1{tag}{n} still running: {left:?}");
    }
    let folders: Vec<_> = fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(folders.is_empty(), "left in TMPDIR: {folders:?}");
}

#[test]
fn ctrl_c_stops_every_process_and_removes_the_run_folders() {
    interrupted_run_leaves_nothing(libc::SIGINT, 130);
}

#[test]
fn sigterm_stops_every_process_and_removes_the_run_folders() {
    interrupted_run_leaves_nothing(libc::SIGTERM, 143);
}

fn run(args: &[&str]) -> (Output, String) {
    let tmp = tempfile::tempdir().unwrap();
    let output = xtask(tmp.path(), args).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("{text}{}", String::from_utf8_lossy(&output.stderr));
    (output, text)
}

#[test]
fn another_programs_shared_memory_is_never_removed_or_blamed() {
    let tag = std::process::id();
    let others: Vec<String> =
        (0..20).map(|n| format!("/dev/shm/xtask-test-other-{tag}-{n}")).collect();
    let creator = {
        let others = others.clone();
        thread::spawn(move || {
            for path in &others {
                fs::write(path, b"not yours").unwrap();
                thread::sleep(Duration::from_millis(10));
            }
        })
    };
    for isolation in ["auto", "none"] {
        let script = format!("touch /dev/shm/xtask-test-mine-{tag}; sleep 0.3");
        let (_, text) = run(&["run", "--isolation", isolation, "--", "sh", "-c", &script]);
        assert!(!text.contains("xtask-test-other"), "{text}");
        if text.contains("isolation: each run in its own") {
            assert!(
                text.contains(&format!(
                    "left behind: shared-memory object /dev/shm/xtask-test-mine-{tag}"
                )),
                "{text}"
            );
        }
        let _ = fs::remove_file(format!("/dev/shm/xtask-test-mine-{tag}"));
    }
    creator.join().unwrap();
    let removed: Vec<&String> = others.iter().filter(|p| !Path::new(p).exists()).collect();
    for path in &others {
        let _ = fs::remove_file(path);
    }
    assert!(removed.is_empty(), "removed: {removed:?}");
}

#[test]
fn sysv_objects_and_queues_left_in_a_sandbox_are_reported() {
    let (_, probe) = run(&["run", "--", "true"]);
    if !probe.contains("isolation: each run in its own") {
        eprintln!("skipped: no namespaces here");
        return;
    }
    if Command::new("ipcmk").arg("--help").output().is_err() {
        eprintln!("skipped: no ipcmk here");
        return;
    }
    let (output, text) = run(&["run", "--", "sh", "-c", "ipcmk -M 4096 -S 2 -Q >/dev/null"]);
    assert!(!output.status.success());
    for kind in ["shared memory", "semaphore set", "message queue"] {
        assert!(text.contains(&format!("left behind: SysV {kind} id")), "{text}");
    }
}

#[test]
fn runaway_output_is_reported_on_time_with_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut child = xtask(
        tmp.path(),
        &["run", "--timeout", "2", "--", "sh", "-c", "exec yes 'runaway line of output'"],
    )
    .spawn()
    .unwrap();
    let pid = child.id();
    let mut peak_kib = 0u64;
    while child.try_wait().unwrap().is_none() {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(kib) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        thread::sleep(Duration::from_millis(20));
    }
    let took = start.elapsed();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    eprintln!("{text}took {took:?}, peak {peak_kib} KiB");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(text.contains("ending: timed out"), "{text}");
    assert!(text.contains("kept the first 4.0 MiB"), "{text}");
    assert!(peak_kib < 64 * 1024, "peak memory {peak_kib} KiB");
}

#[test]
fn programs_start_with_no_signal_blocked() {
    // xtask blocks SIGINT, SIGTERM and SIGHUP in itself to handle them on a thread; what it
    // starts must not inherit that, or Ctrl-C and SIGTERM would never reach it.
    for isolation in ["auto", "none"] {
        let (_, text) = run(&[
            "run",
            "--isolation",
            isolation,
            "--",
            "sh",
            "-c",
            // `exec`: grep reads its own mask, inherited through exec. Reading the shell's
            // (`/proc/$$`) races with dash, which blocks every signal while it forks.
            "exec grep SigBlk /proc/self/status",
        ]);
        assert!(text.contains("SigBlk:\t0000000000000000"), "{text}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly_and_a_full_one_is_one_line() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let mut child =
        xtask(tmp.path(), &["run", "--", "sh", "-c", "echo one; echo two"]).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is gone: like `| head -1`.
    let output = child.wait_with_output().unwrap();
    assert!(first.starts_with("isolation:"), "{first}");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");

    let full = fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let output = Command::new(XTASK)
        .args(["run", "--", "true"])
        .env("TMPDIR", tmp.path())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
}
