#!/usr/bin/env python3
"""bench_rsh.py - what a remote command costs, next to a local one.

usage: bench_rsh.py [--count N] [--rounds R] [--limit RATIO] [--port PORT]

Times N sequential `true` commands over one connection to bin/rsh-server
(each sent after the previous 'X' frame arrived: a round trip per command),
and N local `sh -c true` run with subprocess (the acceptance's baseline).
For reference it also times the same N started by a shell loop, without
Python's share: subprocess costs much more on Pythons before 3.10 (no
vfork), which would flatter the ratio. Each is timed R times and the
best round counts, as timeit does: the best round is the one least disturbed
by the rest of the machine. Prints both times and their ratio; exits 1 if
the ratio is above RATIO (default 1.2: the remote shell's speed requirement).

Without --port it starts its own server on a free port. With --port it uses
a server already listening on 127.0.0.1:PORT.

Not a test (make test does not run it): timings depend on the machine.
"""
import argparse
import os
import subprocess
import sys
import time
from contextlib import closing, nullcontext

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rshproto import connect, rsh_server, run_command  # noqa: E402

WARM_UP = 30  # untimed commands before each round


def time_remote(port: int, count: int) -> float:
    with closing(connect(port)) as sock:
        for _ in range(WARM_UP):  # connection accepted, shell in the page cache, CPUs awake
            run_command(sock, "true")
        start = time.perf_counter()
        for _ in range(count):
            answer = run_command(sock, "true")
            if answer != (b"", b"", 0):
                raise SystemExit(f"bench_rsh: 'true' answered {answer!r}, expected (b'', b'', 0)")
        return time.perf_counter() - start


def time_local(count: int) -> float:
    for _ in range(WARM_UP):
        subprocess.run(["sh", "-c", "true"], check=True)
    start = time.perf_counter()
    for _ in range(count):
        subprocess.run(["sh", "-c", "true"], check=True)
    return time.perf_counter() - start


def time_shell_loop(count: int) -> float:
    """The same N `sh -c true`, started by sh itself rather than by Python:
    shown for reference, as the cost of fork+exec without Python's share."""
    loop = f'i=0; while [ $i -lt {count} ]; do sh -c true; i=$((i+1)); done'
    start = time.perf_counter()
    subprocess.run(["sh", "-c", loop], check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        usage="bench_rsh.py [--count N] [--rounds R] [--limit RATIO] [--port PORT]",
        description="Time N sequential `true` commands through rsh-server against N local "
                    "`sh -c true`; exit 1 if remote/local is above RATIO.")
    parser.add_argument("--count", type=int, default=300, help="commands per round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best counts (default 3)")
    parser.add_argument("--limit", type=float, default=1.2, help="largest acceptable ratio (default 1.2)")
    parser.add_argument("--port", type=int, help="use a server already listening on this port")
    args = parser.parse_args()

    server = nullcontext() if args.port else rsh_server("--quiet")
    with server as s:
        port = args.port or s.port
        remote, local, shell = [], [], []
        for _ in range(args.rounds):  # interleaved, so a busy moment hits all
            remote.append(time_remote(port, args.count))
            local.append(time_local(args.count))
            shell.append(time_shell_loop(args.count))
    best_remote, best_local = min(remote), min(local)
    ratio = best_remote / best_local
    n = args.count
    print(f"remote: {n} x 'true' over one connection: {best_remote * 1000:8.1f} ms "
          f"({best_remote / n * 1e6:6.0f} us each)   rounds: "
          + " ".join(f"{t * 1000:.0f}" for t in remote))
    print(f"local:  {n} x sh -c true (subprocess):     {best_local * 1000:8.1f} ms "
          f"({best_local / n * 1e6:6.0f} us each)   rounds: "
          + " ".join(f"{t * 1000:.0f}" for t in local))
    print(f"(for reference, {n} x sh -c true from a shell loop: {min(shell) * 1000:.1f} ms, "
          f"ratio remote/that {best_remote / min(shell):.2f})")
    verdict = "ok" if ratio <= args.limit else "TOO SLOW"
    print(f"ratio remote/local: {ratio:.2f} (limit {args.limit}): {verdict}")
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
