//! `cargo xtask bless`: write the examples' golden files from their output.
//!
//! Each example runs 21 times (`--repeat`), in turn plain, pinned to one CPU and with every
//! CPU busy, so that output whose order or values can vary has a chance to vary. Then, for each
//! stream, the first of these that matches every run is chosen:
//!
//! 1. the existing golden file, unchanged;
//! 2. the existing file with its placeholders and blocks kept where they still match, and
//!    changed lines written as they were printed;
//! 3. a file inferred from the runs alone ([`crate::golden::infer`]): literal where every run
//!    agrees, placeholders where values differ, `[interleaved]` or `[unordered]` blocks where
//!    the order does.
//!
//! All the runs are made before the choice. Bless once chose from three runs and confirmed
//! the choice with rounds of six more, choosing again only on a run the choice did not match;
//! the property tests (`golden::properties`) showed why that is not enough: a file inferred
//! from three runs can be too loose (`[unordered]` where the runs could not yet tell which
//! //! word counts the steps), and no later run refutes a loose file. When no file matches every
//! run, bless refuses and says why. It also refuses a run that fails or leaves something
//! behind.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use similar::{Algorithm, DiffTag, capture_diff_slices};

use crate::cli::Options;
use crate::golden::format::{Golden, Item, lines};
use crate::golden::infer::infer;
use crate::golden::matcher::{Outcome as MatchOutcome, match_output};
use crate::golden::view::{explain_mismatch, render};
use crate::judge::check::load_golden;
use crate::judge::problem::describe_leftover;
use crate::out::say;
use crate::project::workspace::Example;
use crate::runs::conditions::Condition;
use crate::runs::execute::Record;
use crate::runs::session::{Plan, Session};
use crate::sandbox::runner::{Ending, describe_status};

/// Runs per example when `--repeat` is not given: seven under each condition. Runs show only
/// the variation they happened to have: two lines whose order is a coin toss keep one order in
/// all 21 runs once in a million files.
const DEFAULT_RUNS: u32 = 21;

/// The conditions bless runs under, in turn.
const CYCLE: [Condition; 3] = [Condition::Plain, Condition::OneCpu, Condition::Busy];

/// Returns whether every named example was blessed.
pub fn bless(options: &Options, names: &[String]) -> Result<bool> {
    let session = Session::prepare(options, names)?;
    let repeat = options.repeat.unwrap_or(DEFAULT_RUNS);
    let all: Vec<usize> = (0..session.examples.len()).collect();
    let records = session.run(&plan(1, repeat), options, &all)?;
    let mut all_blessed = true;
    for (index, example) in session.examples.iter().enumerate() {
        let runs: Vec<&Record> = records.iter().filter(|r| r.example == index).collect();
        let result = if runs.is_empty() {
            Err(anyhow::anyhow!("no run to learn from"))
        } else {
            example.expected_status().and_then(|status| Outputs::collect(&runs, status)).and_then(
                |seen| {
                    let (stdout, stderr) = choose_both(example, &seen)?;
                    write(example, &stdout, &stderr, seen.runs())
                },
            )
        };
        match result {
            Ok(message) => say!("{}: {message}", example.name)?,
            Err(why) => {
                all_blessed = false;
                say!("{}: not blessed: {why:#}", example.name)?;
            }
        }
    }
    Ok(all_blessed)
}

/// `count` runs numbered from `first`, spread over [`CYCLE`].
fn plan(first: u32, count: u32) -> Plan {
    CYCLE
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let runs =
                (first..first + count).filter(|r| (*r as usize - 1) % CYCLE.len() == i).collect();
            (c, runs)
        })
        .filter(|(_, runs): &(Condition, Vec<u32>)| !runs.is_empty())
        .collect()
}

/// What the runs of one example printed.
#[derive(Default)]
struct Outputs {
    stdout: Vec<String>,
    stderr: Vec<String>,
}

impl Outputs {
    /// The runs' output, if every run passed (ended with `expected`, the recipe's status) and
    /// left nothing behind.
    fn collect(runs: &[&Record], expected: i32) -> Result<Outputs> {
        let mut outputs = Outputs::default();
        for record in runs {
            let o = &record.outcome;
            let status = match &o.ending {
                Ending::Exited(code) if *code == expected => None,
                Ending::Exited(code) => Some(format!("exited with {code}, not {expected}")),
                Ending::Signaled(signal) => Some(format!(
                    "was {}",
                    describe_status(std::os::unix::process::ExitStatusExt::from_raw(*signal))
                )),
                Ending::TimedOut { .. } => Some("timed out".to_string()),
                Ending::NotRun(why) => Some(format!("could not run: {why}")),
            };
            if let Some(status) = status {
                anyhow::bail!(
                    "run {} ({}) {status}; only a passing run can be blessed",
                    record.run,
                    record.condition
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
                        crate::sandbox::capture::size(crate::sandbox::capture::KEEP as u64)
                    );
                }
            }
            outputs.stdout.push(utf8(&o.stdout.bytes, "stdout", record.run)?);
            outputs.stderr.push(utf8(&o.stderr.bytes, "stderr", record.run)?);
        }
        Ok(outputs)
    }

    fn runs(&self) -> usize {
        self.stdout.len()
    }
}

