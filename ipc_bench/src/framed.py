"""ipc_bench's Python side of the python part: Connection-framed messages over a socketpair.

python3 -c SCRIPT worker          answer on the socket that is stdin until end of file
python3 -c SCRIPT driver N_RT N_STREAM_64 N_STREAM_4096 WORKER_ARGV...
                                  start the worker on a socketpair, measure, print one line
                                  per figure: `rt SIZE MEDIAN_NS P99_NS` or `stream SIZE PER_S`

The protocol, also spoken by the Rust worker and driver: a frame starting with b"p" is echoed
back unchanged; b"s COUNT SIZE" asks for COUNT frames of SIZE bytes, each starting with its
8-byte big-endian sequence number. Every reply is checked.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import Connection

SIZES = (64, 4096)
TIMEOUT_S = 60  # The whole run of a driver or worker: SIGALRM ends it, no wait is unbounded.


def die_with_parent() -> None:
    """PR_SET_PDEATHSIG (1) with SIGKILL: the worker dies with the driver, as Rust's do."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def worker() -> None:
    with Connection(os.dup(sys.stdin.fileno())) as conn:
        while True:
            try:
                message = conn.recv_bytes()
            except EOFError:
                return
            if message[:1] == b"s":
                count, size = (int(field) for field in message[1:].split())
                filler = b"x" * (size - 8)
                for sequence in range(count):
                    conn.send_bytes(sequence.to_bytes(8, "big") + filler)
            else:
                conn.send_bytes(message)


def round_trips(conn: Connection, size: int, count: int) -> list:
    filler = b"p" * (size - 8)
    times = []
    for sequence in range(count + count // 10):  # The first tenth warms up and is dropped.
        message = filler + sequence.to_bytes(8, "big")
        start = time.perf_counter_ns()
        conn.send_bytes(message)
        reply = conn.recv_bytes()
        times.append(time.perf_counter_ns() - start)
        if reply != message:
            raise ValueError(f"round trip {sequence}: the reply differs from the message")
    return sorted(times[count // 10 :])


def stream(conn: Connection, size: int, count: int) -> float:
    start = time.perf_counter_ns()
    conn.send_bytes(f"s {count} {size}".encode())
    for sequence in range(count):
        message = conn.recv_bytes()
        if len(message) != size or int.from_bytes(message[:8], "big") != sequence:
            raise ValueError(f"stream: message {sequence} is wrong")
    return count / ((time.perf_counter_ns() - start) / 1e9)


def driver(round_trip_count: int, stream_counts: list, argv: list) -> None:
    ours, theirs = socket.socketpair()
    child = subprocess.Popen(argv, stdin=theirs, preexec_fn=die_with_parent)
    theirs.close()
    try:
        with Connection(ours.detach()) as conn:
            for size in SIZES:
                times = round_trips(conn, size, round_trip_count)
                median, p99 = times[len(times) // 2], times[len(times) * 99 // 100]
                print(f"rt {size} {median} {p99}")
            for size, count in zip(SIZES, stream_counts):
                print(f"stream {size} {stream(conn, size, count):.0f}")
    finally:
        if child.wait(timeout=10) != 0:
            raise ChildProcessError(f"the worker {argv[0]} exited with {child.returncode}")


if __name__ == "__main__":
    signal.alarm(TIMEOUT_S)  # Its default action ends the process: a bound at no cost per message.
    try:
        if sys.argv[1] == "worker":
            worker()
        else:
            driver(int(sys.argv[2]), [int(sys.argv[3]), int(sys.argv[4])], sys.argv[5:])
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        sys.exit(f"framed.py {sys.argv[1]}: {e}")
