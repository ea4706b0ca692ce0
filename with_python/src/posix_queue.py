"""The Python end of with_python's posix_queue recipe, started by the Rust program."""

import signal
import socket
import sys

TIMEOUT_S = 5.0  # Every wait is bounded.
MESSAGES = [(1, "low"), (9, "urgent"), (5, "normal, first"), (0, "lowest"), (5, "normal, second")]


def main() -> None:
    import posix_ipc  # Not in the standard library: see with_python/README.md.

    with socket.socket(fileno=sys.stdin.fileno()) as sock:  # stdin is a socket.
        # No O_CREAT: open the parent's queue, never make one of our own.
        queue = posix_ipc.MessageQueue(sys.argv[1])
        # The parent's message first: once ours are queued, receive() could return one of them.
        message, priority = queue.receive(timeout=TIMEOUT_S)
        for level, text in MESSAGES:
            queue.send(text.encode(), timeout=TIMEOUT_S, priority=level)
        queue.close()
        reply = f"opened {sys.argv[1]}, received {message.decode()!r} at priority {priority}"
        sock.sendall(f"{reply} and queued {len(MESSAGES)} messages\n".encode())


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Even if `cmd &` ignored it.
    try:
        main()
    except ImportError as e:
        sys.exit(f"posix_queue.py: {e} (pip install posix_ipc==1.3.2)")
    except Exception as e:  # posix_ipc's errors (BusyError, ...) derive from Exception.
        sys.exit(f"posix_queue.py: {type(e).__name__}: {e}")
