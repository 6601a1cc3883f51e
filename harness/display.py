"""display - what `make demo-N` shows a class, from the lines the programs
print: the same lines, fitted to a projector.

The programs' own lines are the contract with the harness, and the harness
checks all of them; this only decides how they are shown:
- at most WIDTH (100) columns: a long sentence wraps under its speaker, a
  long send/recv line shows fewer of its bytes;
- a block of lines that repeats (the same recv thirty times, the same
  command three times) is shown once, then counted;
- connection chatter (listening, accepted, connected), the fact lines (the
  harness reads them; the sentences say them) and, where a demo asks for it
  (DISPLAY in its expect.py), the send/recv lines are left out, unless
  --verbose;
- a long byte string the demo names (LABELS in its expect.py: demo 4's long
  command) is shown by its name after its first mention;
- colour on a terminal only, never with NO_COLOR: client cyan, server
  yellow, [sync] and [step] lines dim, errors red.
"""
import re
import textwrap
from typing import List, Optional

from demolib import parse_call
from i18n import _

WIDTH = 100
COLOURS = {"client": "\033[36m", "server": "\033[33m", "error": "\033[31m", "dim": "\033[2m"}
RESET = "\033[0m"
CHATTER = re.compile(r"^(server|client): (listening on |accepted conn |connected conn )")
FACT = re.compile(r"^(server|client) \| fact \| ")
SYNC_TO = re.compile(r"^(server|client): \[sync\] to the peer: (.*)$")
SYNC_FROM = re.compile(r"^(server|client): \[sync\] from the peer: (.*)$")
SPEAKER = re.compile(r"^(server|client): ")
DATA = re.compile(r'\| (\d+) bytes \| (".*")( \[[^\]"]*\])?( \| asked \d+)?$')
NUMBERS = re.compile(r"#\d+|at \d+|\| \d+ bytes|\| \".*\"( \[[^\]\"]*\])?|= \d+(\.\d+)?")
ESCAPES = {10: "\\n", 13: "\\r", 9: "\\t", 34: '\\"', 92: "\\\\"}
MAX_PERIOD = 12   # the longest block of lines looked for as a repeat
MIN_REPEATS = 2   # a block shown once and then counted when it comes this many more times


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


class Display:
    def __init__(self, colour=False, verbose=False, width=WIDTH, hide_calls=False, labels=None,
                 collapse=True, hide_conns=()):
        self.colour, self.verbose, self.width = colour, verbose, width
        self.hide_calls, self.collapse = hide_calls and not verbose, collapse and not verbose
        self.hide_conns = set() if verbose else set(hide_conns)
        self.labels = {data: name for data, name in (labels or {}).items()}
        self.named = set()
        self.pending: List[str] = []  # lines held back while a repeat may be forming
        self.hidden = self.facts = 0

    # ---- the lines of a run, one at a time ----

    def line(self, raw: str) -> List[str]:
        """What to print now for one line the programs printed."""
        if not self.verbose and CHATTER.match(raw):
            return []
        if not self.verbose and FACT.match(raw):  # for the harness: the sentences say them
            self.facts += 1
            return []
        call = parse_call(raw, 0)
        if call and ((self.hide_calls and call.op in ("send", "recv"))
                     or call.conn in self.hide_conns):
            self.hidden += 1
            return []
        if not self.collapse:
            return self.render(raw)
        if self.pending and self.merge_sync(raw):
            return []
        self.pending.append(raw)
        return self.release(final=False)

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
        """The lines still held back, and a note on what was left out."""
        out = self.release(final=True)
        if self.hidden:
            out.append(self.paint(_("({n} send and recv lines not shown: VERBOSE=1 shows "
                                    "them)").format(n=self.hidden), "dim"))
        self.hidden = 0  # (the fact lines left out are counted for the whole demo)
        return out

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
        """(period, how many more times the first `period` lines come again)."""
        norm = [NUMBERS.sub("#", line) for line in self.pending]  # alike, not equal
        best = (1, 0)
        for period in range(1, MAX_PERIOD + 1):
            times = 0
            while norm[(times + 1) * period:(times + 2) * period] == norm[:period]:
                times += 1
            if times and period * times > best[0] * best[1]:
                best = (period, times)
        return best

    def shown_block(self, block: List[str], times: int, last: str) -> List[str]:
        """The block once, then one line for its repeats: alike, numbers and
        bytes aside (each line was checked by the harness all the same)."""
        out = [line for raw in block for line in self.render(raw)]
        first, final = re.search(r"#(\d+)", block[0]), re.search(r"#(\d+)", last)
        span = f" (#{int(first.group(1)) + 1}..#{final.group(1)})" if first and final else ""
        if len(block) == 1:
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
        kind = "dim" if ("[sync]" in raw or "[step]" in raw) else \
            "error" if ": error" in raw else None
        m = SPEAKER.match(raw)
        if len(raw) <= self.width or not m:
            return [self.paint(raw, kind)]
        indent = " " * len(m.group(0))
        return [self.paint(part, kind) for part in
                textwrap.wrap(raw, self.width, subsequent_indent=indent, break_long_words=True)]

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
