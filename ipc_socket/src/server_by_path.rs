//! A server on a Unix socket bound to a path, and clients that find it by that path. The server
//! binds `server.sock` in a folder only its user can enter (mode 0700), holding a lock on
//! `server.sock.lock` while it serves: a second server finds the lock taken and refuses. A
//! path that is there already is tried: a refused connect means a dead server's file, safe to
//! remove (shown); an accepted one, a live server that takes no lock, and it refuses too. Three
//! clients (this program again) connect, each send a request, a line, and read the
//! answer; the server answers each on a thread of its own. Stopping, it removes its path.
//! A path holds at most 107 bytes (sun_path is 108 with its NUL): a longer one is refused, the
//! limit named. Linux's abstract names (std's `SocketAddrExt::from_abstract_name`) leave no
//! file to remove, but have no permissions either: any process may connect.
//! Python: `socketserver.UnixStreamServer`, `multiprocessing.connection.Listener(address)`,
//! `Client(address)`. Man pages: unix(7). Run: `cargo run -p ipc_socket -- server_by_path`
//! Copy: server_by_path.rs errors.rs
//! Needs: anyhow@1, tempfile@3

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

mod errors;
use errors::say;

/// Set in a client's environment: the server's path. FOLDER, if set, is used instead of a new
/// folder: `tests/two_servers.rs` starts two servers on one path at once.
const CLIENT: &str = "SERVER_BY_PATH_CLIENT";
const FOLDER: &str = "SERVER_BY_PATH_FOLDER";

/// Binds `path`, first removing a dead server's file there; refuses if a live server has it.
/// Two servers starting together could both find a dead file and one remove the other's new
/// one, so each first takes `PATH.lock` (flock), and holds it for as long as it serves.
fn bind(path: &Path) -> Result<(UnixListener, File)> {
    let length = path.as_os_str().len();
    ensure!(length <= 107, "a path of {length} bytes is too long: sun_path holds 107 and a NUL");
    let name = path.file_name().unwrap_or_default().to_string_lossy(); // for messages
    let mut options = File::options();
    let lock = options.write(true).create(true).truncate(false).mode(0o600);
    let lock = lock.open(path.with_extension("sock.lock")).context("opening the lock file")?;
    ensure!(lock.try_lock().is_ok(), "a live server holds {name}.lock: refusing to start");
    let bound = match UnixListener::bind(path) {
        Err(e) if e.kind() == ErrorKind::AddrInUse => match UnixStream::connect(path) {
            Ok(_) => bail!("a live server listens at {name}: refusing to start"),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                say!("server: {name} was a dead server's file (connect refused): removed it")?;
                std::fs::remove_file(path).with_context(|| format!("removing {name}"))?;
                UnixListener::bind(path)
            }
            Err(e) => return Err(e).with_context(|| format!("connecting to {name}")),
        },
        other => other,
    };
    Ok((bound.with_context(|| format!("binding {name}"))?, lock))
}

pub fn main() -> std::process::ExitCode {
    match std::env::var_os(CLIENT) {
        Some(path) => errors::exit(client(Path::new(&path))),
        None => errors::exit(run()),
    }
}

fn run() -> Result<()> {
    let folder = tempfile::tempdir().context("making a private folder")?; // mode 0700
    let folder = std::env::var_os(FOLDER).map_or(folder.path().to_path_buf(), PathBuf::from);
    let path = &folder.join("server.sock");
    drop(bind(path)?); // a server that dies without removing its path: a dead server's file
    let (listener, _lock) = bind(path)?;
    say!("server: listening at server.sock, in a folder of mode 0700")?;
    say!("second server: {:#}", bind(path).err().context("a second server bound too")?)?;
    let long = "x".repeat(120); // refused before it is used
    say!("a third: {:#}", bind(Path::new(&long)).err().context("a long path was bound")?)?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut command = Command::new(&exe);
        command.args(std::env::args_os().skip(1)).env(CLIENT, path);
        command.stdout(Stdio::piped()).stderr(Stdio::piped()); // one line of error: the server's
        clients.push(command.spawn().context("starting a client")?);
    }
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..3 {
            let (connection, _) = listener.accept().context("accept")?;
            scope.spawn(move || serve(connection)); // who it is: `peer_credentials.rs`
        }
        Ok(())
    })?;
    for client in clients {
        let output = client.wait_with_output().context("waiting for a client")?;
        let why = String::from_utf8_lossy(&output.stderr);
        ensure!(output.status.success(), "a client ended: {}: {}", output.status, why.trim());
        say!("{}", String::from_utf8_lossy(&output.stdout).trim_end())?;
    }
    std::fs::remove_file(path).context("removing server.sock")?; // the lock file stays
    Ok(say!("server: 3 clients served, each on a thread; stopped, removed server.sock")?)
}

/// One connection: a line of numbers in, their sum out, until the client closes its end.
fn serve(connection: UnixStream) -> Result<()> {
    let mut answers = &connection;
    for line in BufReader::new(&connection).lines() {
        let numbers: Vec<u64> = line?.split(' ').filter_map(|n| n.parse().ok()).collect();
        writeln!(answers, "{}", numbers.iter().sum::<u64>()).context("answering")?;
    }
    Ok(())
}

/// A client: a request, an answer, by the server's path alone.
fn client(path: &Path) -> Result<()> {
    let connection = UnixStream::connect(path).context("connecting to the server")?;
    writeln!(&connection, "1 2 3").context("sending a request")?;
    let mut answer = String::new();
    BufReader::new(&connection).read_line(&mut answer).context("reading the answer")?;
    Ok(say!("client: asked for the sum of 1 2 3, got {}", answer.trim_end())?)
}
