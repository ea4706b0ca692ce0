//! Two copies of `server_by_path` started at the same moment on one path never take the
//! path from each other: in every round, each either serves all three of its clients or
//! refuses to start, with the line that says a live server holds the lock. A copy that removed
//! the other's live socket would leave that one's clients unable to connect, or its own check
//! failing: any other ending fails the test.

use std::process::{Command, Output, Stdio};
use std::thread;

const ROUNDS: usize = 40;

fn start(folder: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_ipc_socket"))
        .arg("server_by_path")
        .env("SERVER_BY_PATH_FOLDER", folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn served(output: &Output) -> bool {
    let stdout = String::from_utf8_lossy(&output.stdout);
    output.status.success() && stdout.matches("client: asked").count() == 3
}

fn refused(output: &Output) -> bool {
    let stderr = String::from_utf8_lossy(&output.stderr);
    output.status.code() == Some(1)
        && stderr.lines().count() == 1
        && stderr.contains("a live server holds server.sock.lock: refusing to start")
}

#[test]
fn two_servers_on_one_path_never_take_it_from_each_other() {
    let (mut both_served, mut one_refused) = (0, 0);
    for _ in 0..ROUNDS {
        let folder = tempfile::tempdir().unwrap();
        let (a, b) = (start(folder.path()), start(folder.path()));
        let (a, b) = thread::scope(|scope| {
            let a = scope.spawn(|| a.wait_with_output().unwrap());
            (a.join().unwrap(), b.wait_with_output().unwrap())
        });
        for output in [&a, &b] {
            assert!(
                served(output) || refused(output),
                "{}: {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(served(&a) || served(&b), "neither served");
        if served(&a) && served(&b) {
            both_served += 1; // one after the other
        } else {
            one_refused += 1;
        }
    }
    eprintln!("{ROUNDS} rounds: {one_refused} with one server refused, {both_served} in turn");
    assert!(one_refused > 0, "the two servers never met: the test proved nothing");
}
