//! An example binary that misbehaves must meet verify's sandbox, never run unguarded: one that
//! ignores its arguments, writes into the temp folder, prints, and leaves a grandchild holding
//! its stdout. verify must report it within its timeout, naming it, and leave nothing behind.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

const MAIN_RS: &str = r#"
// A main.rs that lists its recipe as every example's does, then ignores its arguments.
fn main() {
    let _recipes: &[(&str, fn())] = &[
        ("rogue", rogue::main),
    ];
    let marker = std::env::temp_dir().join("rogue-was-here");
    std::fs::write(&marker, b"written outside the run's folder").unwrap();
    println!("rogue output");
    std::process::Command::new("sleep").arg("3TAG").spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(300));
}

mod rogue {
    pub fn main() {}
}
"#;

const RECIPE_RS: &str = "//! Copy: rogue.rs\n//! Needs:\nfn main() {}\n";

/// A workspace with one example, `rogue`, built in advance so that verify's own build is quick.
fn workspace(dir: &Path, tag: &str) {
    let crate_dir = dir.join("rogue");
    fs::create_dir_all(crate_dir.join("src")).unwrap();
    fs::create_dir_all(crate_dir.join("golden")).unwrap();
    fs::write(dir.join("Cargo.toml"), "[workspace]\nmembers = [\"rogue\"]\nresolver = \"3\"\n")
        .unwrap();
    fs::write(
        crate_dir.join("Cargo.toml"),
        "[package]\nname = \"rogue\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    fs::write(crate_dir.join("src/main.rs"), MAIN_RS.replace("TAG", tag)).unwrap();
    fs::write(crate_dir.join("src/rogue.rs"), RECIPE_RS).unwrap();
    fs::write(crate_dir.join("golden/rogue.stdout"), "rogue output\n").unwrap();
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet"])
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .unwrap();
    assert!(built.success());
}

fn sleeping(argument: &str) -> bool {
    fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let stat = fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie =
            stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        !zombie && cmdline == format!("sleep\0{argument}\0").as_bytes()
    })
}

#[test]
fn a_binary_that_ignores_its_arguments_is_timed_out_in_the_sandbox() {
    let project = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let tag = format!("{}", std::process::id());
    workspace(project.path(), &tag);
    let start = Instant::now();
    let output = Command::new(XTASK)
        .args(["verify", "--timeout", "2"])
        .current_dir(project.path())
        .env("TMPDIR", tmp.path())
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}took {took:?}");
    assert!(!output.status.success());
    assert!(took < Duration::from_secs(2 + 2), "took {took:?}");
    assert!(stdout.contains("rogue/rogue"), "the report names the recipe");
    assert!(stdout.contains("timed out"), "the report says why");
    assert!(!sleeping(&format!("3{tag}")), "the grandchild outlived verify");
    let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}
