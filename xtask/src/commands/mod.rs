//! One module per `cargo xtask` command.

pub mod bench;
pub mod bless;
pub mod book;
pub mod copies;
pub mod single;
pub mod tidy;
pub mod verify;
