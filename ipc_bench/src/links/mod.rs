//! The links a measurement runs over, one module per mechanism, each implementing
//! [`link::End`]; `mechanism` lists them and dispatches to them, `watch` wakes a blocked wait
//! when the peer dies, and `threads` holds the thread-to-thread links of the workers part.

pub mod link;
pub mod mechanism;
pub mod mqueue;
pub mod pipe;
pub mod shm;
pub mod shm_sem;
pub mod shm_spin;
pub mod socketpair;
pub mod threads;
pub mod unix_path;
pub mod watch;
