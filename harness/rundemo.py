#!/usr/bin/env python3
"""rundemo.py N - run demo N for a class: its server and client on one
terminal, lines in the order they happened, then check them against
demos/NN-name/expect.py.

usage: rundemo.py [--full] [--verbose] [--live RUNS] [--step] N | --list | --programs N
  --full        print every line and every byte, as the programs printed them
  --verbose     print every line (long ones shortened to 100 columns)
  --live RUNS   run the broken pair RUNS times with nothing synchronised,
                and count what happened (demos 1, 2, 3, 4 and 8)
  --step        stop before every recv and ask what it will return (a terminal)
  --list        list the demos
  --programs N  the programs demo N runs (for make)
"""
import argparse
import os
import signal
import sys
from collections import defaultdict

import demolib
import draw
import live
from display import Display
from i18n import _
from suite import python_children_unbuffered

USAGE = __doc__.strip().split("\n\n")[1]


def use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def show(lines):
    for line in lines:
        print(line, flush=True)


def run_demo(demo, full: bool, verbose: bool) -> int:
    colour = use_colour()
    print(_("== demo {n}: {title}").format(n=demo.number, title=_(demo.title)))
    failed, compared, hidden = 0, [], 0
    d = demo.display
    named, said = set(), set()  # shared by the runs: a label, a legend is explained once
    for number, r in enumerate(demo.runs, 1):
        print()
        if r.label:
            print(f"-- {_(r.label)}")
        shown = Display(colour, verbose or full, hide_calls=calls_hidden(d, number),
                        labels=d.get("labels"), hide_conns=d.get("hide_conns", ()),
                        hide_lines=d.get("hide_lines", ()), named=named)
        # The programs print every byte (--full): the picture needs them, and
        # the display shortens what a person reads.
        outcome = demolib.run_pair(r, ["--full"], on_line=lambda l: show(shown.line(l)))
        show(shown.finish())
        hidden += shown.hidden
        if not outcome.error:
            conns = d.get("pictures", {}).get(number)
            show(draw.draw(outcome.lines, width=100, colour=colour, lesson_only=not verbose,
                           conns=None if verbose else conns, said=said))
        if outcome.skipped and not outcome.error:
            print(_("harness: skipped on this machine: {why}").format(why=outcome.skipped))
            continue
        problems = demolib.check(r, outcome)
        if problems:
            failed += 1
            print()
            print(demolib.report(r, outcome, problems, limit=0), file=sys.stderr)
        compared.append((r.label.split(":")[0], outcome.facts))
    print()
    for name in demo.compare:  # e.g. demo 5's median time per command, run by run
        shown = [f"{label} {facts[(side, n)]}" for label, facts in compared
                 for (side, n) in facts if n == name]
        print(f"{name}: " + " | ".join(shown))
    where = demo.path.relative_to(demolib.ROOT)
    if failed:
        print(_("harness: demo {n} did NOT do what {where} expects (see above)").format(
            n=demo.number, where=where))
        return 1
    print(_("harness: the sends, recvs and messages above match {where}").format(where=where))
    if hidden:
        print(_("({n} lines not shown - connections, facts, calls the pictures show: "
                "VERBOSE=1 shows every line)").format(n=hidden))
    return 0


def calls_hidden(display: dict, run_number: int):
    """DISPLAY's hide_calls for one run: True for every run, a list of runs,
    or {run: True or "server" or "client"}."""
    hide = display.get("hide_calls", False)
    if isinstance(hide, dict):
        return hide.get(run_number, False)
    if isinstance(hide, (list, tuple)):
        return run_number in hide
    return hide


