"""The Python end of with_python's lockf_and_ofd recipe, started by the Rust program."""

import fcntl
import signal
import socket
import sys


def main() -> None:
    with socket.socket(fileno=sys.stdin.fileno()) as sock, open(sys.argv[1], "r+b") as file:
        sock.settimeout(5.0)  # Every wait is bounded.
        lines = sock.makefile("r")
        fcntl.lockf(file, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)  # bytes 0-99, a POSIX lock
        sock.sendall(b"locked bytes 0-99 with lockf\n")
        start = int(lines.readline())  # Rust's turn first; then a range to try
        try:
            fcntl.lockf(file, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, start)
            sock.sendall(f"lockf on bytes {start}-{start + 99}: locked\n".encode())
        except BlockingIOError:
            sock.sendall(f"lockf on bytes {start}-{start + 99}: refused\n".encode())
        if lines.readline() != "done\n":
            raise ConnectionError("the Rust parent did not say done")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Even if `cmd &` ignored it.
    try:
        main()
    except (OSError, ValueError) as e:
        sys.exit(f"lockf_and_ofd.py: {e}")
