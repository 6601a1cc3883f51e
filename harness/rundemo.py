#!/usr/bin/env python3
"""rundemo.py N - run demo N for a class: its server and client on one
terminal, lines in the order they happened, then check them against
demos/NN-name/expect.py. `rundemo.py --list` lists the demos;
`rundemo.py --programs N` names the programs demo N runs (for make).

usage: rundemo.py [--list] [--programs N] [--full] N
"""
import os
import sys

import demolib

COLOURS = {"client": "\033[36m", "server": "\033[33m", "error": "\033[31m", "dim": "\033[2m"}
RESET = "\033[0m"


def use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def paint(line: str, colour: bool) -> str:
    if not colour:
        return line
    for side in ("client", "server"):
        if line.startswith(side + " |"):
            return COLOURS[side] + line + RESET
        if line.startswith(side + ": [sync]"):
            return COLOURS["dim"] + line + RESET
        if line.startswith(side + ": error"):
            return COLOURS["error"] + line + RESET
    return line


def main(argv) -> int:
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    if "--help" in flags or "-h" in args:
        print(__doc__.strip().splitlines()[-1])
        return 0
    if "--list" in flags:
        for d in demolib.all_demos():
            print(f"make demo-{d.number:<3d} {d.title}")
        return 0
    if "--programs" in flags and len(args) == 1 and args[0].isdigit():
        print(" ".join(f"bin/{name}" for name in demolib.load_demo(int(args[0])).programs()))
        return 0
    if len(args) != 1 or not args[0].isdigit():
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    demo = demolib.load_demo(int(args[0]))
    colour = use_colour()
    extra = ["--full"] if "--full" in flags else []
    print(f"== demo {demo.number}: {demo.title}")
    failed = 0
    for r in demo.runs:
        print()
        if r.label:
            print(f"-- {r.label}")
        outcome = demolib.run_pair(r, extra, on_line=lambda l: print(paint(l, colour), flush=True))
        problems = demolib.check(r, outcome)
        if problems:
            failed += 1
            print()
            print(demolib.report(r, outcome, problems, limit=0), file=sys.stderr)
    print()
    where = demo.path.relative_to(demolib.ROOT)
    if failed:
        print(f"harness: demo {demo.number} did NOT do what {where} expects (see above)")
        return 1
    print(f"harness: the sends, recvs and messages above match {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
