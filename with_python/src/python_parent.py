"""The Python parent of with_python's python_parent recipe: it starts the Rust worker."""

import os
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
    with subprocess.Popen(sys.argv[1:], stdin=end, stdout=end, env=env) as worker:
        theirs.close()
        for job in JOBS:
            ours.send_bytes(" ".join(map(str, job)).encode())
            if not ours.poll(TIMEOUT_S):
                raise TimeoutError(f"the Rust worker did not answer within {TIMEOUT_S} s")
            answer = ours.recv_bytes().decode()  # EOFError if the worker died.
            said = f"sent {len(job)} numbers; the Rust worker's sum of their squares: {answer}\n"
            report.sendall(f"python: {said}".encode())
        ours.close()  # End of file: the worker ends.
        code = worker.wait(timeout=TIMEOUT_S)
    report.sendall(f"python: closed my end; the Rust worker exited with {code}\n".encode())


if __name__ == "__main__":
    try:
        main()
    except (OSError, EOFError, subprocess.SubprocessError) as e:
        sys.exit(f"python_parent.py: {type(e).__name__}: {e}")
