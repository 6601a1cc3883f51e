#!/usr/bin/env python3
"""run_tests.py [--stress] [UNIT_TEST_BINARY...] - every test of the suite, as
`make test` runs it:

- each unit-test binary given on the command line (it prints 'N passed,
  N failed'; each of its cases counts);
- every demo run, checked against its demos/NN-name/expect.py, with full and
  with abbreviated byte dumps;
- every program in bin/ (or BIN_DIR) answers --help with a usage line;
- every test_* function in harness/test_*.py (end-to-end and harness tests).

With --stress (`make stress`): the unit-test binaries with --stress, and the
stress_* functions in harness/test_*.py: the full-size versions of the load
tests, instead of all of the above.

Tests run in parallel (each server takes a free port). The report counts
each kind apart (a test that cannot run here is skipped, and says why),
then ends with one line 'N passed, N failed'; the exit
status is non-zero if anything failed. TESTS=substring runs only the tests
whose name contains it; BIN_DIR=DIR tests the programs in DIR instead of
bin/ (make sanitize); JOBS=N runs N at a time (default 10: most tests wait
on sockets and processes, not on the CPU).
"""
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import demolib
from suite import BIN, HARNESS, ROOT, Skipped, python_children_unbuffered

SUMMARY = re.compile(r"(\d+) passed, (\d+) failed")
KINDS = ("unit cases", "demo runs", "--help checks", "end-to-end tests")


class Failed(Exception):
    pass


def unit_binary(path, stress):
    """Run one C unit-test program; returns (passed, failed) from its summary line."""
    p = subprocess.run([path, *(["--stress"] if stress else [])], capture_output=True,
                       text=True, timeout=600)
    m = SUMMARY.search(p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "")
    if p.returncode != 0 or not m:
        raise Failed(f"$ {path}  (exit {p.returncode})\n{p.stdout[-4000:]}{p.stderr[-4000:]}")
    return int(m.group(1)), int(m.group(2))


def demo_run(run_spec, extra):
    outcome = demolib.run_pair(run_spec, extra)
    if outcome.skipped and not outcome.error and all(c == 0 for c in outcome.codes):
        raise Skipped(outcome.skipped)
    problems = demolib.check(run_spec, outcome)
    if problems:
        raise Failed(demolib.report(run_spec, outcome, problems))


def answers_help(path):
    p = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
    if p.returncode != 0 or not p.stdout.startswith("usage: "):
        raise Failed(f"$ {path} --help  (exit {p.returncode})\n{p.stdout}{p.stderr}")


def test_functions(prefix):
    """(name, function) for every PREFIX* function in harness/test_*.py."""
    found = []
    for path in sorted(HARNESS.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in sorted(n for n in dir(module) if n.startswith(prefix)):
            found.append((f"{path.stem}.{name}", getattr(module, name)))
    return found


def collect(unit_binaries, stress):
    """[(kind, name, function)] of every test to run."""
    tests = [("unit cases", f"unit {os.path.basename(b)}", partial(unit_binary, b, stress))
             for b in unit_binaries]
    if stress:
        tests += [("end-to-end tests", name, fn) for name, fn in test_functions("stress_")]
    else:
        for demo in demolib.all_demos():
            for i, r in enumerate(demo.runs, 1):
                label = r.label or f"run {i}"
                for extra, how in ((["--full"], "full bytes"), ([], "as shown in class")):
                    tests.append(("demo runs", f"demo {demo.number} {label} ({how})",
                                  partial(demo_run, r, extra)))
        for prog in sorted(BIN.iterdir()) if BIN.is_dir() else []:
            if os.access(prog, os.X_OK) and prog.is_file():
                tests.append(("--help checks", f"{prog.name} --help",
                              partial(answers_help, str(prog))))
        tests += [("end-to-end tests", name, fn) for name, fn in test_functions("test_")]
    only = os.environ.get("TESTS")
    return [t for t in tests if not only or only in t[1]]


def run_one(test):
    kind, name, fn = test
    start = time.monotonic()
    try:
        counts = fn()
        return kind, name, True, "", time.monotonic() - start, counts
    except Skipped as e:
        return kind, name, None, str(e), time.monotonic() - start, None
    except Failed as e:
        return kind, name, False, str(e), time.monotonic() - start, None
    except Exception:  # an assertion or a crash in the test itself
        return kind, name, False, traceback.format_exc(), time.monotonic() - start, None


# How long each test took the last time it ran (build/ is not in git): the
# longest start first, and the many short ones fill the gaps, instead of a
# 7-second test that happens to come last keeping everyone waiting.
TIMES = ROOT / "build" / "test-times.json"


TYPICAL = {"unit cases": 1.0, "end-to-end tests": 1.0, "demo runs": 0.5, "--help checks": 0.0}


def last_times() -> dict:
    try:
        return json.loads(TIMES.read_text())
    except (OSError, ValueError):
        return {}


def keep_times(times: dict) -> None:
    try:
        TIMES.parent.mkdir(parents=True, exist_ok=True)
        TIMES.write_text(json.dumps(times, indent=0, sort_keys=True))
    except OSError:
        pass  # only an order for next time


def main(argv):
    python_children_unbuffered()
    stress = "--stress" in argv
    tests = collect([a for a in argv if a != "--stress"], stress)
    counts = {kind: [0, 0, 0] for kind in KINDS}  # passed, failed, skipped
    jobs = int(os.environ.get("JOBS", "10"))
    start, times = time.monotonic(), last_times()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        # started longest first, reported in their order; a test never timed
        # here counts as typical of its kind (the first run of a fresh clone)
        futures = [None] * len(tests)
        for i in sorted(range(len(tests)), key=lambda i: -times.get(tests[i][1], TYPICAL[tests[i][0]])):
            futures[i] = pool.submit(run_one, tests[i])
        for future in futures:
            kind, name, ok, detail, seconds, cases = future.result()
            times[name] = round(seconds, 2)
            if cases:  # a unit-test binary reports its own cases
                counts[kind][0] += cases[0]
                counts[kind][1] += cases[1]
                print(f"ok   {name}: {cases[0]} cases ({seconds:.1f}s)", flush=True)
                continue
            if ok is None:
                counts[kind][2] += 1
                print(f"skip {name}: {detail}", flush=True)
                continue
            counts[kind][0 if ok else 1] += 1
            print(f"{'ok  ' if ok else 'FAIL'} {name} ({seconds:.1f}s)", flush=True)
            if not ok:
                print("    " + detail.replace("\n", "\n    "), flush=True)
    keep_times(times)
    passed = sum(c[0] for c in counts.values())
    failed = sum(c[1] for c in counts.values())
    if not tests:
        print("no tests found")
        failed += 1
    print()
    for kind in KINDS:
        p, f, s = counts[kind]
        if p or f or s:
            print(f"  {kind:<17} {p:4d} passed, {f} failed" + (f", {s} skipped" if s else ""))
    print(f"  (in {time.monotonic() - start:.0f} s, {jobs} at a time)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv[1:]))
