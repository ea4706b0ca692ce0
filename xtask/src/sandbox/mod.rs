//! Running one program the way verify runs a recipe: in its own namespaces or process group,
//! with its output captured within bounds, killed at the timeout, and everything it left
//! behind found (processes, files, IPC objects). Ctrl-C ends every run and removes its folders.
//!
//! Layers, each using only those above it: `procs`, `capture`, `report`, `leftovers`;
//! `interrupt`; `launcher`, `spin`; `runner`.

pub mod capture;
pub mod interrupt;
pub mod launcher;
pub mod leftovers;
pub mod procs;
pub mod report;
pub mod runner;
pub mod spin;
