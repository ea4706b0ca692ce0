//! The golden-file format: parsing it, matching a run's output against it, inferring it from
//! runs (bless), and showing a mismatch. Pure text in, text out: nothing here runs a program.

pub mod format;
pub mod infer;
pub mod matcher;
pub mod view;

#[cfg(test)]
mod properties;
