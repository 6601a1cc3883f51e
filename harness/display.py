"""display - what `make demo-N` shows a class, from the lines the programs
print: the same lines, fitted to a projector.

The programs' own lines are the contract with the harness, and the harness
checks all of them; this only decides how they are shown:
- at most WIDTH (100) columns: a long sentence wraps under its speaker, a
  long send/recv line shows fewer of its bytes;
- a block of lines that repeats (the same recv thirty times, the same
  command three times) is shown once, then counted;
- connection chatter (listening, accepted, connected; the remote shell's
  own log), the fact lines (the harness reads them; the sentences say them)
  and, where a demo asks for it (DISPLAY in its expect.py), the send/recv
  lines (all of a run's, with their [sync] lines, or one side's) and lines
  of details are left out, unless --verbose; they are counted, and one line
  at the end says how many;
- a long byte string the demo names (DISPLAY's labels: demo 4's long
  command) is shown by its name after its first mention;
- colour on a terminal only, never with NO_COLOR: client cyan, server
  yellow, [sync] and [step] lines dim, errors red.
"""
import re
from typing import List, Optional

from demolib import parse_call
from i18n import _
from textcells import display_width

WIDTH = 100
COLOURS = {"client": "\033[36m", "server": "\033[33m", "error": "\033[31m", "dim": "\033[2m"}
RESET = "\033[0m"
CHATTER = re.compile(r"^((server|client): (listening on |accepted conn |connected conn )"
                     r"|listening on |rsh-server: (token in |client \d+ (connected|disconnected)"
                     r"|caught signal ))")
FACT = re.compile(r"^(server|client) \| fact \| ")
SYNC_TO = re.compile(r"^(server|client): \[sync\] to the peer: (.*)$")
SYNC_FROM = re.compile(r"^(server|client): \[sync\] from the peer: (.*)$")
SPEAKER = re.compile(r"^(server|client): ")
DATA = re.compile(r'\| (\d+) bytes \| (".*")( \[[^\]"]*\])?( \| asked \d+)?$')
# What may differ between lines that repeat: the call's number and offset
# (NUMBERS); after MIN_LOOSE repeats, its bytes too (BYTES) and, for a call
# line alone, its byte count (COUNT). Never a measured value.
NUMBERS = re.compile(r"#\d+|at \d+")
BYTES = re.compile(r"\| \".*\"( \[[^\]\"]*\])?")
COUNT = re.compile(r"\| \d+ bytes")
MESSAGE = re.compile(r"^\S+ \| message #")
ESCAPES = {10: "\\n", 13: "\\r", 9: "\\t", 34: '\\"', 92: "\\\\"}
MAX_PERIOD = 12   # the longest block of lines looked for as a repeat
MIN_REPEATS = 2   # a block shown once and then counted when it comes this many more times
MIN_LOOSE = 4     # a call line counted with others of other sizes: this many more at least


def escape(data: bytes) -> str:
    """Bytes as the demos print them: C-style escapes."""
    return "".join(ESCAPES.get(b) or (chr(b) if 32 <= b < 127 else f"\\x{b:02x}") for b in data)


def escape_fit(data: bytes, room: int, from_end: bool) -> str:
    """As many of data's first (or last) bytes as fit in room columns, escaped."""
    pieces, used = [], 0
    for b in (reversed(data) if from_end else data):
        e = escape(bytes([b]))
        if used + len(e) > room:
            break
        pieces.append(e)
        used += len(e)
    return "".join(reversed(pieces) if from_end else pieces)


WIDE = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"  # CJK, and its punctuation
CLOSING = "，。：；、！？）」』】》"  # never the first of a line: it goes with what it follows
TOKEN = re.compile(f"(?:[{WIDE}]|[^\\s{WIDE}]+)[{CLOSING}]*|\\s+")


def wrap(text: str, width: int, indent: str) -> List[str]:
    """text in lines of at most width columns (a Chinese character takes
    two), broken at spaces or between Chinese characters; the lines after
    the first start with indent. A word longer than a line is cut."""
    lines, line = [], ""
    for token in TOKEN.findall(text):
        if display_width(line + token) <= width:
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip())
            line = indent
        token = token.lstrip() if line == indent else token
        while display_width(line + token) > width:  # a word longer than a line
            room = width - display_width(line)
            cut = next(i for i in range(len(token), -1, -1) if display_width(token[:i]) <= room)
            lines.append(line + token[:cut])
            line, token = indent, token[cut:]
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def repeats(norm: List[str], period: int) -> int:
    """How many more times norm's first `period` lines come again, right after."""
    times = 0
    while norm[(times + 1) * period:(times + 2) * period] == norm[:period]:
        times += 1
    return times


