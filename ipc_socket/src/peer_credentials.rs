//! Who is on the other end of a Unix socket: SO_PEERCRED. A server listens on a path in a
//! folder of its own (mode 0700); a client (this program again) connects. The kernel recorded
//! the client's PID, UID and GID when it connected, and the server reads them from the
//! connection. It decides by UID: the same user as the server is served, any other refused.
//! Never by PID: it is the PID at connect time, and once that process ends, the number may be
//! given to another. This is what Python's `multiprocessing.connection` does with `authkey`,
//! without a shared secret: the kernel vouches for the user. std lacks peer credentials
//! (`UnixStream::peer_cred` is unstable, rust-lang/rust#42839); nix reads them.
//! Python: `sock.getsockopt(SOL_SOCKET, SO_PEERCRED, struct.calcsize("3i"))`,
//! `Listener(address, authkey=...)`. Man pages: unix(7), socket(7).
//! Run: `cargo run -p ipc_socket -- peer_credentials`
//! Copy: peer_credentials.rs errors.rs
//! Needs: anyhow@1, nix@0.31 (features socket, user), tempfile@3

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, ensure};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::{getgid, getuid};

mod errors;
use errors::say;

/// Set in the client's environment: the server's path.
const CLIENT: &str = "PEER_CREDENTIALS_CLIENT";

pub fn main() -> std::process::ExitCode {
    match std::env::var_os(CLIENT) {
        Some(path) => errors::exit(client(&path)),
        None => errors::exit(run()),
    }
}

fn run() -> Result<()> {
    let folder = tempfile::tempdir().context("making a private folder")?; // mode 0700
    let path = folder.path().join("server.sock");
    let listener = UnixListener::bind(&path).context("binding server.sock")?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut command = Command::new(&exe);
    command.args(std::env::args_os().skip(1)).env(CLIENT, &path).stderr(Stdio::piped());
    let client = command.spawn().context("starting the client")?;
    let (mut connection, _) = listener.accept().context("accept")?;
    let peer = getsockopt(&connection, PeerCredentials).context("SO_PEERCRED")?;
    ensure!(peer.pid() == client.id() as i32, "SO_PEERCRED names PID {}", peer.pid());
    say!("server: the client's PID is {}, the one it had when it connected", peer.pid())?;
    let same_user = peer.uid() == getuid().as_raw() && peer.gid() == getgid().as_raw();
    say!("server: its UID and GID are the server's own: {same_user}; decided by the UID")?;
    let answer = if peer.uid() == getuid().as_raw() { "welcome" } else { "refused" };
    writeln!(connection, "{answer}").context("answering")?;
    drop(connection);
    let output = client.wait_with_output().context("waiting for the client")?;
    let (status, why) = (output.status, String::from_utf8_lossy(&output.stderr));
    ensure!(status.success(), "the client ended: {status}: {}", why.trim());
    std::fs::remove_file(&path).context("removing server.sock")?;
    Ok(say!("server: the client ended ({status}); removed server.sock")?)
}

/// The client: connects by the path, and prints what the server said.
fn client(path: &std::ffi::OsStr) -> Result<()> {
    let connection = UnixStream::connect(path).context("connecting to the server")?;
    let mut answer = String::new();
    BufReader::new(&connection).read_line(&mut answer).context("reading the answer")?;
    Ok(say!("client: the server said {:?}", answer.trim_end())?)
}
