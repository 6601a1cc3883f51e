#!/usr/bin/env python3
"""run_tests.py [UNIT_TEST_BINARY...] - every test of the suite, as `make test` runs it.

- each unit-test binary given on the command line (it must print 'N passed, N failed');
- every demo run, checked against its demos/NN-name/expect.py, with full and
  with abbreviated byte dumps;
- every program in bin/ (or BIN_DIR) answers --help with a usage line;
- every test_* function in harness/test_*.py.

Tests run in parallel (each server takes a free port). Ends with one line
'N passed, N failed'; exits non-zero if anything failed.
Set TESTS=substring to run only the tests whose name contains it, and
BIN_DIR=DIR to test the programs in DIR instead of bin/ (make sanitize).
"""
import importlib.util
import os
import re
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import demolib

SUMMARY = re.compile(r"(\d+) passed, (\d+) failed")


class Failed(Exception):
    pass


def unit_binary(path):
    """Run one C unit-test program; returns (passed, failed) from its summary line."""
    p = subprocess.run([path], capture_output=True, text=True, timeout=120)
    m = SUMMARY.search(p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "")
    if p.returncode != 0 or not m:
        raise Failed(f"$ {path}  (exit {p.returncode})\n{p.stdout[-4000:]}{p.stderr[-4000:]}")
    return int(m.group(1)), int(m.group(2))


def demo_run(run_spec, extra):
    outcome = demolib.run_pair(run_spec, extra)
    problems = demolib.check(run_spec, outcome)
    if problems:
        raise Failed(demolib.report(run_spec, outcome, problems))


def answers_help(path):
    p = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
    if p.returncode != 0 or not p.stdout.startswith("usage: "):
        raise Failed(f"$ {path} --help  (exit {p.returncode})\n{p.stdout}{p.stderr}")


def collect(unit_binaries):
    tests = [(f"unit {os.path.basename(b)}", partial(unit_binary, b)) for b in unit_binaries]
    for demo in demolib.all_demos():
        for i, r in enumerate(demo.runs, 1):
            label = r.label or f"run {i}"
            tests.append((f"demo {demo.number} {label} (full bytes)", partial(demo_run, r, ["--full"])))
            tests.append((f"demo {demo.number} {label} (as shown in class)", partial(demo_run, r, [])))
    for prog in sorted(demolib.BIN.iterdir()) if demolib.BIN.is_dir() else []:
        if os.access(prog, os.X_OK) and not prog.name.startswith("test_"):
            tests.append((f"{prog.name} --help", partial(answers_help, str(prog))))
    for path in sorted(demolib.ROOT.joinpath("harness").glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name in sorted(n for n in dir(module) if n.startswith("test_")):
            tests.append((f"{path.stem}.{name}", getattr(module, name)))
    only = os.environ.get("TESTS")
    return [t for t in tests if not only or only in t[0]]


def run_one(test):
    name, fn = test
    start = time.monotonic()
    try:
        counts = fn()
        return name, True, "", time.monotonic() - start, counts
    except Failed as e:
        return name, False, str(e), time.monotonic() - start, None
    except Exception:  # an assertion or a crash in the test itself
        return name, False, traceback.format_exc(), time.monotonic() - start, None


def main(argv):
    tests = collect(argv)
    passed = failed = 0
    jobs = int(os.environ.get("JOBS", "4"))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for name, ok, detail, seconds, counts in pool.map(run_one, tests):
            if counts:  # a unit-test binary reports its own checks
                passed += counts[0]
                failed += counts[1]
                print(f"ok   {name}: {counts[0]} checks ({seconds:.1f}s)", flush=True)
                continue
            if ok:
                passed += 1
                print(f"ok   {name} ({seconds:.1f}s)", flush=True)
            else:
                failed += 1
                print(f"FAIL {name} ({seconds:.1f}s)", flush=True)
                print("    " + detail.replace("\n", "\n    "), flush=True)
    if not tests:
        print("no tests found")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv[1:]))
