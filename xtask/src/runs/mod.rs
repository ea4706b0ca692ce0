//! Many runs at once: the conditions a recipe is run under, a pool of workers that runs them,
//! and the session verify and bless share (find, build, run by plan).

pub mod conditions;
pub mod execute;
pub mod progress;
pub mod session;
