"""demolib - run a demo's server and client, parse their send/recv lines,
and check them against the demo's expectations (demos/NN-name/expect.py).

Standard library only. Used by rundemo.py (make demo-N) and run_tests.py
(make test).
"""
import os
import re
import select
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from suite import BIN, DEMOS, LISTENING, ROOT, Skipped, pack_frame, sanitizer_reports

# The trace lines: the one place in Python that reads them (demos/common/trace.c
# is the one place in C that writes them).
# client | send #1 | conn 1 | at 0 | 5 bytes | "hello"
# server | recv #1 | conn 1 | at 0 | 10 bytes | "helloworld" | asked 1024
# server | message #1 | conn 1 | 5 bytes | "hello"       (a whole message, delivered)
# proxy-up | send #3 | conn 1 | at 10 | 2 bytes | "\x00\x05"  (a proxy's write toward the server)
# A note for people may follow the bytes in brackets: "..." [len 5, len 5]
CALL_LINE = re.compile(
    r'^(?P<side>client|server|proxy-up|proxy-down) \| (?P<op>send|recv|message) #(?P<num>\d+)'
    r' \| conn (?P<conn>\d+)(?: \| at (?P<at>\d+))? \| (?P<count>\d+) bytes'
    r' \| (?P<data>EOF|".*")(?: \[[^\]"]*\])?(?: \| asked (?P<asked>\d+))?$')
# client | fact | segments_sent = 2        (a measured number, checked by a rule)
FACT_LINE = re.compile(r'^(?P<side>client|server) \| fact \| (?P<name>[\w.-]+) = (?P<value>.*)$')
ESCAPE = re.compile(rb'\\(x[0-9a-fA-F]{2}|.)')
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b'"': b'"', b"\\": b"\\"}


def unescape(text: str) -> bytes:
    """The bytes behind one escaped literal body (without its quotes)."""
    def one(m):
        e = m.group(1)
        return bytes([int(e[1:], 16)]) if e[:1] == b"x" and len(e) == 3 else ESCAPES[e]
    return ESCAPE.sub(one, text.encode("latin-1"))


@dataclass
class Call:
    """One send or recv as a demo printed it."""
    side: str
    op: str
    num: int
    conn: int
    at: Optional[int]      # None for a message line
    count: int
    head: bytes            # all the bytes, or the first ones when abbreviated
    tail: Optional[bytes]  # None when head holds every byte
    asked: Optional[int]
    line_no: int           # position in the merged output of both programs

    def matches(self, data: bytes) -> bool:
        if self.count != len(data):
            return False
        if self.tail is None:
            return self.head == data
        return data.startswith(self.head) and data.endswith(self.tail)

    def describe(self) -> str:
        shown = repr(self.head) if self.tail is None else f"{self.head!r}...{self.tail!r}"
        return f"{self.side} {self.op} #{self.num} conn {self.conn}: {self.count} bytes {shown}"


def parse_call(line: str, line_no: int) -> Optional[Call]:
    m = CALL_LINE.match(line)
    if not m:
        return None
    data = m.group("data")
    head, tail = b"", None
    if data != "EOF":
        parts = data[1:-1].split('" ... "')  # abbreviated: "head" ... "tail"
        head = unescape(parts[0])
        tail = unescape(parts[1]) if len(parts) == 2 else None
    asked = m.group("asked")
    at = m.group("at")
    return Call(m.group("side"), m.group("op"), int(m.group("num")), int(m.group("conn")),
                int(at) if at else None, int(m.group("count")), head, tail,
                int(asked) if asked else None, line_no)


# ---- expectations, as written in demos/NN-name/expect.py ----

@dataclass
class Expected:
    side: str
    op: str
    num: int
    data: bytes
    conn: int = 1

    def describe(self) -> str:
        return f"{self.side} {self.op} #{self.num} conn {self.conn}: {len(self.data)} bytes {self.data!r}"


def send(side, num, data, conn=1):
    """The send call #num on this side and connection sent exactly these bytes."""
    return Expected(side, "send", num, data, conn)


def recv(side, num, data, conn=1):
    """The recv call #num on this side and connection returned exactly these bytes
    (b"" means it returned 0: the peer closed)."""
    return Expected(side, "recv", num, data, conn)


