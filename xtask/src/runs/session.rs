//! The steps verify and bless share: find the examples, build them once, run them under a plan
//! of conditions, and collect one record per run.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::Options;
use crate::project::workspace::{Example, Workspace, build, check_listed};
use crate::runs::conditions::Condition;
use crate::runs::execute::{Job, Record, run_all};
use crate::sandbox::launcher::Isolation;
use crate::sandbox::spin::Spinners;

/// Which runs to make: each condition with the run numbers it gets.
pub type Plan = Vec<(Condition, Vec<u32>)>;

pub struct Session {
    pub workspace: Workspace,
    pub examples: Vec<Example>,
    binaries: HashMap<String, PathBuf>,
    pub isolation: Isolation,
}

impl Session {
    /// Finds the examples named (all when none is), builds them and picks the isolation.
    pub fn prepare(options: &Options, names: &[String]) -> Result<Session> {
        let workspace = Workspace::discover()?;
        let examples = workspace.select(names)?;
        let binaries = build(&workspace.root, &examples)?;
        check_listed(&workspace, &binaries)?;
        Ok(Session {
            workspace,
            examples,
            binaries,
            isolation: options.isolation.resolve(),
        })
    }

    /// Runs every example as `plan` says, one condition after the other (the spinners of
    /// [`Condition::Busy`] run only during its runs), and returns the records in the order of
    /// example, condition and run.
    pub fn run(&self, plan: &Plan, options: &Options) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        for (condition, runs) in plan {
            let jobs: Vec<Job> = runs
                .iter()
                .flat_map(|&run| {
                    self.examples
                        .iter()
                        .enumerate()
                        .map(move |(example, e)| Job {
                            example,
                            run,
                            program: self.binaries[&e.package].clone(),
                            args: vec![e.recipe.name.clone().into()],
                            condition: *condition,
                        })
                })
                .collect();
            let _spinners = match condition {
                Condition::Busy => Some(
                    Spinners::start()
                        .context("cannot start the processes that keep the CPUs busy")?,
                ),
                _ => None,
            };
            records.extend(run_all(
                jobs,
                options.jobs,
                options.timeout,
                &self.isolation,
            )?);
        }
        records.sort_by_key(|r| (r.example, r.condition, r.run));
        Ok(records)
    }
}
