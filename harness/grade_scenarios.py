"""grade_scenarios - what harness/grade.py does to a student's program, step by step.

Each scenario is a list of steps, written once for both kinds of program:

  - a student SERVER: the grader is the client. write() sends requests
    (frames, or commands) toward the server; expect() reads the server's
    answer and compares it.
  - a student CLIENT: the grader is the server. Every line the scenario
    needs is typed on the client's stdin first; write() sends answers
    toward the client (after the client has sent the request the first of
    them answers); expect() looks for the answer on the client's stdout.

Between the grader and the student sits bin/splitproxy. `toward` is the
schedule it applies to the bytes going toward the student (the direction
where a reader's bugs show); the other direction is passed as read.

The steps:
  write(A, B, ...)        the bytes of these messages, in ONE write
  write_bytes(server=..., client=..., answering=M)
                          raw bytes instead of a message (garbage); with a
                          student client, they answer message M
  write_garbage_length(N, answering=M)
                          a header announcing N bytes, then a few bytes
  expect(M)               the student delivers M: whole, once, in order
  expect_refusal()        the student refuses what it got: a server closes
                          the connection, a client exits with an error -
                          within the deadline, and without allocating for a
                          length it was told (its memory is watched)
  reconnect()             a second connection, straight to the server (no
                          proxy): a server must go on serving after a bad
                          client. Skipped for a student client.

The schedules (toward=...), as splitproxy names them:
  passed()                forward as read
  coalesce(30)            hold what arrives within 30 ms, then one write
  split_at(2)             cut after byte 2 of the stream; wait until the
                          student has read byte 2 (splitproxy, Linux), then gap_ms
  split_at(after_start(WORLD, 2))
                          cut after byte 2 of WORLD's encoding, wherever
                          it falls in the stream (the grader works it out)
  drip(5)                 one byte per write, each once the student has read
                          the one before, then 5 ms more
  randomly(7)             cuts drawn from seed 7: the same every run
  eof_after(after_start(HELLO, 6))
                          close the stream after byte 6 of HELLO

For example, "two messages in one write" reads
    [write(HELLO, WORLD), expect(HELLO), expect(WORLD)]
and a student server gets "\x00\x00\x00\x05hello\x00\x00\x00\x05world" in one
piece, and must echo "hello", then "world".

A message has a body (role echo: sent, and echoed back) and a command with
its output (role shell). In the titles, {msg} and {msgs} become "message",
"command", "echo" or "answer", as fits the role and the side; {header}
and {frame} become "the header" and "the frame", or "the command" (or
"the answer") where the bytes carry no header.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from i18n import N_

# ---- the messages --------------------------------------------------------


@dataclass(frozen=True)
class Msg:
    name: str
    body: bytes      # role echo: the line typed, the frame's body, the echo
    command: bytes   # role shell: the command (a line typed, or sent)
    output: bytes    # role shell: what the command prints (stdout, then stderr)


def msg(name, body, command, output):
    return Msg(name, body, command, output)


# The awk command of demos 4 and 5: 2600 bytes of output on every machine.
LONG_COMMAND = (b"awk 'BEGIN { for (i = 1; i <= 100; i++) "
                b"printf \"line %03d of a long output\\n\", i }'")
LONG_OUTPUT = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))
MIB = 1024 * 1024

HELLO = msg("hello", b"hello", b"echo hello", b"hello\n")
WORLD = msg("world", b"world", b"echo world", b"world\n")
HI = msg("hi", b"hi", b"echo hi", b"hi\n")
EMPTY = msg("empty", b"", b"true", b"")
LONG = msg("long", b"line 001 " * 300, LONG_COMMAND, LONG_OUTPUT)  # 2700 / 2600 bytes
ONE_MIB = msg("1 MiB", bytes(b"0123456789abcdef"[i % 16] for i in range(MIB)),
              b"head -c 1048576 /dev/zero | tr '\\000' x", b"x" * MIB)
MANY = [msg(f"#{i}", b"message %03d %s" % (i, b"+" * (i % 37)), b"echo %d" % i, b"%d\n" % i)
        for i in range(1, 201)]

# ---- steps -----------------------------------------------------------------


@dataclass
class Step:
    kind: str                        # write, write_bytes, expect, expect_refusal, reconnect
    msgs: Tuple[Msg, ...] = ()
    to_server: bytes = b""           # write_bytes: the bytes for a student server ...
    to_client: bytes = b""           # ... and for a student client
    garbage_length: Optional[int] = None
    within: float = 1.0              # the deadline, in units of --deadline


def write(*msgs):
    return Step("write", msgs)


def write_bytes(server, client, answering):
    return Step("write_bytes", (answering,), to_server=server, to_client=client)


def write_garbage_length(length, answering):
    return Step("write_bytes", (answering,), garbage_length=length)


def expect(m, within=1.0):
    return Step("expect", (m,), within=within)


def expect_refusal():
    return Step("expect_refusal")


def reconnect():
    return Step("reconnect")


# ---- offsets in the stream toward the student, for split-at and eof-after ----

@dataclass(frozen=True)
class At:
    """Byte `delta` of message `of`'s encoding, counted in the whole stream
    toward the student (the grader knows where each message starts)."""
    of: Optional[Msg]
    delta: int


def after_start(m, delta):
    return At(m, delta)


@dataclass
class Sched:
    """A splitproxy schedule; the At offsets are filled in when the bytes are known."""
    kind: str
    points: Tuple = ()
    arg: str = ""


def passed():
    return Sched("pass")


def split_at(*points):
    return Sched("split-at", tuple(p if isinstance(p, At) else At(None, p) for p in points))


def drip(ms):
    return Sched("drip", arg=str(ms))


def coalesce(ms):
    return Sched("coalesce", arg=f"{ms}ms")


def randomly(seed):
    return Sched("random", arg=str(seed))


def eof_after(point):
    return Sched("eof-after", (point if isinstance(point, At) else At(None, point),))


# ---- scenarios ---------------------------------------------------------------

@dataclass
class Scenario:
    name: str
    title: str                 # {msg} / {msgs}: the noun for the role and side
    steps: List[Step]
    toward: Sched = field(default_factory=passed)
    gap_ms: int = 2            # splitproxy --gap: the pause after each re-cut write (once it is read)
    short: bool = False        # in the short set (make test)
    roles: Tuple[str, ...] = ("echo", "shell")
    needs_frames: bool = False  # only where the bytes toward the student carry a header
    needs_answer_frames: bool = False  # only where answers carry a header (to see an empty one)
    stress: bool = False       # only with --all-offsets / --seeds
    shell_title: str = ""      # the title for role shell, where it must differ
    title_args: dict = field(default_factory=dict)  # the numbers in the title: {k}, {seed}


def scenario(name, title, steps, **kw):
    return Scenario(name, title, list(steps), **kw)


# At a cut the proxy waits until the student has read every byte before it
# (Linux: its socket's receive queue is empty), however late it wakes, then
# this gap: the recv() that took those bytes has returned by then, so the
# next piece comes to another recv() - a buggy program fails every time, on
# a loaded machine too (a correct one passes either way). Where the proxy
# cannot see reads, the gap alone separates the pieces: 40 ms, usually enough.
SPLIT_GAP = 40


def header_split(k, short=False):
    return scenario(f"split-at-{k}", N_("{header} split at offset {k}"),
                    [write(HELLO), expect(HELLO)], toward=split_at(k), gap_ms=SPLIT_GAP, short=short,
                    title_args={"k": k})


SCENARIOS = [
    scenario("two-in-one-write", N_("two {msgs} in one write"),
             [write(HELLO, WORLD), expect(HELLO), expect(WORLD)],
             toward=coalesce(30), short=True),
    header_split(1), header_split(2, short=True), header_split(3),
    scenario("split-at-4", N_("{frame} split after its 4th byte"),
             [write(HELLO), expect(HELLO)], toward=split_at(4), gap_ms=SPLIT_GAP),
    scenario("split-in-body", N_("{frame} split after its 6th byte"),
             [write(HELLO), expect(HELLO)], toward=split_at(6), gap_ms=SPLIT_GAP),
    scenario("split-second-header", N_("one {msg} and the first 2 bytes of the next in one write"),
             [write(HELLO, WORLD), expect(HELLO), expect(WORLD)],
             toward=split_at(after_start(WORLD, 2)), gap_ms=SPLIT_GAP, short=True),
    scenario("drip", N_("one byte at a time"),
             [write(HELLO, WORLD), expect(HELLO), expect(WORLD)], toward=drip(5), short=True),
    scenario("empty", N_("a zero-length {msg}"),
             [write(EMPTY), expect(EMPTY), write(HELLO), expect(HELLO)],
             needs_answer_frames=True, short=True, shell_title=N_("a command with no output")),
    scenario("one-mib", N_("a 1 MiB {msg}"), [write(ONE_MIB), expect(ONE_MIB, within=2)], short=True,
             shell_title=N_("an answer of 1 MiB")),
    scenario("long-answer", N_("a 2600-byte answer, then the next command"),
             [write(LONG), expect(LONG), write(HI), expect(HI)], roles=("shell",)),
    scenario("pipelined", N_("200 {msgs} in one write"),
             [write(*MANY)] + [expect(m, within=2 if i == 0 else 1) for i, m in enumerate(MANY)],
             short=True),
    scenario("eof-mid-frame", N_("the connection closed inside a frame"),
             [write(HELLO), expect_refusal(), reconnect(), write(WORLD), expect(WORLD)],
             toward=eof_after(after_start(HELLO, 6)), needs_frames=True, short=True),
    scenario("garbage-length", N_("a header announcing 2 GiB (0x7fffffff)"),
             [write_garbage_length(0x7fffffff, answering=HELLO), expect_refusal(),
              reconnect(), write(WORLD), expect(WORLD)], needs_frames=True, short=True),
    scenario("http", N_("HTTP instead of frames"),
             [write_bytes(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
                          b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", answering=HELLO),
              expect_refusal(), reconnect(), write(WORLD), expect(WORLD)], needs_frames=True),
    scenario("random-1", N_("bytes cut at random (seed {seed})"),
             [write(*MANY[:40])] + [expect(m) for m in MANY[:40]], toward=randomly(1), gap_ms=1,
             title_args={"seed": 1}),
]


def all_offsets():
    """make stress: the two-message stream split at each of its offsets in turn."""
    # The stream is HELLO then WORLD; offsets past HELLO's encoding fall in WORLD's.
    found = []
    for k in range(1, 64):
        where = At(HELLO, k)
        found.append(scenario(f"offset-{k}", N_("two {msgs} in one write, cut at offset {k}"),
                              [write(HELLO, WORLD), expect(HELLO), expect(WORLD)],
                              toward=split_at(where), gap_ms=SPLIT_GAP, stress=True,
                              title_args={"k": k}))
    return found


def seeded(seeds):
    """make stress: 100 {msgs} cut at random, for each seed."""
    return [scenario(f"random-{s}", N_("bytes cut at random (seed {seed})"),
                     [write(*MANY[:100])] + [expect(m) for m in MANY[:100]],
                     toward=randomly(s), gap_ms=1, stress=True, title_args={"seed": s})
            for s in seeds]
