//! Command-line parsing for `cargo xtask`.

use std::ffi::OsString;
use std::time::Duration;

use lexopt::ValueExt;

use crate::sandbox::launcher::Isolation;

pub const USAGE: &str = "\
usage: cargo xtask <command> [options] [NAME...]

NAME is an example (ipc_shm: all its recipes) or one recipe (ipc_shm/semaphore).

commands:
  verify   run the examples (all, or those named) and compare them with their golden files
  bless    write the examples' current output as their golden files
  tidy     check what rustfmt does not: helper files are identical wherever they are copied,
           recipes are short enough, and comment lines fit in 100 columns
  copies   copy each recipe into a fresh crate as its Copy:/Needs: lines say, build it with
           warnings denied, run it and compare it with its golden files
  run      run one program as verify runs an example, and report what it left behind:
           cargo xtask run [--timeout SECS] [--isolation MODE] -- PROGRAM [ARGS...]
  bench    build ipc_bench in release mode and run it: IPC latency and throughput
           (its options: --quick, --out DIR; see `cargo xtask bench --help`)
  book     build the book into target/book (mdBook, installed into target/tools) and check
           it: includes, links and anchors, a page per recipe, and the pages in headless
           Chromium (screenshots in target/book-check); --no-browser skips Chromium

options:
  --timeout SECS     time limit for one run of an example (default 5)
  --repeat N         runs of each example (default: 1 for verify, 21 for bless)
  --jobs N           runs at the same time (default: the number of CPUs)
  --stress           verify: also run each example pinned to one CPU and with every CPU
                     busy, --repeat times each (default 10), to find output that passes
                     only by luck of the scheduler
  --isolation MODE   auto (default): each run in its own IPC and mount namespaces where the
                     kernel allows it; none: runs share this machine's IPC objects
  -h, --help         this text";

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub timeout: Duration,
    /// `None`: the command's own default.
    pub repeat: Option<u32>,
    pub jobs: usize,
    pub isolation: IsolationChoice,
    /// verify: also run under the conditions that change the scheduling.
    pub stress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationChoice {
    Auto,
    None,
}

impl IsolationChoice {
    pub fn resolve(self) -> Isolation {
        match self {
            IsolationChoice::Auto => Isolation::detect(),
            IsolationChoice::None => Isolation::Shared { why: "--isolation none".to_string() },
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum Command {
    Verify(Options, Vec<String>),
    Bless(Options, Vec<String>),
    /// A program and its arguments, run once.
    Run(Options, Vec<OsString>),
    Tidy,
    /// Build and run each recipe as a fresh crate made from its `Copy:`/`Needs:` lines.
    Copies(Options, Vec<String>),
    /// The arguments are ipc_bench's own, passed on unchanged.
    Bench(Vec<OsString>),
    /// Build and check the book; `true`: in Chromium too.
    Book {
        browser: bool,
    },
    Help,
}

/// Parses the arguments after the program name. Errors are one line, without the usage.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_args(args);
    let command = match parser.next().map_err(message)? {
        None => return Ok(Command::Help),
        Some(Short('h') | Long("help")) => return Ok(Command::Help),
        Some(Value(command)) => command.string().map_err(message)?,
        Some(other) => return Err(unexpected(other)),
    };
    match command.as_str() {
        "help" => return Ok(Command::Help),
        // bench's arguments are ipc_bench's own: passed on unchanged, defaults included.
        "bench" => {
            return Ok(Command::Bench(parser.raw_args().map_err(message)?.collect()));
        }
        "tidy" => {
            return match parser.next().map_err(message)? {
                None => Ok(Command::Tidy),
                Some(Short('h') | Long("help")) => Ok(Command::Help),
                Some(other) => Err(format!("`tidy` takes no arguments, got {}", shown(other))),
            };
        }
        "book" => {
            let mut browser = true;
            while let Some(arg) = parser.next().map_err(message)? {
                match arg {
                    Long("no-browser") => browser = false,
                    Short('h') | Long("help") => return Ok(Command::Help),
                    other => {
                        return Err(format!("`book` takes --no-browser, got {}", shown(other)));
                    }
                }
            }
            return Ok(Command::Book { browser });
        }
        "verify" | "bless" | "run" | "copies" => {}
        other => return Err(format!("unknown command `{other}`")),
    }
    let mut options = Options {
        timeout: Duration::from_secs(5),
        repeat: None,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        isolation: IsolationChoice::Auto,
        stress: false,
    };
    let mut names = Vec::new();
    while let Some(arg) = parser.next().map_err(message)? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Long("timeout") => options.timeout = parse_timeout(&value(&mut parser)?)?,
            Long("repeat") => options.repeat = Some(parse_count("--repeat", &value(&mut parser)?)?),
            Long("jobs") => options.jobs = parse_count("--jobs", &value(&mut parser)?)? as usize,
            Long("stress") if command == "verify" => options.stress = true,
            Long("isolation") => {
                options.isolation = match value(&mut parser)?.as_str() {
                    "auto" => IsolationChoice::Auto,
                    "none" => IsolationChoice::None,
                    other => {
                        return Err(format!(
                            "bad --isolation `{other}`: expected `auto` or `none`"
                        ));
                    }
                }
            }
            Value(program) if command == "run" => {
                // Everything after the program is its own, options included.
                let mut program = vec![program];
                program.extend(parser.raw_args().map_err(message)?);
                return Ok(Command::Run(options, program));
            }
            Value(name) => names.push(name.string().map_err(message)?),
            other => return Err(unexpected(other)),
        }
    }
    Ok(match command.as_str() {
        "verify" => Command::Verify(options, names),
        "bless" => Command::Bless(options, names),
        "copies" => Command::Copies(options, names),
        _ => return Err("`run` needs a program: `cargo xtask run -- PROGRAM [ARGS...]`".into()),
    })
}