def message(side, num, data, conn=1):
    """The receiver delivered whole message #num with exactly these bytes."""
    return Expected(side, "message", num, data, conn)


frame = pack_frame  # body as a frame on the wire: a 4-byte big-endian length, then body


@dataclass
class Rule:
    """A relation the run's lines must satisfy, for what varies from run to
    run or kernel to kernel (how many recvs, how many segments)."""
    says: str
    holds: object  # a function of an Observed, returning True or False


def rule(says, holds):
    """Expect holds(observed) to be true; `says` is the claim, in words."""
    return Rule(says, holds)


@dataclass
class Run:
    """One server and one client run together, and every call they must make."""
    server: str
    client: str
    calls: List[Expected]
    args: List[str] = field(default_factory=list)
    label: str = ""
    ignore: tuple = ()          # ops not checked one by one (their count depends on timing)
    server_stays: bool = False  # a real server: stop it with SIGTERM once the client is done
    rules: List[Rule] = field(default_factory=list)
    server_args: List[str] = field(default_factory=list)  # for the server only


def run(server, client, calls=(), args=(), label="", ignore=(), server_stays=False, rules=(),
        server_args=()):
    return Run(server, client, list(calls), list(args), label, tuple(ignore), server_stays,
               list(rules), list(server_args))


@dataclass
class Demo:
    number: int
    name: str        # e.g. 01-coalesce
    title: str
    runs: List[Run]
    path: Path
    lesson: str      # the one sentence a class should take away
    live: Optional[dict] = None  # LIVE in expect.py: {"server": [args], "client": [args]}
    compare: List[str] = field(default_factory=list)  # COMPARE: facts shown run by run
    display: dict = field(default_factory=dict)  # DISPLAY: how make demo-N shows it (display.py)

    def programs(self) -> List[str]:
        """The programs its runs start, each once, in order (for `make demo-N`)."""
        names = [name for r in self.runs for name in (r.server, r.client)]
        return list(dict.fromkeys(names))


def load_demo(number: int) -> Demo:
    folders = sorted(DEMOS.glob(f"{number:02d}-*"))
    if not folders:
        raise SystemExit(f"no demo {number}: try 'make help'")
    folder = folders[0]
    path = folder / "expect.py"
    names = {"__name__": f"expect_{folder.name.replace('-', '_')}", "__file__": str(path)}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), names)
    return Demo(number, folder.name, names["TITLE"], names["RUNS"], path,
                names.get("LESSON", names["TITLE"]), names.get("LIVE"), names.get("COMPARE", []),
                names.get("DISPLAY", {}))


def all_demos() -> List[Demo]:
    numbers = sorted(int(p.name[:2]) for p in DEMOS.glob("[0-9][0-9]-*") if (p / "expect.py").exists())
    return [load_demo(n) for n in numbers]


# ---- running a server and a client on one shared output ----

@dataclass
class Outcome:
    commands: List[List[str]]
    codes: List[Optional[int]]
    lines: List[str]
    error: str = ""  # set when the run itself went wrong (no port, timeout)

    @property
    def calls(self) -> List[Call]:
        parsed = (parse_call(line, i) for i, line in enumerate(self.lines))
        return [c for c in parsed if c]

    @property
    def skipped(self) -> Optional[str]:
        """Why the run could not show its lesson on this machine, if a program
        said so (`fact | skipped = REASON`); None for a run that ran."""
        for (_, name), value in self.facts.items():
            if name == "skipped":
                return str(value)
        return None

    @property
    def facts(self):
        """{(side, name): value} from the fact lines; numbers become int or float."""
        found = {}
        for line in self.lines:
            m = FACT_LINE.match(line)
            if m:
                v = m.group("value").strip()
                try:
                    v = int(v)
                except ValueError:
                    try:
                        v = float(v)
                    except ValueError:
                        pass
                found[(m.group("side"), m.group("name"))] = v
        return found


