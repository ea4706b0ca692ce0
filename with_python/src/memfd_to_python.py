"""The Python end of with_python's memfd_to_python recipe, started by the Rust program."""

import mmap
import os
import signal
import socket
import sys


def main() -> None:
    with socket.socket(fileno=sys.stdin.fileno()) as sock:  # stdin is a socket.
        sock.settimeout(5.0)  # Every wait is bounded.
        _, fds, _, _ = socket.recv_fds(sock, 1, 1)  # one byte, at most one descriptor
        if len(fds) != 1:
            raise ConnectionError(f"received {len(fds)} descriptors, not 1")
        with open(fds[0], "r+b") as memfd, mmap.mmap(memfd.fileno(), 0) as shared:
            text = bytes(shared[: shared.find(b"\0")]).decode()
            try:
                os.ftruncate(memfd.fileno(), 0)
                refused = "shrank it"
            except PermissionError:
                refused = "ftruncate refused (EPERM: the seal)"
            sock.sendall(f"mapped {len(shared)} bytes, read {text!r}; {refused}\n".encode())


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Even if `cmd &` ignored it.
    try:
        main()
    except (OSError, ValueError) as e:
        sys.exit(f"memfd_to_python.py: {e}")