fn value(parser: &mut lexopt::Parser) -> Result<String, String> {
    parser.value().map_err(message)?.string().map_err(message)
}

fn message(error: lexopt::Error) -> String {
    match error {
        lexopt::Error::MissingValue { option: Some(option) } => format!("`{option}` needs a value"),
        other => other.to_string(),
    }
}

fn unexpected(arg: lexopt::Arg) -> String {
    format!("unknown option {}", shown(arg))
}

fn shown(arg: lexopt::Arg) -> String {
    match arg {
        lexopt::Arg::Short(c) => format!("`-{c}`"),
        lexopt::Arg::Long(name) => format!("`--{name}`"),
        lexopt::Arg::Value(value) => format!("`{}`", value.to_string_lossy()),
    }
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    let bad = || format!("bad --timeout `{value}`: expected seconds, more than 0 and at most 3600");
    let secs: f64 = value.parse().map_err(|_| bad())?;
    if !(secs > 0.0 && secs <= 3600.0) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_count(flag: &str, value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("bad {flag} `{value}`: expected a whole number from 1 to 100000")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn verify_with_options_and_names() {
        let Command::Verify(options, names) =
            parse_str(&["verify", "--timeout", "1.5", "--repeat=50", "--jobs", "2", "ipc_pipe"])
                .unwrap()
        else {
            panic!("not verify");
        };
        assert_eq!(options.timeout, Duration::from_millis(1500));
        assert_eq!(options.repeat, Some(50));
        assert_eq!(options.jobs, 2);
        assert_eq!(names, vec!["ipc_pipe"]);
    }

    #[test]
    fn bad_input_is_one_clear_line() {
        assert_eq!(parse_str(&[]).unwrap(), Command::Help, "a bare `cargo xtask` helps");
        assert_eq!(parse_str(&["frobnicate"]).unwrap_err(), "unknown command `frobnicate`");
        assert_eq!(parse_str(&["verify", "--fast"]).unwrap_err(), "unknown option `--fast`");
        assert_eq!(parse_str(&["verify", "--timeout"]).unwrap_err(), "`--timeout` needs a value");
        assert!(
            parse_str(&["verify", "--timeout", "0"]).unwrap_err().starts_with("bad --timeout `0`")
        );
        assert!(parse_str(&["verify", "--timeout", "nan"]).is_err());
        assert!(
            parse_str(&["verify", "--repeat", "-3"]).unwrap_err().starts_with("bad --repeat `-3`")
        );
        assert!(parse_str(&["bless", "--jobs=0"]).unwrap_err().starts_with("bad --jobs `0`"));
    }

    #[test]
    fn bench_passes_its_arguments_on() {
        assert_eq!(
            parse_str(&["bench", "--quick", "--out", "x"]).unwrap(),
            Command::Bench(vec!["--quick".into(), "--out".into(), "x".into()])
        );
        assert_eq!(parse_str(&["bench"]).unwrap(), Command::Bench(vec![]));
    }

    #[test]
    fn run_takes_a_program_after_dashes() {
        let Command::Run(options, program) =
            parse_str(&["run", "--isolation", "none", "--", "sh", "-c", "--x"]).unwrap()
        else {
            panic!("not run");
        };
        assert_eq!(options.isolation, IsolationChoice::None);
        assert_eq!(program, vec!["sh", "-c", "--x"]);
        assert!(parse_str(&["run", "--"]).is_err());
        let Command::Run(_, program) = parse_str(&["run", "sh", "-c", "x"]).unwrap() else {
            panic!("not run");
        };
        assert_eq!(program, vec!["sh", "-c", "x"]);
        assert!(
            parse_str(&["verify", "--isolation", "full"])
                .unwrap_err()
                .starts_with("bad --isolation")
        );
    }

    #[test]
    fn help() {
        assert_eq!(parse_str(&["--help"]).unwrap(), Command::Help);
        assert_eq!(parse_str(&["verify", "-h"]).unwrap(), Command::Help);
    }
}
