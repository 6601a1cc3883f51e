#!/usr/bin/env python3
"""loaded_test.py RUNS COMMAND... - run COMMAND (e.g. `make test`) RUNS times
while every core is kept busy, and report how many runs passed.

Sticky-packet demos depend on timing: a demo that works only on an idle
machine is flaky. Each core gets a process that spins for the whole time.
A failed run's last lines are shown. Ends with 'N passed, N failed'; exits
non-zero if any run failed.

usage: loaded_test.py RUNS COMMAND...
"""
import multiprocessing
import os
import subprocess
import sys
import time


def spin() -> None:
    while True:
        pass


def failure_lines(lines, most=60):
    """What a failed run said about its failures: each FAIL line with the
    indented lines under it, or else its last lines."""
    shown, inside = [], False
    for line in lines:
        if line.startswith("FAIL"):
            inside = True
        elif not line.startswith(" "):
            inside = False
        if inside:
            shown.append(line)
    return (shown or lines[-25:])[:most] + lines[-1:]


def main(argv) -> int:
    if len(argv) < 2 or not argv[0].isdigit() or argv[0] == "0":
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    runs, command = int(argv[0]), argv[1:]
    cores = os.cpu_count() or 2
    hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(cores)]
    for h in hogs:
        h.start()
    passed = failed = 0
    try:
        for i in range(1, runs + 1):
            start = time.monotonic()
            p = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            seconds = time.monotonic() - start
            tail = p.stdout.decode("utf-8", "replace").rstrip("\n").splitlines()
            if p.returncode == 0:
                passed += 1
                print(f"loaded run {i}: passed in {seconds:.0f} s ({tail[-1] if tail else ''})",
                      flush=True)
            else:
                failed += 1
                print(f"loaded run {i}: FAILED in {seconds:.0f} s (exit {p.returncode}):",
                      flush=True)
                for line in failure_lines(tail):
                    print(f"    {line}", flush=True)
    finally:
        for h in hogs:
            h.terminate()
    print(f"loaded_test: {passed} of {runs} runs of `{' '.join(command)}` passed with "
          f"{cores} busy cores")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
