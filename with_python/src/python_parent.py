"""The Python parent of with_python's python_parent recipe; its stdin is a socket to Rust."""

import os
import signal
import socket
import subprocess
import sys
from multiprocessing import Pipe

TIMEOUT_S = 5.0  # Every wait is bounded.
JOBS = [[1, 2, 3], [10, 20], list(range(100))]


def main() -> None:
    report = socket.socket(fileno=sys.stdin.fileno())  # To the program that started this one.
    ours, theirs = Pipe()  # A socketpair, each end a Connection.
    env, end = {**os.environ, "WITH_PYTHON_WORKER": "1"}, theirs.fileno()
    # The worker reads frames from its stdin and writes frames to its stdout: one socket.
    worker = subprocess.Popen(sys.argv[1:], stdin=end, stdout=end, env=env)
    theirs.close()
    try:
        for job in JOBS:
            ours.send_bytes(" ".join(map(str, job)).encode())
            if not ours.poll(TIMEOUT_S):
                raise TimeoutError(f"the Rust worker did not answer within {TIMEOUT_S} s")
            answer = ours.recv_bytes().decode()  # EOFError if the worker died.
            said = f"sent {len(job)} numbers; the Rust worker's sum of their squares: {answer}"
            report.sendall(f"python: {said}\n".encode())
    finally:
        ours.close()  # End of file: the worker ends, on an error too (`with` would wait first).
        try:
            code = worker.wait(timeout=TIMEOUT_S)
        finally:
            worker.kill()  # Nothing to a worker that ended and was reaped.
    report.sendall(f"python: closed my end; the Rust worker exited with {code}\n".encode())


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Even if `cmd &` ignored it.
    try:
        main()
    except (OSError, EOFError, subprocess.SubprocessError) as e:
        sys.exit(f"python_parent.py: {type(e).__name__}: {e}")
