"""The Python end of with_python's shm_from_rust recipe, started by the Rust program."""

import os
import signal
import sys
from multiprocessing import resource_tracker, shared_memory


def attach(name: str) -> shared_memory.SharedMemory:
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name, track=False)
    shm = shared_memory.SharedMemory(name)
    # Before 3.13 an attached SharedMemory is registered with the resource tracker too, which
    # unlinks it when this process exits (CPython gh-82300): the Rust parent's would vanish.
    resource_tracker.unregister(shm._name, "shared_memory")
    return shm


def main() -> None:
    shm = attach(sys.argv[1])
    os.write(sys.stdin.fileno(), b"attached\n")  # stdin is a socket: it carries both ways.
    message = bytes(shm.buf[: shm.buf.tobytes().index(0)])
    answer = f"python read {message.decode()!r} from {shm.size} bytes".encode()
    shm.buf[len(message) + 1 : len(message) + 1 + len(answer)] = answer
    shm.close()
    # The tracker is a process of its own: stopped, it ends before this one, not as an orphan.
    resource_tracker._resource_tracker._stop()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Even if `cmd &` ignored it.
    try:
        main()
    except (OSError, ValueError) as e:
        sys.exit(f"shm_attach.py: {e}")
