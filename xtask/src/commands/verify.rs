//! `cargo xtask verify`: run every example and compare it with its golden files.

use std::time::Duration;

use anyhow::Result;

use crate::cli::Options;
use crate::judge::check::{Expectation, judge};
use crate::judge::problem::{Problem, describe_leftover, seconds};
use crate::out::{plural, say};
use crate::runs::conditions::{Condition, every_descriptor_limit};
use crate::runs::execute::Record;
use crate::runs::session::{Plan, Session};

/// Runs of each scheduling condition with `--stress` when `--repeat` is not given: a full
/// stress pass of all 32 recipes took 18 s on a two-CPU machine (2026-12-06).
const DEFAULT_STRESS_REPEAT: u32 = 10;

/// Returns whether every example passed.
pub fn verify(options: &Options, names: &[String]) -> Result<bool> {
    let session = Session::prepare(options, names)?;
    session.workspace.check_golden_files()?;
    let examples = &session.examples;
    let expectations = examples.iter().map(Expectation::load).collect::<Result<Vec<_>>>()?;
    let repeat = options.repeat.unwrap_or(if options.stress { DEFAULT_STRESS_REPEAT } else { 1 });
    let runs = || (1..=repeat).collect::<Vec<u32>>();
    let mut plan: Plan = vec![(Condition::Plain, runs())];
    plan.extend(Condition::robustness(&session.isolation).into_iter().map(|c| match c {
        Condition::FewDescriptors if options.stress => (c, every_descriptor_limit()),
        _ => (c, vec![1]),
    }));
    // Only the recipes made to survive a signal get these (`Condition::applies_to`).
    let signal_runs = if options.stress { runs() } else { vec![1] };
    plan.extend(Condition::signals().into_iter().map(|c| (c, signal_runs.clone())));
    if options.stress {
        plan.extend(Condition::stress().into_iter().map(|c| (c, runs())));
    }

    say!(
        "verify: {} recipe{} of {} example{}, timeout {}, {} at a time",
        examples.len(),
        plural(examples.len()),
        packages(examples),
        plural(packages(examples)),
        seconds(options.timeout),
        options.jobs
    )?;
    let conditions: Vec<String> =
        plan.iter().map(|(c, runs)| format!("{c} x{}", runs.len())).collect();
    say!("runs: {}", conditions.join(", "))?;
    say!(
        "checks: stdout, stderr, exit status, every process started, TMPDIR, working directory, \
         IPC objects"
    )?;
    say!("isolation: {}", session.isolation.describe())?;
    say!(
        "order: the first plain run of every recipe; then the other runs in one pool, those \
         with every CPU busy last; a recipe that fails its first run is reported at once and \
         not run again"
    )?;
    say!()?;

    let judged = |records: &[Record], index: usize, skipped: bool| {
        judge_recipe(
            &examples[index].name,
            &expectations[index],
            records,
            index,
            &plan,
            options.timeout,
            skipped,
        )
    };
    let all: Vec<usize> = (0..examples.len()).collect();
    let first_plan: Plan = vec![(Condition::Plain, vec![1])];
    let mut records = session.run(&first_plan, options, &all)?;
    let mut verdicts: Vec<Option<Verdict>> = vec![None; examples.len()];
    // A recipe that fails its first run (a hang, a panic, a wrong line) is reported now: the
    // other conditions would each wait for the same failure, up to the timeout.
    for &index in &all {
        let verdict = judged(&records, index, true);
        if !verdict.passed() {
            say!("{}", verdict.line)?;
            verdicts[index] = Some(verdict);
        }
    }
    let rest: Vec<usize> = all.iter().copied().filter(|&index| verdicts[index].is_none()).collect();
    let rest_plan: Plan = plan
        .iter()
        .map(|(condition, runs)| {
            let runs = runs
                .iter()
                .copied()
                .filter(|&run| !(*condition == Condition::Plain && run == 1))
                .collect();
            (*condition, runs)
        })
        .collect();
    records.extend(session.run(&rest_plan, options, &rest)?);
    for &index in &rest {
        let verdict = judged(&records, index, false);
        say!("{}", verdict.line)?;
        verdicts[index] = Some(verdict);
    }

    let verdicts: Vec<Verdict> = verdicts
        .into_iter()
        .map(|v| v.expect("every recipe was judged after its first run or after the rest"))
        .collect();
    let warnings: Vec<&String> = verdicts.iter().flat_map(|v| &v.warnings).collect();
    if !warnings.is_empty() {
        say!()?;
        for warning in &warnings {
            say!("{warning}")?;
        }
    }
    let failed: Vec<&Verdict> = verdicts.iter().filter(|v| !v.passed()).collect();
    if !failed.is_empty() {
        say!("\nfailures:\n")?;
        for report in failed.iter().flat_map(|v| &v.failures) {
            say!("{report}\n")?;
        }
        say!("failures:")?;
        for verdict in &failed {
            say!("    {}", verdict.name)?;
        }
    }
    say!()?;
    let signalled: Vec<&Record> =
        records.iter().filter(|r| r.condition.signal().is_some()).collect();
    if !signalled.is_empty() {
        let poked = signalled.iter().filter(|r| r.outcome.poked).count();
        say!(
            "signals: {poked} of {} runs got theirs while the program still ran",
            signalled.len()
        )?;
    }
    say!("{} passed, {} failed", examples.len() - failed.len(), failed.len())?;
    Ok(failed.is_empty())
}

