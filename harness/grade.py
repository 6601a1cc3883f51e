#!/usr/bin/env python3
"""grade.py - does your server (or client) survive a real network?

    python3 harness/grade.py --server 'python3 my_server.py {port}'
    python3 harness/grade.py --client 'python3 my_client.py {port}'
    python3 harness/grade.py --server 'python3 ssh_server.py {port}' --role shell --proto raw

On localhost every send() tends to arrive as one recv(), so a program that
forgets that TCP has no message boundaries (粘包 / 拆包) passes every test
its author runs. Here bin/splitproxy sits between your program and the
grader and re-cuts the bytes going to your program - two messages in one
write, a header split at each offset, one byte at a time, a connection cut
inside a frame, a length that is garbage - and the grader checks every byte
that comes back. A failed check prints the steps that led to it, numbered;
a check that fails the same way as one above it takes one line.

{port} in the command is replaced by a port: the one your server must
listen on (127.0.0.1), or the one your client must connect to. A client
gets its input on stdin - one message (role echo) or command (role shell)
per line - and stdin is closed after the last; it must print each echo or
answer, and an echo client must then exit with status 0.

Each step has a deadline (--deadline, 2 s); a program that hangs - still
waiting at the deadline, with nothing on its way to it - is killed with its
whole process group and reported as hanging, and so is one asleep with bytes
it has not read. One that is still busy (a slow machine, or a loop that
never ends) is given more time: 10 s, or 5 deadlines if that is longer. At
each cut the proxy waits until your program has read the bytes before it
(Linux; elsewhere it pauses: 40 ms at a split). A correct
program passes however the bytes come.

Roles (--role) and protocols (--proto):
  echo         frames: 4-byte big-endian length, then the body; the server
               sends every frame back; the client sends each line of stdin
               as a frame and prints each echo and a newline
  shell rsh    the suite's remote shell (solution/rsh-proto.h); a server
               that wrote a token for its port gets it first, in an 'A' frame
  shell !I     raw command bytes in; answer: 4-byte big-endian length of
               stdout+stderr, then those bytes
  shell i      the same with the course's struct.pack('i') header (this
               machine's byte order)
  shell raw    the course's naive shell: raw bytes in, raw output back; only
               one answer per command can be checked

Also a library: grade(Target(...), scenarios, Options(...)) -> [Result].
Exit status: 0 if every check passed, 1 if one failed, 2 for bad usage.
"""
# The code: this file is the command line and grade(); grade_scenarios.py what
# is done to a program, grade_session.py running it (and the proxy) with
# deadlines, grade_steps.py each step and what a failure says,
# grade_protocols.py the bytes of each protocol, grade_report.py the
# transcripts and what is printed, grade_procs.py ports, process groups, memory.
import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grade_scenarios as S  # noqa: E402
# The public API - grade(Target(...), select_scenarios(...), Options(...)) -> [Result] -
# and every name this module had before it was cut into grade_*.py modules:
from grade_procs import free_port, group_pids, listening_on, readable, rss_kib  # noqa: E402,F401
from grade_protocols import (ANSWER_LIMIT, Codec, EchoCodec, HeaderCodec, RawCodec,  # noqa: E402,F401
                             RshCodec, codec_for, escape, parse_frame, parse_raw_request, shown)
from grade_report import Transcript, collapse, print_results, say, summary, title_of  # noqa: E402,F401
from grade_session import (DEADLINE, RSS_EVERY, RSS_GROWTH_KIB, STDERR_LINES,  # noqa: E402,F401
                           Options, Result, Run, StepFailed, Target)
from grade_steps import Steps, longest_prefix_printed  # noqa: E402,F401
from i18n import _  # noqa: E402
from suite import BIN, python_children_unbuffered, sanitizer_reports  # noqa: E402


class Session(Steps, Transcript, Run):
    """One scenario against one student program, run (grade_session), its steps
    (grade_steps) and its transcript (grade_report)."""


def not_applicable(scn, target, codec):
    """Why scn does not apply to this target (empty if it does)."""
    if target.role not in scn.roles:
        return _("only for role {roles}").format(roles=", ".join(scn.roles))
    framed = codec.framed_requests if target.mode == "server" else codec.framed_answers
    if scn.needs_frames and not framed:
        return _("the bytes toward this {side} carry no header").format(side=_(target.mode))
    if scn.needs_answer_frames and not codec.framed_answers:
        return _("the answers carry no header: an empty one cannot be seen")
    return ""


def run_scenario(target: Target, scn: S.Scenario, opts: Options) -> Result:
    """Run one scenario; a Result says whether it passed, and if not, the transcript."""
    started = time.monotonic()
    session = Session(target, scn, opts)
    title = title_of(scn, session.codec, target.mode)
    why = not_applicable(scn, target, session.codec)
    sched = session.schedule()
    if not why and sched is None:
        why = _("its cut falls outside the bytes")
    if why:
        session.tmp.cleanup()
        return Result(scn, title, True, skipped=why)
    try:
        session.start(sched)
        session.run()
    except StepFailed as e:
        session.failures.append(e)
        session.event("fail", e.text)
    finally:
        fate = session.stop()
    try:
        check_sanitizers(session)
        passed = not session.failures
        return Result(scn, title, passed, transcript="" if passed else session.report(fate),
                      seconds=time.monotonic() - started, cause="" if passed else session.cause(fate))
    finally:
        session.tmp.cleanup()