class Observed:
    """What a rule sees: the calls and facts of one run."""

    def __init__(self, outcome: Outcome):
        self.all_calls = outcome.calls
        self.all_facts = outcome.facts

    def stream(self, side, op, conn) -> bytes:
        """The bytes of every send (or recv) on one side of a connection, in order.
        Exact only for an outcome run with --full (no abbreviated lines)."""
        return b"".join(c.head + (c.tail or b"") for c in self.calls(side, op, conn))

    def calls(self, side, op, conn=None) -> List[Call]:
        return [c for c in self.all_calls
                if c.side == side and c.op == op and (conn is None or c.conn == conn)]

    def count(self, side, op, conn=None) -> int:
        return len(self.calls(side, op, conn))

    def total(self, side, op, conn=None) -> int:
        """Bytes sent, received or delivered."""
        return sum(c.count for c in self.calls(side, op, conn))

    def fact(self, side, name):
        if (side, name) not in self.all_facts:
            raise KeyError(f"no line '{side} | fact | {name} = ...'")
        return self.all_facts[(side, name)]


class PairRun:
    """A server and its client on one pipe: the server starts on a free port,
    the client once the server has printed it. Both write to the one pipe,
    so their lines keep the order in which they were written."""

    def __init__(self, run_spec: Run, extra_args, on_line, sync=True, side_args=None,
                 stdin_pipes=False):
        # --sync: both demo programs make every run the same (see demo.h)
        self.spec, self.on_line, self.stdin_pipes = run_spec, on_line, stdin_pipes
        self.extra = [*extra_args, *(["--sync"] if sync else [])]
        self.side_args = side_args or {}  # {"server": [...], "client": [...]}
        self.procs, self.lines, self.pending, self.stopping = [], [], b"", False
        self.rfd, self.wfd = os.pipe()
        # a line longer than PIPE_BUF is not written atomically: both programs
        # take a lock on this file around each line (DEMO_OUTPUT_LOCK, demo.c)
        self.lock_fd, self.lock_path = tempfile.mkstemp(prefix="demo-output-", suffix=".lock")
        self.outcome = Outcome([], [], self.lines)

    def command(self, program, port="0"):
        # --full and the like are for demo programs, not bin/rsh-server
        flags = self.extra if program[:2].isdigit() else []
        side = "server" if port == "0" else "client"
        mine = self.spec.server_args if side == "server" else []
        return [str(BIN / program), "--port", port, *self.spec.args, *mine, *flags,
                *self.side_args.get(side, [])]

    def start(self, cmd):
        self.outcome.commands.append(cmd)
        stdin = subprocess.PIPE if self.stdin_pipes else subprocess.DEVNULL
        env = {**os.environ, "DEMO_OUTPUT_LOCK": self.lock_path}
        self.procs.append(subprocess.Popen(cmd, stdin=stdin, stdout=self.wfd, stderr=self.wfd,
                                           cwd=ROOT, env=env, start_new_session=True))

    def answer(self, side: str) -> None:
        """Step mode: let the program on that side go on (a line on its stdin)."""
        proc = self.procs[0 if side == "server" else 1] if len(self.procs) > 1 else self.procs[0]
        try:
            proc.stdin.write(b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it has ended meanwhile

    def take_line(self, line):
        self.lines.append(line)
        if self.on_line:
            self.on_line(line)
        m = LISTENING.search(line)
        if m and len(self.procs) == 1:
            self.start(self.command(self.spec.client, m.group(2)))
            os.close(self.wfd)  # from now on, EOF means both programs are done
            self.wfd = -1

    def pump(self, left) -> bool:
        """Read what the programs wrote; False once both are done."""
        ready, _, _ = select.select([self.rfd], [], [], min(left, 0.05))
        if not ready:
            return True
        chunk = os.read(self.rfd, 65536)
        if not chunk:
            return False  # every writer has exited
        *complete, self.pending = (self.pending + chunk).split(b"\n")
        for raw in complete:
            self.take_line(raw.decode("utf-8", "replace"))
        return True

    def stop_server_when_client_is_done(self):
        procs = self.procs
        if (self.spec.server_stays and len(procs) == 2 and procs[1].poll() is not None
                and procs[0].poll() is None and not self.stopping):
            procs[0].terminate()  # the client is done: stop the server, as a person would
            self.stopping = True

    def run(self, timeout) -> Outcome:
        deadline = time.monotonic() + timeout
        try:
            self.start(self.command(self.spec.server))
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.outcome.error = f"timed out after {timeout:.0f} s"
                    break
                self.stop_server_when_client_is_done()
                if not self.pump(left):
                    break
                if len(self.procs) == 1 and self.procs[0].poll() is not None and self.wfd >= 0:
                    self.outcome.error = "the server exited before printing 'listening on HOST:PORT'"
                    break
            if self.pending:
                self.lines.append(self.pending.decode("utf-8", "replace"))
        finally:
            self.finish()
        return self.outcome

    def finish(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            if p.stdin:
                p.stdin.close()
        self.outcome.codes = [p.wait() for p in self.procs]
        os.close(self.rfd)
        if self.wfd >= 0:
            os.close(self.wfd)
        os.close(self.lock_fd)
        os.unlink(self.lock_path)


def run_pair(run_spec: Run, extra_args=(), timeout=20.0, on_line=None, sync=True,
             side_args=None) -> Outcome:
    """Run the server and client of run_spec together (see PairRun), both with
    --sync unless sync is False; side_args adds {"server": [...], "client": [...]}."""
    return PairRun(run_spec, extra_args, on_line, sync, side_args).run(timeout)


# ---- checking an outcome against a Run ----

def check(run_spec: Run, outcome: Outcome) -> List[str]:
    """Every way the outcome differs from what the lesson says; [] if none."""
    problems = []
    if outcome.error:
        problems.append(outcome.error)
    for cmd, code in zip(outcome.commands, outcome.codes):
        if code != 0:
            problems.append(f"{Path(cmd[0]).name} exited with {code}")
    for marker in sanitizer_reports("\n".join(outcome.lines)):
        problems.append(f"a sanitizer report in the output ({marker!r})")
    if len(outcome.commands) < 2:
        return problems + ["the client never started"]
    calls = outcome.calls

    # 1. Each side's calls, in order, are exactly the expected ones.
    for side in ("server", "client"):
        got = [c for c in calls if c.side == side and c.op not in run_spec.ignore]
        want = [e for e in run_spec.calls if e.side == side]
        for i in range(max(len(got), len(want))):
            g = got[i] if i < len(got) else None
            w = want[i] if i < len(want) else None
            if g is None:
                problems.append(f"missing: {w.describe()}")
            elif w is None:
                problems.append(f"unexpected: {g.describe()}")
            elif (g.op, g.num, g.conn) != (w.op, w.num, w.conn) or not g.matches(w.data):
                problems.append(f"expected {w.describe()}\n      got {g.describe()}")

    # 2. Every rule holds.
    seen = Observed(outcome)
    for r in run_spec.rules:
        try:
            ok = r.holds(seen)
        except Exception as e:  # a missing fact is a failure of the run, not of the harness
            ok, r = False, Rule(f"{r.says} ({type(e).__name__}: {e})", r.holds)
        if not ok:
            problems.append(f"rule does not hold: {r.says}")

    # 3. Offsets add up, and no recv line comes before the send of its bytes.
    for c in calls:
        if c.op == "message":
            continue
        before = [p for p in calls if (p.side, p.op, p.conn) == (c.side, c.op, c.conn)
                  and p.line_no < c.line_no]
        if c.at != sum(p.count for p in before):
            problems.append(f"offset {c.at} is not the sum of earlier counts: {c.describe()}")
        if c.op == "recv" and c.count:
            end = c.at + c.count
            peer = [p for p in calls if p.op == "send" and p.conn == c.conn and p.side != c.side]
            sent = [p for p in peer if p.line_no < c.line_no]
            if peer and sum(p.count for p in sent) < end:  # (a real server prints no sends)
                problems.append(f"printed before the send of its bytes: {c.describe()}")
    return problems


def report(run_spec: Run, outcome: Outcome, problems: List[str], limit=200) -> str:
    """A failure report: the commands, exit codes, problems and the whole output."""
    out = ["commands:"]
    out += [f"  $ {' '.join(cmd)}  (exit {code})" for cmd, code in zip(outcome.commands, outcome.codes)]
    out.append("problems:")
    out += [f"  - {p}" for p in problems]
    out.append("output of both programs, in order:")
    out.append("  ------")
    shown = outcome.lines[:limit]
    out += [f"  {line}" for line in shown]
    if len(outcome.lines) > limit:
        out.append(f"  ... {len(outcome.lines) - limit} more lines")
    out.append("  ------")
    return "\n".join(out)
