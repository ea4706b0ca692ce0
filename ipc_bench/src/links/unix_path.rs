//! A Unix-domain stream socket reached by a path, as a server and its clients use one
//! (`ipc_socket/src/server_by_path.rs`): bound in a folder of mode 0700, connected, accepted,
//! and the path and folder removed at once, before the fork. Once connected, the two ends are
//! what a socketpair's are; the link is the socketpair's.

use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::net::{UnixListener, UnixStream};

use crate::links::link::Spec;
use crate::links::socketpair::SocketEnd;
use crate::sys::{SignalsHeld, unique_name};

/// Both ends; the parent keeps the first. Signals are held while the path exists, so that a
/// Ctrl-C cannot leave it behind.
pub fn link(spec: Spec) -> io::Result<(SocketEnd, SocketEnd)> {
    let folder = std::env::temp_dir().join(unique_name("unix").trim_start_matches('/'));
    let held = SignalsHeld::new().map_err(io::Error::other)?;
    std::fs::DirBuilder::new().mode(0o700).create(&folder)?;
    let path = folder.join("s");
    let connected = UnixListener::bind(&path).and_then(|listener| {
        let client = UnixStream::connect(&path)?; // queued in the backlog: no thread needed
        let (server, _) = listener.accept()?;
        Ok((server, client))
    });
    let removed = std::fs::remove_file(&path).and_then(|()| std::fs::remove_dir(&folder));
    drop(held);
    let (server, client) = connected?;
    removed?;
    Ok((SocketEnd::new(server, spec.size), SocketEnd::new(client, spec.size)))
}