fn utf8(bytes: &[u8], stream: &str, run: u32) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        anyhow::anyhow!(
            "run {run}: {stream} is not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// What bless does with one golden file.
#[derive(Clone)]
enum Choice {
    /// The existing file matches every run.
    Keep(Golden),
    /// A new text: how it was made, and the text.
    Write(&'static str, String, Golden),
    /// An optional stream printed nothing: no file (removing one that exists).
    NoFile,
}

impl Choice {
    /// Whether `outputs` fit this choice.
    fn fits(&self, outputs: &[String]) -> bool {
        match self {
            Choice::Keep(golden) | Choice::Write(_, _, golden) => outputs
                .iter()
                .all(|o| matches!(match_output(golden, &lines(o)), MatchOutcome::Match(_))),
            Choice::NoFile => outputs.iter().all(String::is_empty),
        }
    }
}

fn choose_both(example: &Example, seen: &Outputs) -> Result<(Choice, Choice)> {
    Ok((
        choose(&example.golden_stdout(), &seen.stdout, true)?,
        choose(&example.golden_stderr(), &seen.stderr, false)?,
    ))
}

/// The first golden file that matches every run: the existing one, the existing one with
/// changed lines written as printed, or one inferred from the runs.
fn choose(path: &Path, outputs: &[String], required: bool) -> Result<Choice> {
    if !required && outputs.iter().all(String::is_empty) {
        return Ok(Choice::NoFile);
    }
    let old = if path.exists() { Some(load_golden(path)?) } else { None };
    let runs: Vec<Vec<&str>> = outputs.iter().map(|o| lines(o)).collect();
    if let Some(old) = old.clone()
        && Choice::Keep(old.clone()).fits(outputs)
    {
        return Ok(Choice::Keep(old));
    }
    let mut tried = Vec::new();
    if let Some(old) = &old {
        tried.push(("kept its placeholders and blocks", Ok(merge(Some(old), &runs[0]))));
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
                why.push(format!("{how}: the text cannot be read back as a golden file ({e})"));
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
        return Ok(Choice::Write(how, text, golden));
    }
    anyhow::bail!(
        "{}: no golden file matches every run; mark lines whose order varies with blocks and \
         values that change with placeholders by hand, then bless again:\n{}",
        path.display(),
        why.join("\n")
    )
}

/// Carries out both choices and says what was done.
fn write(example: &Example, stdout: &Choice, stderr: &Choice, runs: usize) -> Result<String> {
    let mut said = Vec::new();
    for (path, choice) in [(example.golden_stdout(), stdout), (example.golden_stderr(), stderr)] {
        let name = path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
        said.push(match choice {
            Choice::Keep(_) => format!("{name} unchanged (it matches all {runs} runs)"),
            Choice::NoFile if path.exists() => {
                fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                format!("{name} removed (nothing printed)")
            }
            Choice::NoFile => format!("no {name} (nothing printed)"),
            Choice::Write(how, text, _) => {
                if let Some(folder) = path.parent() {
                    fs::create_dir_all(folder)
                        .with_context(|| format!("cannot create {}", folder.display()))?;
                }
                fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                format!(
                    "{name} written, {how} ({} lines; matches all {runs} runs)",
                    text.lines().count()
                )
            }
        });
    }
    Ok(said.join("; "))
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
    fn runs_are_spread_over_the_conditions_and_numbered_on() {
        let p = plan(4, 6);
        assert_eq!(
            p,
            vec![
                (Condition::Plain, vec![4, 7]),
                (Condition::OneCpu, vec![5, 8]),
                (Condition::Busy, vec![6, 9]),
            ]
        );
        assert_eq!(plan(1, 1), vec![(Condition::Plain, vec![1])]);
    }

    #[test]
    fn a_choice_fits_only_the_runs_it_matches() {
        let golden = Golden::parse("[unordered]\na\nb\n[/unordered]\n").unwrap();
        let keep = Choice::Keep(golden);
        assert!(keep.fits(&["a\nb\n".to_string(), "b\na\n".to_string()]));
        assert!(!keep.fits(&["a\nc\n".to_string()]));
        assert!(Choice::NoFile.fits(&[String::new()]));
        assert!(!Choice::NoFile.fits(&["oops\n".to_string()]));
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