def run_step(demo) -> int:
    """Step mode: before every recv a program says what waits and what the
    recv asks for; the class says what it will return; Enter shows it, and
    the picture so far."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(_("step mode waits for Enter before every recv: run it on a terminal"),
              file=sys.stderr)
        return 2
    colour = use_colour()
    print(_("== demo {n}: {title}").format(n=demo.number, title=_(demo.title)))
    for r in demo.runs:
        print()
        print(f"-- {_(r.label)}")
        shown = Display(colour, verbose=False, collapse=False)
        pair = demolib.PairRun(r, ["--full", "--step"], None, stdin_pipes=True)
        waiting = set()  # sides whose next recv line answers the question

        def on_line(line, pair=pair, shown=shown, waiting=waiting):
            show(shown.line(line))
            side = line.split(":")[0].split(" |")[0]
            if "[step]" in line:
                print(_("What will this recv return? (Enter to see) "), end="", flush=True)
                sys.stdin.readline()
                waiting.add(side)
                pair.answer(side)
            elif side in waiting and " | recv #" in line:
                waiting.discard(side)
                show(draw.draw(pair.lines, width=100, colour=colour))

        pair.on_line = on_line
        pair.run(timeout=3600)  # a person sets the pace
    return 0


def run_live(demo, runs: int) -> int:
    """The broken pair, runs times, nothing synchronised: one letter per run,
    then each outcome with its count and the gaps it happened at."""
    if demo.live is None:
        print(_("demo {n} has no live mode: what its recvs return does not depend on when "
                "they run (live mode: demos 1, 2, 3, 4 and 8)").format(n=demo.number),
              file=sys.stderr)
        return 2
    print(_("== demo {n}, live: the broken pair {runs} times, nothing synchronised").format(
        n=demo.number, runs=runs))
    letters, gaps = {}, defaultdict(list)

    def on_run(i, outcome, found, problems):
        letter = letters.setdefault(found, "ABCDEFGHIJ"[len(letters) % 10])
        print(letter if not problems else "!", end="" if i % 40 else "\n", flush=True)
        gap = outcome.facts.get(("client", "gap_us"))
        if isinstance(gap, int):
            gaps[found].append(gap)

    counts, problems = live.live_runs(demo, runs, on_run)
    print("" if runs % 40 == 0 else "\n", end="")
    print(_("outcomes over {runs} runs:").format(runs=runs))
    for found, n in counts.most_common():
        g = sorted(gaps.get(found, []))
        span = _("  (gap between the sends: {lo} to {hi} us)").format(lo=g[0], hi=g[-1]) if g else ""
        print(f"  {letters.get(found, '?')}  {found:<42} {n:3d}{span}")
    print(" | ".join(f"{found}: {n}" for found, n in counts.most_common()))
    if problems:
        print(_("harness: {n} problems:").format(n=len(problems)))
        for p in problems[:20]:
            print(f"  - {p}")
        return 1
    print(_("harness: in every run, each side's recvs joined are exactly the bytes the other "
            "side sent; how they were cut is what changed"))
    return 0


def main(argv) -> int:
    python_children_unbuffered()
    parser = argparse.ArgumentParser(add_help=False, usage=USAGE)
    parser.add_argument("demo", nargs="?")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--step", action="store_true")
    parser.add_argument("--live", type=int, metavar="RUNS")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--programs", action="store_true")
    parser.add_argument("-h", "--help", action="store_true")
    opts = parser.parse_args(argv)
    if opts.help:
        print(USAGE)
        return 0
    if opts.list:
        for d in demolib.all_demos():
            print(f"make demo-{d.number:<3d} {d.title}")
        return 0
    if not (opts.demo or "").isdigit() or (opts.live is not None and opts.live < 1):
        print(USAGE, file=sys.stderr)
        return 2
    demo = demolib.load_demo(int(opts.demo))
    if opts.programs:
        print(" ".join(f"bin/{name}" for name in demo.programs()))
        return 0
    if opts.live:
        return run_live(demo, opts.live)
    if opts.step:
        return run_step(demo)
    return run_demo(demo, opts.full, opts.verbose)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # make demo-7 | head: stop quietly
    sys.exit(main(sys.argv[1:]))