def check_sanitizers(session):
    """A program built with ASan or UBSan says more than its exit status."""
    if session.student is None:
        return
    reports = sanitizer_reports(session.tail(session.student_err, 10 ** 6, 1 << 22))
    if reports:
        session.failures.append(StepFailed(_("its stderr holds a sanitizer report ({r})").format(
            r=", ".join(reports))))
        session.event("fail", session.failures[-1].text)


def select_scenarios(role="echo", only=None, short=False, all_offsets=False, seeds=()):
    chosen = [s for s in S.SCENARIOS if not short or s.short]
    if all_offsets:
        chosen += S.all_offsets()
    if seeds:
        chosen += S.seeded(seeds)
    if only:
        names = set(only)
        chosen = [s for s in S.SCENARIOS + S.all_offsets() + S.seeded(seeds or [1]) if s.name in names]
        known = {s.name for s in chosen}
        unknown = names - known
        if unknown:
            raise ValueError(_("no scenario named {names}: see --list").format(names=", ".join(sorted(unknown))))
        seen, unique = set(), []
        for s in chosen:
            if s.name not in seen:
                seen.add(s.name)
                unique.append(s)
        chosen = unique
    return [s for s in chosen if role in s.roles]


def grade(target: Target, scenarios, opts: Options = None) -> List[Result]:
    """Run the scenarios (opts.jobs at a time); the results in the scenarios' order."""
    opts = opts or Options()
    with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        return list(pool.map(lambda s: run_scenario(target, s, opts), scenarios))


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="grade.py", description=_(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="grade.py (--server CMD | --client CMD) [--role echo|shell] [--proto rsh|i|!I|raw]\n"
              "                [--list] [--only NAME[,NAME...]] [--short] [--all-offsets] [--seeds 1,2,3]\n"
              "                [--deadline SECONDS] [--jobs N] [--proxy PATH]")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--server", metavar="CMD", help=_("the student's server; {port} is where it must listen"))
    who.add_argument("--client", metavar="CMD", help=_("the student's client; {port} is where it must connect"))
    p.add_argument("--role", choices=("echo", "shell"), default="echo")
    p.add_argument("--proto", choices=("rsh", "i", "!I", "raw"), default=None,
                   help=_("for --role shell (default rsh)"))
    p.add_argument("--list", action="store_true", help=_("list the scenarios and exit"))
    p.add_argument("--only", metavar="NAME", help=_("run only these scenarios (comma-separated)"))
    p.add_argument("--short", action="store_true", help=_("only the short set"))
    p.add_argument("--all-offsets", action="store_true", help=_("also cut at every offset (make stress)"))
    p.add_argument("--seeds", metavar="LIST", default="", help=_("also cut at random with these seeds"))
    p.add_argument("--deadline", metavar="SECONDS", type=float, default=DEADLINE,
                   help=_("seconds per step (default 2)"))
    p.add_argument("--jobs", metavar="N", type=int, default=4, help=_("scenarios run at once (default 4)"))
    p.add_argument("--proxy", metavar="PATH", type=Path, default=BIN / "splitproxy",
                   help=_("the splitting proxy (default {path})").format(path=BIN / "splitproxy"))
    args = p.parse_args(argv)
    if args.proto and args.role != "shell":
        p.error(_("--proto is for --role shell"))
    if not args.list and not (args.server or args.client):
        p.error(_("give --server CMD or --client CMD"))
    cmd = args.server or args.client
    if cmd and "{port}" not in cmd:
        p.error(_("the command must hold {port}, where the port goes"))
    try:
        args.seed_list = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        p.error(_("--seeds takes numbers: 1,2,3"))
    return args


def main(argv=None):
    python_children_unbuffered()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    role, proto = args.role, args.proto or "rsh"
    try:
        scenarios = select_scenarios(role, args.only.split(",") if args.only else None, args.short,
                                     args.all_offsets, args.seed_list)
    except ValueError as e:
        print(f"grade.py: {e}", file=sys.stderr)
        return 2
    if args.list:
        codec = codec_for(role, proto)
        for s in scenarios:
            print(f"{s.name:<22} {title_of(s, codec, 'server')}")
        return 0
    target = Target("server" if args.server else "client", args.server or args.client, role, proto)
    opts = Options(deadline=args.deadline, proxy=args.proxy, jobs=args.jobs, cwd=Path.cwd())
    what = _("the server") if args.server else _("the client")
    if role == "shell":
        title = _("Grading {what}: {cmd} (role shell, protocol {proto})").format(
            what=what, cmd=target.command, proto=proto)
    else:
        title = _("Grading {what}: {cmd} (role echo)").format(what=what, cmd=target.command)
    say(title, sys.stdout)
    results = grade(target, scenarios, opts)
    print_results(target, results)
    return 0 if summary(results)[1] == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `grade.py ... | head`: the reader has stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
