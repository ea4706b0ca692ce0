//! `cargo xtask verify`: run every example and compare it with its golden files.

use std::time::Duration;

use anyhow::Result;

use crate::cli::Options;
use crate::judge::check::{Expectation, judge};
use crate::judge::problem::{Problem, describe_leftover, seconds};
use crate::out::say;
use crate::runs::conditions::Condition;
use crate::runs::execute::Record;
use crate::runs::session::{Plan, Session};

/// Runs of each scheduling condition with `--stress` when `--repeat` is not given: a full
/// stress pass of all 27 recipes takes about 8 s on a two-CPU machine.
const DEFAULT_STRESS_REPEAT: u32 = 10;

/// Returns whether every example passed.
pub fn verify(options: &Options, names: &[String]) -> Result<bool> {
    let session = Session::prepare(options, names)?;
    session.workspace.check_golden_files()?;
    let examples = &session.examples;
    let expectations = examples
        .iter()
        .map(Expectation::load)
        .collect::<Result<Vec<_>>>()?;
    let repeat = options.repeat.unwrap_or(if options.stress {
        DEFAULT_STRESS_REPEAT
    } else {
        1
    });
    let runs = || (1..=repeat).collect::<Vec<u32>>();
    let mut plan: Plan = vec![(Condition::Plain, runs())];
    plan.extend(
        Condition::robustness(&session.isolation)
            .into_iter()
            .map(|c| (c, vec![1])),
    );
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
    let conditions: Vec<String> = plan
        .iter()
        .map(|(c, runs)| format!("{c} x{}", runs.len()))
        .collect();
    say!("runs: {}", conditions.join(", "))?;
    say!(
        "checks: stdout, stderr, exit status, every process started, TMPDIR, working directory, \
         IPC objects"
    )?;
    say!("isolation: {}", session.isolation.describe())?;
    say!()?;

    let records = session.run(&plan, options)?;
    let mut warnings = Vec::new();

    let mut failed_examples = Vec::new();
    let mut failure_reports = Vec::new();
    for (index, example) in examples.iter().enumerate() {
        let runs: Vec<&Record> = records.iter().filter(|r| r.example == index).collect();
        // The same failure in many runs is reported once, with the runs it happened in.
        let mut failures: Vec<(Condition, Vec<u32>, Vec<Problem>)> = Vec::new();
        for record in &runs {
            for suspect in &record.suspects {
                warnings.push(format!(
                    "warning: {} appeared while {} run {} went on and is still there; verify \
                     cannot tell which program made it, and left it alone",
                    describe_leftover(suspect),
                    example.name,
                    record.run
                ));
            }
            let found = judge(
                record.condition,
                &expectations[index],
                &record.outcome,
                options.timeout,
            );
            if found.is_empty() {
                continue;
            }
            match failures
                .iter_mut()
                .find(|(c, _, p)| *c == record.condition && *p == found)
            {
                Some((_, runs, _)) => runs.push(record.run),
                None => failures.push((record.condition, vec![record.run], found)),
            }
        }
        let times: Vec<Duration> = runs
            .iter()
            .filter(|r| r.condition == Condition::Plain)
            .map(|r| r.outcome.elapsed)
            .collect();
        let also = if plan.len() > 1 {
            format!(
                "; and {} more runs under other conditions",
                runs.len() - times.len()
            )
        } else {
            String::new()
        };
        let failed_runs: usize = failures.iter().map(|(_, r, _)| r.len()).sum();
        if failures.is_empty() {
            say!("recipe {} ... ok ({}{also})", example.name, timing(&times))?;
        } else {
            say!(
                "recipe {} ... FAILED ({} of {} run{} failed; {})",
                example.name,
                failed_runs,
                runs.len(),
                plural(runs.len()),
                timing(&times)
            )?;
            failed_examples.push(example.name.clone());
            for (condition, runs, found) in failures {
                let planned = plan
                    .iter()
                    .find(|(c, _)| *c == condition)
                    .map_or(1, |(_, runs)| runs.len() as u32);
                let heading = match condition {
                    Condition::Plain => example.name.clone(),
                    other => format!("{}, {other}", example.name),
                };
                let found: Vec<String> = found.iter().map(ToString::to_string).collect();
                failure_reports.push(format!(
                    "---- {heading} ({}) ----\n{}",
                    describe_runs(&runs, planned),
                    found.join("\n")
                ));
            }
        }
    }

    if !warnings.is_empty() {
        say!()?;
        for warning in &warnings {
            say!("{warning}")?;
        }
    }
    if !failure_reports.is_empty() {
        say!("\nfailures:\n")?;
        for report in &failure_reports {
            say!("{report}\n")?;
        }
        say!("failures:")?;
        for name in &failed_examples {
            say!("    {name}")?;
        }
    }
    say!()?;
    say!(
        "{} passed, {} failed",
        examples.len() - failed_examples.len(),
        failed_examples.len()
    )?;
    Ok(failed_examples.is_empty())
}

/// How many example crates `examples` (recipes) come from.
fn packages(examples: &[crate::project::workspace::Example]) -> usize {
    let mut names: Vec<&str> = examples.iter().map(|e| e.package.as_str()).collect();
    names.dedup();
    names.len()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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
