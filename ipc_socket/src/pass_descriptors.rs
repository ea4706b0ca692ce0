//! Handing another process open files over a Unix socket (SCM_RIGHTS): an open file, and a
//! sealed memfd, shared memory with no name anywhere. The sender writes a message into a memfd
//! made with MFD_ALLOW_SEALING and seals it against shrinking and growing (a mapping of a file
//! that shrinks becomes a SIGBUS in whoever maps it), and sends it and an open file to a child
//! (this program again) over a socketpair, with one byte of data: a message without data
//! carries no descriptors. The receiver sizes its control buffer with `cmsg_space!` for two,
//! receives with MSG_CMSG_CLOEXEC (no descriptor leaks into a program it starts), refuses a
//! message marked MSG_CTRUNC (descriptors that did not fit are lost), and owns each descriptor
//! in an `OwnedFd` at once. It maps the memfd and reads the message, fails to shrink it (EPERM,
//! the seal), and reads the file. std keeps descriptor passing unstable (rust-lang/rust#76915).
//!
//! Python: `socket.send_fds`, `socket.recv_fds`, `os.memfd_create`, `multiprocessing.reduction`.
//! Man pages: unix(7) for SCM_RIGHTS, memfd_create(2), fcntl(2) for F_ADD_SEALS.
//! Run: `cargo run -p ipc_socket -- pass_descriptors`
//! Copy: pass_descriptors.rs errors.rs
//! Needs: anyhow@1, memmap2@0.9, nix@0.31 (features fs, socket, uio), tempfile@3

use std::fs::File;
use std::io::{IoSlice, IoSliceMut, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail, ensure};
use nix::cmsg_space;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};

mod errors;
use errors::say;

/// Set in the receiver's environment; its stdin is its end of the socketpair.
const RECEIVER: &str = "PASS_DESCRIPTORS_RECEIVER";
const FILE_TEXT: &[u8] = b"the contents of an open file";

pub fn main() -> std::process::ExitCode {
    errors::exit(if std::env::var_os(RECEIVER).is_some() { receiver() } else { run() })
}

fn run() -> Result<()> {
    let flags = MFdFlags::MFD_ALLOW_SEALING | MFdFlags::MFD_CLOEXEC;
    let mut memfd = File::from(memfd_create(c"message", flags).context("memfd_create")?);
    memfd.set_len(4096).context("sizing the memfd")?;
    memfd.write_all(b"hello through a sealed memfd").context("writing the memfd")?;
    let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL;
    fcntl(&memfd, FcntlArg::F_ADD_SEALS(seals)).context("F_ADD_SEALS")?;
    let mut file = tempfile::tempfile().context("creating a file")?; // no name, mode 0600
    file.write_all(FILE_TEXT).context("writing the file")?;
    let (ours, theirs) = UnixStream::pair().context("socketpair")?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut command = Command::new(&exe);
    command.args(std::env::args_os().skip(1)).env(RECEIVER, "1").stdin(OwnedFd::from(theirs));
    let receiver = command.stderr(Stdio::piped()).spawn().context("starting the receiver")?;
    say!("sender: sealed a memfd against shrinking and growing; sending it and an open file")?;
    let fds = [memfd.as_raw_fd(), file.as_raw_fd()];
    let rights = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(ours.as_raw_fd(), &[IoSlice::new(b"x")], &rights, MsgFlags::empty(), None)
        .context("sendmsg SCM_RIGHTS")?;
    drop(ours);
    let output = receiver.wait_with_output().context("waiting for the receiver")?;
    let (status, why) = (output.status, String::from_utf8_lossy(&output.stderr));
    ensure!(status.success(), "the receiver ended: {status}: {}", why.trim());
    Ok(say!("sender: the receiver ended: {status}")?)
}

/// Receives one byte and the descriptors sent with it, each owned at once.
fn receive(socket: RawFd) -> Result<Vec<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut data = [IoSliceMut::new(&mut byte)];
    let mut space = cmsg_space!([RawFd; 2]); // room for exactly the two expected
    let flags = MsgFlags::MSG_CMSG_CLOEXEC;
    let message = recvmsg::<()>(socket, &mut data, Some(&mut space), flags).context("recvmsg")?;
    ensure!(!message.flags.contains(MsgFlags::MSG_CTRUNC), "descriptors lost (MSG_CTRUNC)");
    let mut owned = Vec::new();
    for control in message.cmsgs().context("reading the control messages")? {
        if let ControlMessageOwned::ScmRights(fds) = control {
            // Safety: each descriptor was installed in this process by this recvmsg, for us
            // alone: nothing else owns or closes it.
            owned.extend(fds.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    Ok(owned)
}

fn receiver() -> Result<()> {
    let socket = std::io::stdin().as_fd().try_clone_to_owned().context("dup stdin")?;
    let fds = receive(socket.as_raw_fd())?;
    let count = fds.len();
    let [memfd, file]: [OwnedFd; 2] = fds.try_into().map_err(|_| anyhow!("{count} descriptors"))?;
    let memfd = File::from(memfd);
    // Safety: the memfd is sealed against shrinking, so no access within the mapping can fall
    // beyond its end (a SIGBUS), and nobody can grow or unseal it either.
    let map = unsafe { memmap2::Mmap::map(&memfd) }.context("mmap")?;
    let text = map.split(|&byte| byte == 0).next().unwrap_or_default();
    let text = String::from_utf8_lossy(text);
    say!("receiver: mapped the memfd, {} bytes: {text:?}", map.len())?;
    match memfd.set_len(0) {
        Err(e) if e.raw_os_error() == Some(Errno::EPERM as i32) => {
            say!("receiver: ftruncate to 0 bytes refused: {e} (the seal)")?
        }
        Err(e) => return Err(e).context("ftruncate on the sealed memfd"),
        Ok(()) => bail!("ftruncate shrank a memfd sealed against it"),
    }
    let mut read = vec![0; FILE_TEXT.len()];
    // The file's offset is the sender's too (one open file description): read at 0.
    File::from(file).read_exact_at(&mut read, 0).context("reading the file")?;
    Ok(say!("receiver: read the file: {:?}", String::from_utf8_lossy(&read))?)
}
