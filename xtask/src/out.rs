//! Printing xtask's own report. `say!` is `println!` that returns an error instead of
//! panicking: a closed stdout (`cargo xtask verify | head`) ends xtask quietly, like any Unix
//! tool, and a full one (`> /dev/full`) is an error with one line on stderr.

use std::fmt;
use std::io::{self, Write};

/// Writes one line to stdout; use it as `say!(...)?`.
macro_rules! say {
    () => {
        $crate::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// The reader of stdout has gone away: nothing more to say, and nobody to say it to.
#[derive(Debug)]
pub struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for StdoutClosed {}

pub fn line(args: fmt::Arguments) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing the report to stdout")),
    }
}

/// `n` and `noun`, in the plural unless `n` is 1: "1 problem", "3 problems".
pub fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", plural(n))
}

/// "s" unless `n` is 1.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
