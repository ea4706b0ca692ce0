//! `cargo xtask bless`: write the examples' current output as their golden files.
//!
//! The new golden file keeps the old one's placeholders and unordered blocks wherever they still
//! match the new output; changed lines are written literally. The example runs several times and
//! the new file must match every run: when runs differ in a way the file cannot express (a new
//! line whose order varies, a new value that changes), bless refuses and shows the difference,
//! rather than freezing one random order into the golden file.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use similar::{Algorithm, DiffTag, capture_diff_slices};

use crate::check::{describe_leftover, load_golden};
use crate::cli::Options;
use crate::conditions::Condition;
use crate::execute::{Job, Record, run_all};
use crate::golden::{BLOCK_END, BLOCK_START, Golden, Item, lines};
use crate::matcher::{Outcome as MatchOutcome, match_output};
use crate::runner::{Ending, describe_status};
use crate::view::{Origin, explain_mismatch, render};
use crate::workspace::{Example, Workspace, build};

/// Runs per example when `--repeat` is not given: enough to catch most varying output.
const DEFAULT_RUNS: u32 = 3;

/// Returns whether every named example was blessed.
pub fn bless(options: &Options, names: &[String]) -> Result<bool> {
    let workspace = Workspace::discover()?;
    let examples = workspace.select(names)?;
    let binaries = build(&workspace.root, &examples)?;
    let isolation = options.isolation.resolve();
    let repeat = options.repeat.unwrap_or(DEFAULT_RUNS);
    let jobs = examples
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            let binary = &binaries[&e.name];
            (1..=repeat).map(move |run| Job {
                example: i,
                run,
                program: binary.clone(),
                args: Vec::new(),
                condition: Condition::Plain,
            })
        })
        .collect::<Vec<_>>();
    let records = run_all(jobs, options.jobs, options.timeout, &isolation)?;

    let mut all_blessed = true;
    for (index, example) in examples.iter().enumerate() {
        let runs: Vec<&Record> = records.iter().filter(|r| r.example == index).collect();
        match bless_example(example, &runs) {
            Ok(message) => println!("{}: {message}", example.name),
            Err(why) => {
                all_blessed = false;
                println!("{}: not blessed: {why:#}", example.name);
            }
        }
    }
    Ok(all_blessed)
}

fn bless_example(example: &Example, runs: &[&Record]) -> Result<String> {
    let mut stdouts = Vec::new();
    let mut stderrs = Vec::new();
    for record in runs {
        let o = &record.outcome;
        let status = match &o.ending {
            Ending::Exited(0) => None,
            Ending::Exited(code) => Some(format!("exited with {code}")),
            Ending::Signaled(signal) => Some(format!(
                "was {}",
                describe_status(std::os::unix::process::ExitStatusExt::from_raw(*signal))
            )),
            Ending::TimedOut { .. } => Some("timed out".to_string()),
            Ending::NotRun(why) => Some(format!("could not run: {why}")),
        };
        if let Some(status) = status {
            anyhow::bail!(
                "run {} {status}; only a passing run can be blessed",
                record.run
            );
        }
        if let Some(leftover) = o.leftovers.first().or(record.suspects.first()) {
            anyhow::bail!(
                "run {} left behind {}; fix the example first",
                record.run,
                describe_leftover(leftover)
            );
        }
        for (stream, captured) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            if captured.dropped > 0 {
                anyhow::bail!(
                    "run {}: {stream} printed more than {}; fix the example first",
                    record.run,
                    crate::capture::size(crate::capture::KEEP as u64)
                );
            }
        }
        stdouts.push(utf8(&o.stdout.bytes, "stdout", record.run)?);
        stderrs.push(utf8(&o.stderr.bytes, "stderr", record.run)?);
    }
    let stdout = bless_stream(&example.golden_stdout(), &stdouts, true)?;
    let stderr = bless_stream(&example.golden_stderr(), &stderrs, false)?;
    Ok(format!("{stdout}; {stderr}"))
}

