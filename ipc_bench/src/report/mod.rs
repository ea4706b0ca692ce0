//! What the bench prints and writes: the IPC part's tables and checks (`ipc`), the workers
//! part's (`workers`), and the SVG charts (`chart`).

pub mod chart;
pub mod ipc;
pub mod workers;
