"""The Python end of with_python's framed_messages recipe, started by the Rust program."""

import os
import signal
import sys
from multiprocessing.connection import Connection

TIMEOUT_S = 5.0  # Every wait is bounded: a parent that stops talking is an error.


def main() -> None:
    # Connection(fd) frames like multiprocessing.Pipe(); it owns the descriptor it is given.
    with Connection(os.dup(sys.stdin.fileno())) as conn:
        while conn.poll(TIMEOUT_S):
            message = conn.recv_bytes()  # EOFError once the parent shuts down its side.
            if message == b"pickle, please":
                conn.send({"from": "python", "answer": 42})  # send() pickles.
            else:
                conn.send_bytes(f"got {len(message)} bytes: {message[:16]!r}".encode())
    raise TimeoutError(f"no message from the Rust parent within {TIMEOUT_S} s")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Even if `cmd &` ignored it.
    try:
        main()
    except EOFError:
        pass  # The parent shut down its sending side: the conversation is over.
    except OSError as e:
        sys.exit(f"framed_child.py: {e}")
