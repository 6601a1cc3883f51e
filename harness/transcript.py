"""transcript.py - reading the lines a demo run printed, for the pictures.

The demos print one line per call (see README.md, "Reading the output"):

    client | send #1 | conn 1 | at 0 | 5 bytes | "hello"
    server | recv #1 | conn 1 | at 0 | 10 bytes | "helloworld" | asked 1024
    server | message #1 | conn 1 | 5 bytes | "hello"

and other lines for people, which are skipped, except three kinds:
"-- label" (rundemo's heading of a run), a fact about one connection
("client | fact | conn3.segments = 1") and a UDP server's "listening on"
line. sections() splits a transcript into runs; streams.py rebuilds the
byte streams of each run.
"""
import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import demolib

# demolib.CALL_LINE, widened: the proxy's sides, "1 bytes", and a note for
# people in [...] after the data ("... world" [len 5, len 5] | asked 1024).
QUOTED = r'"(?:[^"\\]|\\.)*"'
ANY_CALL = re.compile(
    r'^(?P<side>client|server|proxy-up|proxy-down) \| (?P<op>send|recv|message) #(?P<num>\d+)'
    r' \| conn (?P<conn>\d+)(?: \| at (?P<at>\d+))? \| (?P<count>\d+) bytes? \| '
    r'(?P<data>EOF|' + QUOTED + r'(?: \.\.\. ' + QUOTED + r')?)'
    r'(?: \[[^\]]*\])?(?: \| asked (?P<asked>\d+))?(?: \[[^\]]*\])?\s*$')
DATA = re.compile(r'"((?:[^"\\]|\\.)*)"(?: \.\.\. "((?:[^"\\]|\\.)*)")?$')
ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')
RUN_HEADER = re.compile(r'^-- (?P<label>.+)$')  # rundemo prints "-- broken: no boundaries"
CONN_FACT = re.compile(r'^conn(?P<conn>\d+)\.(?P<name>.+)$')  # "client | fact | conn1.segments = 5"
# demo 11's server: "listening on 127.0.0.1:8081 (UDP: bound; there is no listen)"
UDP_SERVER = re.compile(r'^server: listening on .*\bUDP\b')



def parse_line(text: str, line_no: int = 0) -> Optional[demolib.Call]:
    """One send, recv or message line as a demolib.Call; None for any other line.
    Colour codes and indentation (as in a saved report) are dropped first."""
    text = ANSI.sub("", text).strip()
    call = demolib.parse_call(text, line_no)
    if call:
        return call
    m = ANY_CALL.match(text)
    if not m:
        return None
    head, tail = b"", None
    if m.group("data") != "EOF":
        d = DATA.match(m.group("data"))
        head = demolib.unescape(d.group(1))
        if d.group(2) is not None:
            tail = demolib.unescape(d.group(2))
    at = int(m.group("at")) if m.group("at") else None
    asked = int(m.group("asked")) if m.group("asked") else None
    return demolib.Call(m.group("side"), m.group("op"), int(m.group("num")), int(m.group("conn")),
                        at, int(m.group("count")), head, tail, asked, line_no)


@dataclass
class Fact:
    """A number a demo measured about one connection ("client | fact | conn3.segments = 1")."""
    side: str
    conn: int
    name: str
    value: str


def parse_conn_fact(text: str) -> Optional[Fact]:
    """A fact line about one connection; None for any other line (other facts
    are about the whole run: the harness checks them, the pictures do not show them)."""
    m = demolib.FACT_LINE.match(ANSI.sub("", text).strip())
    if not m:
        return None
    about = CONN_FACT.match(m.group("name"))
    if not about:
        return None
    return Fact(m.group("side"), int(about.group("conn")), about.group("name"), m.group("value"))


@dataclass
class Section:
    """The lines of one run (one server and one client)."""
    label: str
    calls: List[demolib.Call] = field(default_factory=list)
    facts: List[Fact] = field(default_factory=list)
    udp: bool = False   # the server said it uses UDP: each send is a datagram


def sections(lines: Sequence[str]) -> List[Section]:
    """Split the lines into runs: at rundemo's "-- label" lines, and where a call
    seen before comes again with other data (a second run reuses conn 1)."""
    out = [Section("")]
    seen = {}
    for i, raw in enumerate(lines):
        text = ANSI.sub("", raw).strip()
        header = RUN_HEADER.match(text)
        if header:
            if out[-1].calls or out[-1].label:
                out.append(Section(header.group("label")))
            else:
                out[-1].label = header.group("label")
            seen = {}
            continue
        if UDP_SERVER.match(text):
            out[-1].udp = True
            continue
        fact = parse_conn_fact(text)
        if fact:
            out[-1].facts.append(fact)
            continue
        call = parse_line(text, i)
        if not call:
            continue
        key = (call.side, call.op, call.num, call.conn)
        if key in seen:
            if seen[key] == text:
                continue  # the same line twice (a transcript pasted twice)
            out.append(Section(""))
            seen = {}
        seen[key] = text
        out[-1].calls.append(call)
    return [s for s in out if s.calls]
