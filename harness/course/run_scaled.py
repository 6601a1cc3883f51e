#!/usr/bin/env python3
"""usage: run_scaled.py SCALE PROGRAM.py [ARGS...]

Runs a course program unchanged, as __main__, with every time.sleep(s) it
makes turned into time.sleep(s * SCALE): 0.1 makes the notes' 5 s pause 0.5 s.
The tests use it so that they stay fast while the transcriptions stay literal.
"""
import os
import runpy
import sys
import time


def main(argv):
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    try:
        scale = float(argv[0])
    except ValueError:
        print(f"run_scaled.py: SCALE must be a number, not {argv[0]!r}", file=sys.stderr)
        return 2
    if scale < 0:
        print("run_scaled.py: SCALE must not be negative", file=sys.stderr)
        return 2
    program = argv[1]
    real_sleep = time.sleep
    time.sleep = lambda seconds: real_sleep(seconds * scale)
    # What `python3 PROGRAM.py ARGS...` would see: its argv, its directory first on the path.
    sys.argv = [program] + argv[2:]
    sys.path[0] = os.path.dirname(os.path.abspath(program))
    runpy.run_path(program, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
