//! `cargo xtask run -- PROGRAM [ARGS...]`: one program, run exactly as verify runs an example,
//! with a report of how it ended and what it left behind. For trying the harness on a program
//! of your own, and for the harness's own tests.

use std::ffi::OsString;

use anyhow::{Context, Result};

use crate::cli::Options;
use crate::judge::problem::describe_leftover;
use crate::out::say;
use crate::runs::conditions::Condition;
use crate::runs::execute::{Job, run_all};
use crate::sandbox::capture::{Captured, size};
use crate::sandbox::runner::Ending;

/// Returns whether the program exited with 0 and left nothing behind.
pub fn run_program(options: &Options, program: &[OsString]) -> Result<bool> {
    let (program, args) = program.split_first().context("no program given")?;
    let isolation = options.isolation.resolve();
    say!("isolation: {}", isolation.describe())?;
    let job = Job {
        example: 0,
        run: 1,
        program: program.into(),
        args: args.to_vec(),
        condition: Condition::Plain,
        path_first: None,
    };
    let record = run_all(vec![job], 1, options.timeout, &isolation)?
        .pop()
        .context("one job gives one record")?;
    let outcome = record.outcome;
    let ending = match &outcome.ending {
        Ending::Exited(code) => format!("exited with {code}"),
        Ending::Signaled(signal) => {
            format!("killed by {}", crate::sandbox::procs::signal_name(*signal))
        }
        Ending::TimedOut { main_exited: None } => "timed out".to_string(),
        Ending::TimedOut { main_exited: Some(how) } => {
            format!("timed out (the main process had {how})")
        }
        Ending::NotRun(why) => format!("not run: {why}"),
    };
    say!("ending: {ending}")?;
    say!("time: {:.0} ms", outcome.elapsed.as_secs_f64() * 1000.0)?;
    say!("stdout: {}", amount(&outcome.stdout))?;
    say!("stderr: {}", amount(&outcome.stderr))?;
    if outcome.output_abandoned {
        say!("output: still open after the kill; verify stopped reading")?;
    }
    for (name, captured) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        if !captured.bytes.is_empty() {
            say!("--- {name} ---")?;
            let text = crate::golden::view::head(
                &String::from_utf8_lossy(&captured.bytes),
                crate::golden::view::MAX_REPORT_LINES,
            );
            say!("{}", text.trim_end_matches('\n'))?;
        }
    }
    for leftover in &outcome.leftovers {
        say!("left behind: {}", describe_leftover(leftover))?;
    }
    for suspect in &record.suspects {
        say!(
            "warning: {} appeared while it ran and is still there (not removed: without \
             namespaces, verify cannot tell who made it)",
            describe_leftover(suspect)
        )?;
    }
    Ok(outcome.ending == Ending::Exited(0) && outcome.leftovers.is_empty())
}

fn amount(captured: &Captured) -> String {
    if captured.dropped == 0 {
        size(captured.bytes.len() as u64)
    } else {
        format!(
            "{} (kept the first {}, dropped the rest)",
            size(captured.bytes.len() as u64 + captured.dropped),
            size(captured.bytes.len() as u64)
        )
    }
}
