"""The Python end of with_python's shm_from_python recipe, started by the Rust program."""

import os
import signal
import socket
import sys
from multiprocessing import resource_tracker, shared_memory


def main() -> None:
    with socket.socket(fileno=sys.stdin.fileno()) as sock:  # stdin is a socket.
        sock.settimeout(5.0)  # Every wait is bounded.
        lines = sock.makefile("r")
        # The tracker first: SharedMemory starts it after making the block, which would leak.
        resource_tracker.ensure_running()
        shm = shared_memory.SharedMemory(create=True, size=4096)
        try:
            # Sized by ftruncate, a full /dev/shm is a SIGBUS at the first write; this, ENOSPC.
            os.posix_fallocate(shm._fd, 0, shm.size)
            message = b"hello from Python"
            shm.buf[: len(message)] = message
            sock.sendall(f"{shm.name} {shm.size} {len(message)}\n".encode())
            if lines.readline() != "attached\n":
                raise ConnectionError("the parent did not attach")
        finally:
            shm.unlink()  # Also takes the name off the resource tracker's list.
        if lines.readline() != "answered\n":
            raise ConnectionError("the parent did not answer")
        answer = bytes(shm.buf[len(message) : shm.buf.tobytes().index(0, len(message))])
        sock.sendall(f"read back {answer.decode()!r}\n".encode())
        shm.close()
    # The tracker is a process of its own: stopped, it ends before this one, not as an orphan.
    resource_tracker._resource_tracker._stop()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Even if `cmd &` ignored it.
    try:
        main()
    except (OSError, ValueError) as e:
        sys.exit(f"shm_create.py: {e}")
