//! `cargo xtask bless`: write the examples' golden files from their output.
//!
//! Each example runs several times (`--repeat`, default 3), in turn plain, pinned to one CPU and
//! with every CPU busy, so that output whose order or values can vary has a chance to vary.
//! Then, for each stream, the first of these that matches every run is written:
//!
//! 1. the existing golden file, unchanged;
//! 2. the existing file with its placeholders and blocks kept where they still match, and
//!    changed lines written as they were printed;
//! 3. a file inferred from the runs alone ([`crate::infer`]): literal where every run agrees,
//!    placeholders where values differ, `[interleaved]` or `[unordered]` blocks where the order
//!    does.
//!
//! When none matches every run, bless refuses and says why, rather than freezing one random
//! order into the golden file. It also refuses a run that fails or leaves something behind.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use similar::{Algorithm, DiffTag, capture_diff_slices};

use crate::check::load_golden;
use crate::cli::Options;
use crate::conditions::Condition;
use crate::execute::Record;
use crate::golden::{Golden, Item, lines};
use crate::infer::infer;
use crate::matcher::{Outcome as MatchOutcome, match_output};
use crate::out::say;
use crate::pipeline::{Plan, Session};
use crate::problem::describe_leftover;
use crate::runner::{Ending, describe_status};
use crate::view::{explain_mismatch, render};
use crate::workspace::Example;

/// Runs per example when `--repeat` is not given: one under each condition.
const DEFAULT_RUNS: u32 = 3;

/// Returns whether every named example was blessed.
pub fn bless(options: &Options, names: &[String]) -> Result<bool> {
    let session = Session::prepare(options, names)?;
    let repeat = options.repeat.unwrap_or(DEFAULT_RUNS);
    let cycle = [Condition::Plain, Condition::OneCpu, Condition::Busy];
    let plan: Plan = cycle
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            (
                c,
                (1..=repeat)
                    .filter(|r| (*r as usize - 1) % 3 == i)
                    .collect(),
            )
        })
        .filter(|(_, runs): &(Condition, Vec<u32>)| !runs.is_empty())
        .collect();
    let records = session.run(&plan, options)?;

    let mut all_blessed = true;
    for (index, example) in session.examples.iter().enumerate() {
        let runs: Vec<&Record> = records.iter().filter(|r| r.example == index).collect();
        match bless_example(example, &runs) {
            Ok(message) => say!("{}: {message}", example.name)?,
            Err(why) => {
                all_blessed = false;
                say!("{}: not blessed: {why:#}", example.name)?;
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
    let runs: Vec<Vec<&str>> = outputs.iter().map(|o| lines(o)).collect();
    let fits = |golden: &Golden| {
        runs.iter()
            .all(|run| matches!(match_output(golden, run), MatchOutcome::Match(_)))
    };
    if let Some(old) = &old
        && fits(old)
    {
        return Ok(format!(
            "{name} unchanged (it matches all {} runs)",
            runs.len()
        ));
    }
    let mut tried = Vec::new();
    if let Some(old) = &old {
        tried.push((
            "kept its placeholders and blocks",
            Ok(merge(Some(old), &runs[0])),
        ));
    }
    tried.push(("inferred from the runs", infer(&runs)));
    let mut why = Vec::new();
    for (how, text) in tried {
        let text = match text {
            Ok(text) => text,
            Err(e) => {
                why.push(format!("{how}: {e}"));
                continue;
            }
        };
        let golden = match Golden::parse(&text) {
            Ok(golden) => golden,
            Err(e) => {
                why.push(format!(
                    "{how}: the text cannot be read back as a golden file ({e})"
                ));
                continue;
            }
        };
        if let Some((r, run)) = runs
            .iter()
            .enumerate()
            .find(|(_, run)| !matches!(match_output(&golden, run), MatchOutcome::Match(_)))
        {
            why.push(format!(
                "{how}: it does not match run {}:\n{}",
                r + 1,
                explain_mismatch(&golden, run)
            ));
            continue;
        }
        fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(format!(
            "{name} written, {how} ({} lines; matches all {} runs)",
            text.lines().count(),
            runs.len()
        ));
    }
    anyhow::bail!(
        "no golden file matches every run; mark lines whose order varies with blocks and values \
         that change with placeholders by hand, then bless again:\n{}",
        why.join("\n")
    )
}

/// A golden text for `output` that reuses `old`'s patterns where they still match.
pub fn merge(old: Option<&Golden>, output: &[&str]) -> String {
    let Some(old) = old else {
        return output.iter().map(|l| format!("{l}\n")).collect();
    };
    let (view, _) = render(old, output);
    let view_text: Vec<&str> = view.iter().map(|v| v.text.as_str()).collect();
    let ops = capture_diff_slices(Algorithm::Myers, &view_text, output);

    // A block is kept only when every one of its lines matched and survived the diff unchanged.
    let mut block_kept = vec![true; old.items.len()];
    for op in &ops {
        let (tag, old_range, _) = op.as_tag_tuple();
        for v in &view[old_range] {
            if !matches!(old.items[v.item], Item::Line(_)) && (tag != DiffTag::Equal || !v.matched)
            {
                block_kept[v.item] = false;
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
                    match &old.items[v.item] {
                        item @ Item::Line(_) if v.matched => text.push_str(&item.to_text()),
                        item @ (Item::Unordered(_) | Item::Interleaved(_))
                            if block_kept[v.item] =>
                        {
                            if !emitted_block[v.item] {
                                emitted_block[v.item] = true;
                                text.push_str(&item.to_text());
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
