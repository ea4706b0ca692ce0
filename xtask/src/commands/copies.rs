//! `cargo xtask copies`: does for every recipe what its header tells a user to do, and proves
//! the result. A fresh crate (what `cargo new myprog` makes, named as the README tells a user
//! to name it) gets the files of the `Copy:` line, unchanged, the recipe's own as
//! `src/main.rs`; its `Cargo.toml` gets the crates of the `Needs:` line, at the versions of
//! this workspace's `Cargo.lock` (which must satisfy the `@VERSION` the line names, the one a
//! user's `cargo add` asks for), with the features named there and no other. It must build
//! with warnings denied, and its run must match the recipe's golden files, judged as verify
//! judges a plain run.
//!
//! The crates live under `target/copies/` (rewritten on every run, so nothing is left in the
//! temp dir after a Ctrl-C) and share one target folder there, so only the first pass compiles
//! the dependencies.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cli::Options;
use crate::judge::check::{Expectation, judge};
use crate::out::say;
use crate::project::locked;
use crate::project::workspace::{Diagnostics, Example, Workspace, cargo_build, shown};
use crate::runs::conditions::Condition;
use crate::runs::execute::{Job, run_all};
use crate::runs::progress::Progress;
use crate::runs::session::python_for;

/// What every copy is called: what the README's `cargo new` names it, not the example's name,
/// so that an output which names its own program cannot match by accident.
const COPY_NAME: &str = "myprog";

/// Lines of the compiler's first error shown for a copy that does not build.
const ERROR_LINES: usize = 12;

/// Returns whether every copy built and printed what its golden file says.
pub fn copies(options: &Options, names: &[String]) -> Result<bool> {
    let workspace = Workspace::discover()?;
    workspace.check_golden_files()?;
    let examples = workspace.select(names)?;
    let versions = locked::versions(&workspace.root)?;
    let base = workspace.target.join("copies");
    let isolation = options.isolation.resolve();
    say!(
        "copies: {} recipe{}, each built alone in {} with warnings denied",
        examples.len(),
        if examples.len() == 1 { "" } else { "s" },
        shown(&base)
    )?;

    say!("building the copies (the first pass also builds their dependencies, once)")?;
    let started = Instant::now();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut built: Vec<(usize, PathBuf)> = Vec::new();
    let progress = Progress::new("copies built", examples.len());
    for (index, example) in examples.iter().enumerate() {
        let dir = base.join("crates").join(example.name.replace('/', "-"));
        let manifest = manifest(example, &versions)?;
        write_crate(example, &dir, &manifest, &workspace.root)?;
        match build(example, &dir, &base)? {
            Ok(binary) => built.push((index, binary)),
            Err(why) => failures.push((example.name.clone(), why)),
        }
        progress.tick();
    }
    let build_time = started.elapsed();

    let python_bin = python_for(&workspace, &examples)?;
    let started = Instant::now();
    let jobs: Vec<Job> = built
        .iter()
        .map(|(index, binary)| Job {
            example: *index,
            run: 1,
            program: binary.clone(),
            args: Vec::new(),
            condition: Condition::Plain,
            path_first: python_bin.clone(),
        })
        .collect();
    for record in run_all(jobs, options.jobs, options.timeout, &isolation)? {
        let example = &examples[record.example];
        let expect = Expectation::load(example)?;
        let found = judge(Condition::Plain, &expect, &record.outcome, options.timeout);
        if !found.is_empty() {
            let found: Vec<String> = found.iter().map(ToString::to_string).collect();
            failures.push((example.name.clone(), found.join("\n")));
        }
    }
    let run_time = started.elapsed();

    for example in &examples {
        let failed = failures.iter().any(|(name, _)| *name == example.name);
        let verdict = if failed { "FAILED" } else { "ok" };
        say!("copy of {} ... {verdict}", example.name)?;
    }
    if !failures.is_empty() {
        say!("\nfailures:\n")?;
        for (name, why) in &failures {
            say!("---- copy of {name} ----\n{why}\n")?;
        }
    }
    say!(
        "\n{} copied and proven, {} failed; built in {}, ran in {}",
        examples.len() - failures.len(),
        failures.len(),
        seconds(build_time),
        seconds(run_time)
    )?;
    Ok(failures.is_empty())
}

fn seconds(time: Duration) -> String {
    format!("{:.1} s", time.as_secs_f64())
}

/// The `Cargo.toml` a user writes for `example` by following its `Needs:` line.
fn manifest(
    example: &Example,
    versions: &HashMap<String, cargo_metadata::semver::Version>,
) -> Result<String> {
    let mut text = format!(
        "[package]\nname = \"{COPY_NAME}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n"
    );
    for need in &example.recipe.needs {
        let Some(version) = versions.get(&need.krate) else {
            bail!(
                "{}: `Needs:` names {}, which is not in the workspace's Cargo.lock (add it to {}'s \
                 Cargo.toml, or correct the name)",
                shown(&example.recipe.path),
                need.krate,
                example.package
            );
        };
        let wanted =
            cargo_metadata::semver::VersionReq::parse(&need.version).with_context(|| {
                format!("{}: `{}@{}`", shown(&example.recipe.path), need.krate, need.version)
            })?;
        if !wanted.matches(version) {
            bail!(
                "{}: `Needs:` names {}@{}, but the workspace's Cargo.lock proves {version}: \
                 name the version proven",
                shown(&example.recipe.path),
                need.krate,
                need.version
            );
        }
        let features: Vec<String> = need.features.iter().map(|f| format!("\"{f}\"")).collect();
        if features.is_empty() {
            writeln!(text, "{} = \"{version}\"", need.krate)?;
        } else {
            writeln!(
                text,
                "{} = {{ version = \"{version}\", features = [{}] }}",
                need.krate,
                features.join(", ")
            )?;
        }
    }
    Ok(text)
}

