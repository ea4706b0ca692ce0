//! `cargo xtask verify`: run every example and compare it with its golden files.

use std::time::Duration;

use anyhow::Result;

use crate::check::{Expectation, describe_leftover, problems, seconds};
use crate::cli::Options;
use crate::execute::{Job, Record, run_all};
use crate::workspace::{Workspace, build};

/// Returns whether every example passed.
pub fn verify(options: &Options, names: &[String]) -> Result<bool> {
    let workspace = Workspace::discover()?;
    workspace.check_golden_files()?;
    let examples = workspace.select(names)?;
    let expectations = examples
        .iter()
        .map(Expectation::load)
        .collect::<Result<Vec<_>>>()?;
    let binaries = build(&workspace.root, &examples)?;
    let isolation = options.isolation.resolve();
    let repeat = options.repeat.unwrap_or(1);

    println!(
        "verify: {} example{}, {} run{} each, timeout {}, {} at a time",
        examples.len(),
        plural(examples.len()),
        repeat,
        plural(repeat as usize),
        seconds(options.timeout),
        options.jobs
    );
    println!(
        "checks: stdout, stderr, exit status, every process started, TMPDIR, working directory, \
         IPC objects"
    );
    println!("isolation: {}", isolation.describe());
    println!();

    let jobs = (0..repeat)
        .flat_map(|run| examples.iter().enumerate().map(move |(i, e)| (i, run, e)))
        .map(|(example, run, e)| Job {
            example,
            run: run + 1,
            program: binaries[&e.name].clone(),
            args: Vec::new(),
        })
        .collect();
    let records = run_all(jobs, options.jobs, options.timeout, &isolation)?;
    let mut warnings = Vec::new();

    let mut failed_examples = Vec::new();
    let mut failure_reports = Vec::new();
    for (index, example) in examples.iter().enumerate() {
        let runs: Vec<&Record> = records.iter().filter(|r| r.example == index).collect();
        let mut failures: Vec<(Vec<u32>, Vec<String>)> = Vec::new();
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
            let found = problems(&expectations[index], &record.outcome, options.timeout);
            if found.is_empty() {
                continue;
            }
            // The same failure in many runs is reported once, with the runs it happened in.
            match failures.iter_mut().find(|(_, p)| *p == found) {
                Some((runs, _)) => runs.push(record.run),
                None => failures.push((vec![record.run], found)),
            }
        }
        let times: Vec<Duration> = runs.iter().map(|r| r.outcome.elapsed).collect();
        let failed_runs: usize = failures.iter().map(|(r, _)| r.len()).sum();
        if failures.is_empty() {
            println!("example {} ... ok ({})", example.name, timing(&times));
        } else {
            println!(
                "example {} ... FAILED ({} of {} run{} failed; {})",
                example.name,
                failed_runs,
                runs.len(),
                plural(runs.len()),
                timing(&times)
            );
            failed_examples.push(example.name.clone());
            for (runs, found) in failures {
                failure_reports.push(format!(
                    "---- {} ({}) ----\n{}",
                    example.name,
                    describe_runs(&runs, repeat),
                    found.join("\n")
                ));
            }
        }
    }

    if !warnings.is_empty() {
        println!();
        for warning in &warnings {
            println!("{warning}");
        }
    }
    if !failure_reports.is_empty() {
        println!("\nfailures:\n");
        for report in &failure_reports {
            println!("{report}\n");
        }
        println!("failures:");
        for name in &failed_examples {
            println!("    {name}");
        }
    }
    println!();
    println!(
        "{} passed, {} failed",
        examples.len() - failed_examples.len(),
        failed_examples.len()
    );
    Ok(failed_examples.is_empty())
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
