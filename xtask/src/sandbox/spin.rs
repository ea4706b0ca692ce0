//! Keeping every CPU busy while examples run (`verify --stress`): one spinning process per CPU,
//! started by verify and stopped when the [`Spinners`] are dropped. Each is this same binary,
//! run as `xtask __spin`, and dies with verify (`PR_SET_PDEATHSIG`), Ctrl-C included.

use std::io;
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::sandbox::interrupt;

/// The hidden command line word that makes this binary spin.
pub const SPIN_COMMAND: &str = "__spin";

pub struct Spinners {
    children: Vec<Child>,
}

impl Spinners {
    /// One spinner per CPU this process may use.
    pub fn start() -> io::Result<Spinners> {
        let count = std::thread::available_parallelism().map_or(1, |n| n.get());
        let exe = std::env::current_exe()?;
        let mut spinners = Spinners { children: Vec::new() };
        for _ in 0..count {
            let mut registry = interrupt::registry();
            if let Some(signal) = registry.interrupted() {
                return Err(io::Error::other(format!("stopped by {}", signal.as_str())));
            }
            let child = interrupt::unblocked(&mut Command::new(&exe))
                .arg(SPIN_COMMAND)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            registry.add_helper(Pid::from_raw(child.id() as i32));
            spinners.children.push(child);
        }
        Ok(spinners)
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        for child in &mut self.children {
            let pid = Pid::from_raw(child.id() as i32);
            let _ = kill(pid, Signal::SIGKILL);
            let _ = child.wait();
            interrupt::registry().remove_helper(pid);
        }
    }
}

/// The spinner's side: burn CPU until killed, or until verify dies. Never returns.
pub fn spin_main() -> ! {
    // If verify dies without stopping us, we stop too.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    loop {
        std::hint::spin_loop();
    }
}
