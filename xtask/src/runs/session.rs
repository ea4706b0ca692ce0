//! The steps verify and bless share: find the examples, build them once, run them under a plan
//! of conditions, and collect one record per run.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::Options;
use crate::out::say;
use crate::project::python_env;
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
    /// The project's Python environment, where a recipe of `with_python` is selected.
    python_bin: Option<PathBuf>,
}

impl Session {
    /// Finds the examples named (all when none is), builds them and picks the isolation.
    pub fn prepare(options: &Options, names: &[String]) -> Result<Session> {
        let workspace = Workspace::discover()?;
        let examples = workspace.select(names)?;
        check_listed(&workspace)?;
        let binaries = build(&workspace.root, &examples)?;
        let python_bin = python_for(&workspace, &examples)?;
        Ok(Session {
            workspace,
            examples,
            binaries,
            isolation: options.isolation.resolve(),
            python_bin,
        })
    }

    /// Runs the examples `only` (indexes into [`Session::examples`]) as `plan` says, and
    /// returns the records in the order of example, condition and run. The runs of every
    /// condition share one pool of workers, so a slow condition does not hold up the others;
    /// only [`Condition::Busy`] runs on its own, after them, with its spinners.
    pub fn run(&self, plan: &Plan, options: &Options, only: &[usize]) -> Result<Vec<Record>> {
        let jobs_of = |busy: bool| -> Vec<Job> {
            plan.iter()
                .filter(|(condition, _)| (*condition == Condition::Busy) == busy)
                .flat_map(|(condition, runs)| {
                    runs.iter().flat_map(move |&run| {
                        only.iter()
                            .filter(|&&example| {
                                condition.applies_to(&self.examples[example].package)
                            })
                            .map(move |&example| {
                                let e = &self.examples[example];
                                Job {
                                    example,
                                    run,
                                    program: self.binaries[&e.package].clone(),
                                    args: vec![e.recipe.name.clone().into()],
                                    condition: *condition,
                                    path_first: self.python_bin.clone(),
                                }
                            })
                    })
                })
                .collect()
        };
        let mut records = Vec::new();
        for busy in [false, true] {
            let jobs = jobs_of(busy);
            if jobs.is_empty() {
                continue;
            }
            let _spinners = if busy {
                Some(
                    Spinners::start()
                        .context("cannot start the processes that keep the CPUs busy")?,
                )
            } else {
                None
            };
            records.extend(run_all(jobs, options.jobs, options.timeout, &self.isolation)?);
        }
        records.sort_by_key(|r| (r.example, r.condition, r.run));
        Ok(records)
    }
}

/// The project's Python environment, made if needed, when `examples` include a recipe whose
/// Python side needs it. Where it cannot be made, verify goes on without it, and says why:
/// those recipes then fail with their own one-line error, and nothing else changes.
pub fn python_for(workspace: &Workspace, examples: &[Example]) -> Result<Option<PathBuf>> {
    if !examples.iter().any(|e| e.package == PYTHON_EXAMPLE) {
        return Ok(None);
    }
    match python_env::ensure(&workspace.root, &workspace.target) {
        Ok(bin) => Ok(bin),
        Err(e) => {
            say!("python: cannot make the project's Python environment: {e:#}")?;
            Ok(None)
        }
    }
}

/// The example whose recipes have a Python side.
const PYTHON_EXAMPLE: &str = "with_python";
