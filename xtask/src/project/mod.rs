//! The workspace as the tooling sees it: its example crates, their recipes and the headers
//! that say how to copy each one, and building them.

pub mod locked;
pub mod python_env;
pub mod recipe;
pub mod syntax;
pub mod workspace;