/// What verify found for one recipe: the line that says it, and what to show at the end.
#[derive(Clone)]
struct Verdict {
    name: String,
    line: String,
    /// One report per distinct failure, with the runs it happened in.
    failures: Vec<String>,
    warnings: Vec<String>,
}

impl Verdict {
    fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Judges every run of the recipe `index` in `records`. `first_only` says that only its first
/// plain run has been made; if that one failed, the line says the other runs were skipped.
fn judge_recipe(
    name: &str,
    expectation: &Expectation,
    records: &[Record],
    index: usize,
    plan: &Plan,
    timeout: Duration,
    first_only: bool,
) -> Verdict {
    let runs: Vec<&Record> = records.iter().filter(|r| r.example == index).collect();
    let mut warnings = Vec::new();
    // The same failure in many runs is reported once, with the runs it happened in.
    let mut failures: Vec<(Condition, Vec<u32>, Vec<Problem>)> = Vec::new();
    for record in &runs {
        for suspect in &record.suspects {
            warnings.push(format!(
                "warning: {} appeared while {name} run {} went on and is still there; verify \
                 cannot tell which program made it, and left it alone",
                describe_leftover(suspect),
                record.run
            ));
        }
        let found = judge(record.condition, expectation, &record.outcome, timeout);
        if found.is_empty() {
            continue;
        }
        match failures.iter_mut().find(|(c, _, p)| *c == record.condition && *p == found) {
            Some((_, runs, _)) => runs.push(record.run),
            None => failures.push((record.condition, vec![record.run], found)),
        }
    }
    let times: Vec<Duration> = runs
        .iter()
        .filter(|r| r.condition == Condition::Plain)
        .map(|r| r.outcome.elapsed)
        .collect();
    let planned_runs: usize = plan.iter().map(|(_, runs)| runs.len()).sum();
    let line = if failures.is_empty() {
        let also = if plan.len() > 1 {
            format!("; and {} more runs under other conditions", runs.len() - times.len())
        } else {
            String::new()
        };
        format!("recipe {name} ... ok ({}{also})", timing(&times))
    } else if first_only && planned_runs > 1 {
        format!(
            "recipe {name} ... FAILED (its first run failed, {}; the other {} runs were not made)",
            timing(&times),
            planned_runs - 1
        )
    } else {
        let failed_runs: usize = failures.iter().map(|(_, r, _)| r.len()).sum();
        format!(
            "recipe {name} ... FAILED ({failed_runs} of {} run{} failed; {})",
            runs.len(),
            plural(runs.len()),
            timing(&times)
        )
    };
    let failures = failures
        .into_iter()
        .map(|(condition, runs, found)| {
            let planned =
                plan.iter().find(|(c, _)| *c == condition).map_or(1, |(_, runs)| runs.len() as u32);
            let heading = match condition {
                Condition::Plain => name.to_string(),
                other => format!("{name}, {other}"),
            };
            let found: Vec<String> = found.iter().map(ToString::to_string).collect();
            format!("---- {heading} ({}) ----\n{}", describe_runs(&runs, planned), found.join("\n"))
        })
        .collect();
    Verdict { name: name.to_string(), line, failures, warnings }
}

/// How many example crates `examples` (recipes) come from.
fn packages(examples: &[crate::project::workspace::Example]) -> usize {
    let mut names: Vec<&str> = examples.iter().map(|e| e.package.as_str()).collect();
    names.dedup();
    names.len()
}

fn describe_runs(runs: &[u32], repeat: u32) -> String {
    if repeat == 1 {
        return "the only run".to_string();
    }
    let list: Vec<String> = runs.iter().map(u32::to_string).collect();
    format!("run{} {} of {repeat}", plural(runs.len()), list.join(", "))
}

fn timing(times: &[Duration]) -> String {
    let mut sorted = times.to_vec();
    sorted.sort();
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    match sorted.as_slice() {
        [] => "no runs".to_string(),
        [only] => ms(*only),
        _ => format!(
            "median {}, slowest {}",
            ms(sorted[sorted.len() / 2]),
            ms(sorted[sorted.len() - 1])
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_described_for_humans() {
        assert_eq!(describe_runs(&[1], 1), "the only run");
        assert_eq!(describe_runs(&[3], 50), "run 3 of 50");
        assert_eq!(describe_runs(&[3, 9], 50), "runs 3, 9 of 50");
    }

    #[test]
    fn timing_shows_median_and_slowest() {
        let ms = Duration::from_millis;
        assert_eq!(timing(&[ms(4)]), "4 ms");
        assert_eq!(timing(&[ms(9), ms(4), ms(5)]), "median 5 ms, slowest 9 ms");
    }
}