def count_list(counts: List[int]) -> str:
    """"32768 bytes (30 times), 16384 bytes": each size once, in order, with
    how often it came; "16384 to 49152 bytes" when there are more than 3."""
    sizes = list(dict.fromkeys(counts))
    if len(sizes) > 3:
        return _("{lo} to {hi} bytes").format(lo=min(sizes), hi=max(sizes))
    parts = []
    for n in sizes:
        k = counts.count(n)
        parts.append(_("{n} bytes ({k} times)").format(n=n, k=k) if k > 1 else
                     _("{n} bytes").format(n=n))
    return ", ".join(parts)


class Display:
    """hide_calls: False; True (every send and recv line of the run, and its
    [sync] lines); or "server" / "client" (that side's send and recv lines).
    hide_lines: patterns of lines that are details (demo 7's narration)."""

    def __init__(self, colour=False, verbose=False, width=WIDTH, hide_calls=False, labels=None,
                 collapse=True, hide_conns=(), hide_lines=(), named=None):
        self.colour, self.verbose, self.width = colour, verbose, width
        self.hide_calls = False if verbose else hide_calls
        self.collapse = collapse and not verbose
        self.hide_conns = set() if verbose else set(hide_conns)
        self.hide_lines = [] if verbose else [re.compile(p) for p in hide_lines]
        self.labels = {data: name for data, name in (labels or {}).items()}
        self.named = set() if named is None else named  # shared by a demo's runs
        self.pending: List[str] = []  # lines held back while a repeat may be forming
        self.hidden = 0  # lines left out, for the one note at the end

    # ---- the lines of a run, one at a time ----

    def line(self, raw: str) -> List[str]:
        """What to print now for one line the programs printed."""
        if self.left_out(raw):
            self.hidden += 1
            return []
        if not self.collapse:
            return self.render(raw)
        if self.pending and self.merge_sync(raw):
            return []
        self.pending.append(raw)
        return self.release(final=False)

    def left_out(self, raw: str) -> bool:
        if self.verbose:
            return False
        if CHATTER.match(raw) or FACT.match(raw) or any(p.search(raw) for p in self.hide_lines):
            return True
        if self.hide_calls is True and "[sync]" in raw:
            return True
        call = parse_call(raw, 0)
        if not call:
            return False
        if call.conn in self.hide_conns:
            return True
        return call.op in ("send", "recv") and self.hide_calls in (True, call.side)

    def merge_sync(self, raw: str) -> bool:
        """"server: [sync] to the peer: X" then "client: [sync] from the peer: X"
        become one line: "[sync] server -> client: X"."""
        said = SYNC_TO.match(self.pending[-1])
        heard = SYNC_FROM.match(raw)
        if not (said and heard and said.group(2) == heard.group(2) and said.group(1) != heard.group(1)):
            return False
        self.pending[-1] = f"{said.group(1)}: [sync] -> {heard.group(1)}: {said.group(2)}"
        return True

    def finish(self) -> List[str]:
        """The lines still held back (self.hidden: how many were left out)."""
        return self.release(final=True)

    # ---- repeats ----

    def release(self, final: bool) -> List[str]:
        """Print what can no longer be part of a repeat; collapse what was one."""
        out = []
        while self.pending:
            period, times = self.repeat_at_start()
            whole = period * (times + 1)
            if times >= MIN_REPEATS and (final or len(self.pending) > whole + period):
                out += self.shown_block(self.pending[:period], times, self.pending[whole - period])
                del self.pending[:whole]
                continue
            if times >= 1 and not final:
                break  # a repeat may still be forming: wait for more lines
            if not final and len(self.pending) <= MAX_PERIOD * (MIN_REPEATS + 1):
                break
            out += self.render(self.pending.pop(0))
        return out

    def repeat_at_start(self):
        """(period, how many more times the first `period` lines come again):
        lines equal but for their numbers and offsets; or, for MIN_LOOSE
        repeats and more, alike but for their bytes; or, for a call line
        alone, for its byte count too."""
        exact = [NUMBERS.sub("#", line) for line in self.pending]
        # a message is the lesson's result: never shown only as "alike"
        alike = [line if MESSAGE.match(line) else BYTES.sub("#", line) for line in exact]
        best = (1, 0)
        for norm, least in ((exact, 1), (alike, MIN_LOOSE)):
            for period in range(1, MAX_PERIOD + 1):
                times = repeats(norm, period)
                if times >= least and period * times > best[0] * best[1]:
                    best = (period, times)
        sizes = [COUNT.sub("#", line) for line in alike]
        times = repeats(sizes, 1)
        if times >= MIN_LOOSE and times > best[0] * best[1] and parse_call(self.pending[0], 0):
            best = (1, times)
        return best

    def shown_block(self, block: List[str], times: int, last: str) -> List[str]:
        """The block once, then one line for its repeats: alike, numbers and
        bytes aside (each line was checked by the harness all the same)."""
        out = [line for raw in block for line in self.render(raw)]
        first, final = re.search(r"#(\d+)", block[0]), re.search(r"#(\d+)", last)
        span = f" (#{int(first.group(1)) + 1}..#{final.group(1)})" if first and final else ""
        call = parse_call(block[0], 0)
        if len(block) == 1 and call and first and final:
            counts = [c.count for c in (parse_call(l, 0) for l in self.pending[1:times + 1]) if c]
            a, b = int(first.group(1)) + 1, final.group(1)
            if len(set(counts)) == 1:
                text = _("... {op} #{a}..#{b}: {count} bytes each").format(
                    op=call.op, a=a, b=b, count=counts[0])
            else:
                text = _("... {op} #{a}..#{b}: {sizes}").format(
                    op=call.op, a=a, b=b, sizes=count_list(counts))
        elif len(block) == 1:
            text = _("... and {times} more like it{span}").format(times=times, span=span)
        else:
            text = _("... and the same {n} lines {times} more times{span}").format(
                n=len(block), times=times, span=span)
        out.append(self.paint("    " + text, "dim"))
        return out

    # ---- one line ----

    def render(self, raw: str) -> List[str]:
        call = parse_call(raw, 0)
        if call:
            return [self.paint(self.fit_call(raw, call), call.side)]
        raw = self.name_in_sentence(raw)
        kind = "dim" if ("[sync]" in raw or "[step]" in raw) else \
            "error" if ": error" in raw else None
        m = SPEAKER.match(raw)
        if display_width(raw) <= self.width:
            return [self.paint(raw, kind)]
        indent = " " * len(m.group(0)) if m else ""
        return [self.paint(part, kind) for part in wrap(raw, self.width, indent)]

    def name_in_sentence(self, raw: str) -> str:
        """A named byte string that a sentence quotes (whole, or as the
        programs shorten it: 32 bytes ... 16 bytes), by its name."""
        for data, name in self.labels.items():
            forms = [f'"{escape(data)}"']
            if len(data) > 48:
                forms.append(f'"{escape(data[:32])}" ... "{escape(data[-16:])}"')
            for form in forms:
                if form in raw and name not in self.named:
                    self.named.add(name)  # the first mention shows the bytes
                elif form in raw:
                    raw = raw.replace(form, f"«{name}»")
        return raw

    def fit_call(self, raw: str, call) -> str:
        """The line with its bytes named, or fewer of them shown, to fit."""
        m = DATA.search(raw)
        if not m or call.count == 0:
            return raw
        before, after = raw[:m.start(2)], (m.group(3) or "") + (m.group(4) or "")
        data = call.head if call.tail is None else None
        name = self.labels.get(data) if data is not None else None
        if name is not None and name in self.named:
            return f"{before}«{name}»{after}"
        if name is not None:
            self.named.add(name)
        if len(raw) <= self.width:
            return raw
        note, asked = m.group(3) or "", m.group(4) or ""
        if len(before) + len(note) + len(asked) + 21 > self.width:  # the note must give way
            note = note[:max(6, self.width - len(before) - len(asked) - 25)].rstrip(", ") + "...]"
        after = note + asked
        room = max(12, self.width - len(before) - len(after) - 9)
        tail = call.tail if call.tail is not None else call.head
        shown_head = escape_fit(call.head, room * 2 // 3, from_end=False)
        shown_tail = escape_fit(tail, room // 3, from_end=True)
        return f'{before}"{shown_head}" ... "{shown_tail}"{after}'

    def paint(self, text: str, kind: Optional[str]) -> str:
        if not self.colour or kind not in COLOURS:
            return text
        return COLOURS[kind] + text + RESET