fn utf8(bytes: &[u8], stream: &str, run: u32) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        anyhow::anyhow!(
            "run {run}: {stream} is not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Writes the golden file for one stream, or removes it when an optional stream is empty.
fn bless_stream(path: &Path, outputs: &[String], required: bool) -> Result<String> {
    let name = path
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let old = if path.exists() {
        Some(load_golden(path)?)
    } else {
        None
    };
    if !required && outputs.iter().all(String::is_empty) {
        if old.is_some() {
            fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
            return Ok(format!("{name} removed (nothing printed)"));
        }
        return Ok(format!("no {name} (nothing printed)"));
    }
    let first = lines(&outputs[0]);
    let text = merge(old.as_ref(), &first);
    let golden = Golden::parse(&text).with_context(|| {
        format!(
            "the output cannot be written as a golden file literally; edit {} by hand",
            path.display()
        )
    })?;
    for (i, output) in outputs.iter().enumerate() {
        let output = lines(output);
        if match_output(&golden, &output) != MatchOutcome::Match {
            anyhow::bail!(
                "run 1 and run {} differ in a way {name} cannot express; mark lines whose order \
                 varies with {BLOCK_START} ... {BLOCK_END} and values that change with [..] or \
                 [NAME], then bless again:\n{}",
                i + 1,
                explain_mismatch(&golden, &output)
            );
        }
    }
    let old_text = fs::read_to_string(path).unwrap_or_default();
    if old_text == text {
        return Ok(format!("{name} unchanged"));
    }
    fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(format!("{name} written ({} lines)", first.len()))
}

/// A golden text for `output` that reuses `old`'s patterns where they still match.
pub fn merge(old: Option<&Golden>, output: &[&str]) -> String {
    let Some(old) = old else {
        return output.iter().map(|l| format!("{l}\n")).collect();
    };
    let view = render(old, output);
    let view_text: Vec<&str> = view.iter().map(|v| v.text.as_str()).collect();
    let ops = capture_diff_slices(Algorithm::Myers, &view_text, output);

    // A block is kept only when every one of its lines matched and survived the diff unchanged.
    let mut block_kept = vec![true; old.items.len()];
    for op in &ops {
        let (tag, old_range, _) = op.as_tag_tuple();
        for v in &view[old_range] {
            if let Origin::Block(i) = v.origin
                && (tag != DiffTag::Equal || !v.matched)
            {
                block_kept[i] = false;
            }
        }
    }

    let mut text = String::new();
    let mut emitted_block = vec![false; old.items.len()];
    for op in &ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Delete => {}
            DiffTag::Insert | DiffTag::Replace => {
                for line in &output[new_range] {
                    text.push_str(line);
                    text.push('\n');
                }
            }
            DiffTag::Equal => {
                for (v, line) in view[old_range].iter().zip(&output[new_range]) {
                    match (v.origin, &old.items[origin_index(v.origin)]) {
                        (Origin::Line(_), Item::Line(pattern)) if v.matched => {
                            text.push_str(&pattern.source);
                            text.push('\n');
                        }
                        (Origin::Block(i), Item::Unordered(patterns)) if block_kept[i] => {
                            if !emitted_block[i] {
                                emitted_block[i] = true;
                                text.push_str(BLOCK_START);
                                text.push('\n');
                                for p in patterns {
                                    text.push_str(&p.source);
                                    text.push('\n');
                                }
                                text.push_str(BLOCK_END);
                                text.push('\n');
                            }
                        }
                        _ => {
                            text.push_str(line);
                            text.push('\n');
                        }
                    }
                }
            }
        }
    }
    text
}

fn origin_index(origin: Origin) -> usize {
    match origin {
        Origin::Line(i) | Origin::Block(i) => i,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(old: &str, output: &str) -> String {
        merge(Some(&Golden::parse(old).unwrap()), &lines(output))
    }

    #[test]
    fn new_golden_is_literal() {
        assert_eq!(merge(None, &["a", "b"]), "a\nb\n");
    }

    #[test]
    fn placeholders_survive_where_they_still_match() {
        let old = "pid [P]\ntook [..] ms\nold line\n";
        assert_eq!(
            merged(old, "pid 7\ntook 3 ms\nnew line\n"),
            "pid [P]\ntook [..] ms\nnew line\n"
        );
    }

    #[test]
    fn blocks_survive_when_whole() {
        let old = "start\n[unordered]\na [..]\nb\n[/unordered]\nend\n";
        assert_eq!(
            merged(old, "start\nb\na 1\nend\nmore\n"),
            "start\n[unordered]\na [..]\nb\n[/unordered]\nend\nmore\n"
        );
    }

    #[test]
    fn changed_block_is_written_out_literally() {
        let old = "[unordered]\na\nb\n[/unordered]\n";
        assert_eq!(merged(old, "b\nc\n"), "b\nc\n");
    }

    #[test]
    fn inserted_and_removed_lines() {
        let old = "one\ntwo\nthree\n";
        assert_eq!(merged(old, "one\nthree\nfour\n"), "one\nthree\nfour\n");
    }
}
