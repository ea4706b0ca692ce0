//! Judging a run: what a recipe's golden file and a condition expect, and the problems found,
//! described for a person.

pub mod check;
pub mod problem;