/// A fresh crate in `dir`: the manifest, the workspace's `Cargo.lock`, and the files of the
/// `Copy:` line, the first as `src/main.rs`.
fn write_crate(example: &Example, dir: &Path, manifest: &str, root: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", shown(dir)))?;
    }
    let src = dir.join("src");
    fs::create_dir_all(&src).with_context(|| format!("cannot create {}", shown(&src)))?;
    let write = |path: PathBuf, text: &str| {
        fs::write(&path, text).with_context(|| format!("cannot write {}", shown(&path)))
    };
    write(dir.join("Cargo.toml"), manifest)?;
    // The workspace's own lock: the same versions as the examples were proven with. Cargo
    // drops the entries the crate does not use.
    fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
        .with_context(|| format!("cannot copy Cargo.lock into {}", shown(dir)))?;
    let from = example.recipe.path.parent().context("a recipe lives in a folder")?;
    for (i, name) in example.recipe.copy.iter().enumerate() {
        let to = if i == 0 { "main.rs" } else { name.as_str() };
        let source = from.join(name);
        let text = fs::read_to_string(&source).with_context(|| {
            format!(
                "{}: its `Copy:` line names {name}, which cannot be read",
                shown(&example.recipe.path)
            )
        })?;
        write(src.join(to), &text)?;
    }
    Ok(())
}

/// Builds the copy in `dir`: the path of its binary, or why it did not build.
fn build(example: &Example, dir: &Path, base: &Path) -> Result<Result<PathBuf, String>> {
    let target = base.join("target");
    let env = [("CARGO_TARGET_DIR", target.as_os_str()), ("RUSTFLAGS", "-D warnings".as_ref())];
    let built = cargo_build(dir, &["--quiet"], &env, Diagnostics::Collect)?;
    if !built.status.success() {
        let first = built.errors.first().map_or_else(
            || format!("cargo build {} and the compiler gave no error", built.status),
            |error| error.trim_end().lines().take(ERROR_LINES).collect::<Vec<_>>().join("\n"),
        );
        return Ok(Err(format!(
            "a fresh crate with `Copy: {}` and `Needs: {}` does not build:\n{first}",
            example.recipe.copy.join(" "),
            needs_line(example)
        )));
    }
    let Some(binary) = built.binaries.get(COPY_NAME) else {
        bail!("the copy of {} built no binary named {COPY_NAME}", example.name);
    };
    // Every copy's binary has the same name: keep this one before the next overwrites it.
    let kept = base.join("bin").join(example.name.replace('/', "-"));
    fs::create_dir_all(kept.parent().expect("a file in bin/"))?;
    fs::copy(binary, &kept).with_context(|| format!("cannot copy {}", shown(binary)))?;
    Ok(Ok(kept))
}

fn needs_line(example: &Example) -> String {
    let needs: Vec<String> = example
        .recipe
        .needs
        .iter()
        .map(|n| match n.features.as_slice() {
            [] => format!("{}@{}", n.krate, n.version),
            features => format!("{}@{} (features {})", n.krate, n.version, features.join(", ")),
        })
        .collect();
    needs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::recipe;

    fn example(header: &str) -> Example {
        let path = Path::new("/w/ipc_shm/src/semaphore.rs");
        let text = format!("//! Copy: semaphore.rs fork.rs\n//! Needs: {header}\n");
        Example {
            name: "ipc_shm/semaphore".into(),
            package: "ipc_shm".into(),
            recipe: recipe::parse(path, &text).unwrap().unwrap(),
            dir: "/w/ipc_shm".into(),
        }
    }

    fn versions() -> HashMap<String, cargo_metadata::semver::Version> {
        [("anyhow", "1.0.104"), ("nix", "0.31.3")]
            .into_iter()
            .map(|(n, v)| (n.to_string(), cargo_metadata::semver::Version::parse(v).unwrap()))
            .collect()
    }

    #[test]
    fn the_manifest_says_what_the_needs_line_says() {
        let text = manifest(&example("anyhow@1, nix@0.31 (features mman, process)"), &versions());
        let text = text.unwrap();
        assert!(text.contains("name = \"myprog\"\n"), "{text}");
        assert!(text.contains("\nanyhow = \"1.0.104\"\n"), "{text}");
        assert!(
            text.contains("\nnix = { version = \"0.31.3\", features = [\"mman\", \"process\"] }\n"),
            "{text}"
        );
        assert_eq!(
            needs_line(&example("anyhow@1, nix@0.31 (features mman)")),
            "anyhow@1, nix@0.31 (features mman)"
        );
    }

    #[test]
    fn a_need_outside_the_lock_is_an_error() {
        let e = manifest(&example("anyhow@1, libcc@0.2"), &versions()).unwrap_err();
        assert!(e.to_string().contains("libcc"), "{e}");
    }

    #[test]
    fn a_version_the_lock_does_not_prove_is_an_error() {
        let e = manifest(&example("anyhow@1, nix@0.32"), &versions()).unwrap_err();
        assert!(e.to_string().contains("proves 0.31.3"), "{e}");
        assert!(manifest(&example("anyhow@1.0, nix@0.31"), &versions()).is_ok());
    }
}
