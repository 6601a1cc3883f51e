#!/usr/bin/env python3
"""draw.py - the byte-stream picture of a demo run, for a terminal.

    python3 harness/draw.py [--width N] [--colour] [TRANSCRIPT] < transcript.txt

For each connection and each direction that carried bytes, one block:

    conn 1: client → server, 10 bytes · every byte shown (↵ newline, ␣ space, · other)
    offset          0         5        10
    client send     |h e l l o|w o r l d|  2 sends, 10 bytes
    server recv     |h e l l o w o r l d|  1 recv: two sends merged

the sends above, the recvs (and a proxy's re-cut sends) below, and - where
the receiver delivered whole messages - the frames: [ len 5 ] marks a frame
header's 4 bytes with the length it decodes to. A letter under a cut says
what the cut falls inside: S a send, H a frame header, C a multi-byte
character (UTF-8, or GBK where the whole text is GBK); a sentence under the
row says it in words. Text with multi-byte characters is shown in hex.
Long streams are scaled (the block says how many bytes one column is), and
every send and every recv keeps at least one column of its own.

Input: the lines the demos print (client | send #1 | conn 1 | at 0 | ...);
anything else is ignored. Lines of two terminals pasted one after the other
are aligned by their offsets, not by their order. A saved `make demo-N`
output holds several runs: each gets its own pictures.

Library use: draw(lines, width=100, colour=False, full_bytes=None) returns
the picture as a list of lines. analyse(lines) returns the model (see
streams.py) that svgpic.py draws as SVG. The words under the rows are in
captions.py, the terminal's text cells in textcells.py.
"""
import sys
from typing import List, Sequence

from captions import (abbreviated_note, chars_label, characters_note, counted, cut_notes,
                      facts_notes, frame_types_note, frames_not_drawn, frames_row_label,
                      frames_summary, headers_say, nothing_to_draw, recv_notes, recv_row_summary,
                      recv_summary, row_label, run_title, send_summary, stream_title, with_note)
from i18n import _
from streams import Stream, analyse  # noqa: F401  (analyse: part of draw's library use)
from textcells import Out, box_text, cell_pieces, display_width, fit, glyph

LABEL = 16  # columns before the bar: "client send", "server recv", ...

# ---------------------------------------------------------------- the axis: byte offset -> column

NICE = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)


def nice_scales(start: float):
    """Bytes per column a reader can take in (1, 2, 5, 10, 15, 20, ...), from start up."""
    e = 0
    while True:
        for n in NICE:
            s = n * 10 ** e
            if s >= start and s == int(s):
                yield int(s)
        e += 1


class Axis:
    """Byte offset -> column within the bar. mode: 'bytes' (2 columns a byte,
    the byte after a separator column), 'hex' (3 a byte), 'scaled' (a column
    for many bytes; each piece keeps a few columns) or 'compact' (scaled, one
    column at least, no separator columns)."""

    def __init__(self, mode, per_byte=0, points=None, scale=0, widened=False, crowded=False):
        self.mode, self.per_byte, self.scale, self.widened = mode, per_byte, scale, widened
        self.crowded = crowded  # more pieces than columns: some share a column
        self.points = points or []  # [(offset, column)] at every boundary

    def col(self, offset: int) -> int:
        if self.per_byte:
            return offset * self.per_byte
        pts = self.points
        if offset <= pts[0][0]:
            return pts[0][1]
        if offset >= pts[-1][0]:
            return pts[-1][1]
        lo, hi = 0, len(pts) - 1
        while hi - lo > 1:   # binary search for the two points around offset
            mid = (lo + hi) // 2
            if pts[mid][0] <= offset:
                lo = mid
            else:
                hi = mid
        (o0, c0), (o1, c1) = pts[lo], pts[hi]
        return c0 + (offset - o0) * (c1 - c0) // (o1 - o0)

    @property
    def separators(self) -> bool:
        return self.mode != "compact"


def allocate(bounds: List[int], room: int, mins: List[int]):
    """Columns for each piece between bounds: its length over a nice scale, and
    at least its entry in mins; the total fits in room.
    Returns (points, scale, widened) or None."""
    lens = [b - a for a, b in zip(bounds, bounds[1:])]
    if not lens or sum(mins) > room:
        return None
    total = bounds[-1] - bounds[0]
    for scale in nice_scales(max(1.0, total / room)):
        widths = [max(m, round(n / scale)) for n, m in zip(lens, mins)]
        if sum(widths) <= room:
            points, col = [(bounds[0], 0)], 0
            for b, w in zip(bounds[1:], widths):
                col += w
                points.append((b, col))
            widened = any(w > n / scale + 0.5 for n, w in zip(lens, widths))
            return points, scale, widened
    return None


def choose_axis(s: Stream, room: int) -> Axis:
    """Every byte where it fits; else a scale, with each piece between two
    boundaries wide enough for a few of its bytes when there is room."""
    if s.chars and s.length * 3 + 1 <= room:
        return Axis("hex", per_byte=3)
    if s.length * 2 + 1 <= room:
        return Axis("bytes", per_byte=2)
    # room for a short length in its brackets ("[2601]"); longer ones are listed in a note
    headers = {f.at: len(str(f.length)) + 2 for f in s.frames if len(str(f.length)) <= 4}
    for with_frames, labels in ((True, True), (True, False), (False, False)):
        bounds = s.boundaries(with_frames)
        pieces = list(zip(bounds, bounds[1:]))
        need = [headers.get(a, 0) if labels and b - a == 4 else 0 for a, b in pieces]
        for cap in (12, 8, 5, 3, 2, 1):  # a separator column, then up to cap bytes of text
            got = allocate(bounds, room - 1,
                           [max(min(b - a, cap) + 1, h) for (a, b), h in zip(pieces, need)])
            if got:
                return Axis("scaled", points=got[0], scale=got[1], widened=got[2])
    bounds = s.boundaries(False)
    got = allocate(bounds, room, [1] * (len(bounds) - 1))
    if got:
        return Axis("compact", points=got[0], scale=got[1], widened=got[2])
    # More pieces than columns: the last ones share the last column (the block says so).
    return Axis("compact", points=[(b, min(i, room - 1)) for i, b in enumerate(bounds)],
                scale=max(1, s.length // room), widened=True, crowded=True)


def scale_note(axis: Axis) -> str:
    """How many bytes one column is, in words."""
    if axis.mode == "bytes":
        return _("every byte shown (↵ newline, ␣ space, · other)")
    if axis.mode == "hex":
        return _("every byte shown, in hex")
    if axis.crowded:
        return counted(axis.scale, _("1 column = 1 byte (too many pieces: some share a column)"),
                       _("1 column ≈ {n} bytes (too many pieces: some share a column)"))
    if axis.widened:
        return counted(axis.scale, _("1 column = 1 byte (short pieces widened)"),
                       _("1 column ≈ {n} bytes (short pieces widened)"))
    return counted(axis.scale, _("1 column = 1 byte"), _("1 column ≈ {n} bytes"))


# ---------------------------------------------------------------- the rows

class Row:
    """One row of the bar: characters and styles, one per column."""

    def __init__(self, width):
        self.chars = [" "] * width
        self.styles = [None] * width

    def put(self, col, ch, style, force=True):
        if 0 <= col < len(self.chars) and (force or self.chars[col] == " "):
            self.chars[col] = ch
            self.styles[col] = style


def put_bytes(row: Row, s: Stream, axis: Axis, a: int, b: int, style):
    """Every byte of a..b in its own cells: a glyph, or two hex digits."""
    for i in range(a, b):
        x = axis.col(i)
        if axis.mode == "hex":
            v = s.byte(i)
            pair = "~~" if v is None else f"{v:02x}"
            row.put(x + 1, pair[0], style)
            row.put(x + 2, pair[1], style)
        else:
            row.put(x + 1, glyph(s.byte(i)), style)


def put_box_text(row: Row, s: Stream, axis: Axis, a: int, b: int, style):
    """The bytes a..b between their two separators, as many as fit."""
    c0, c1 = axis.col(a), axis.col(b)
    text = box_text(s, a, b, c1 - c0 - 1)
    for k in range(c0 + 1, c1):
        ch = text[k - c0 - 1] if k - c0 - 1 < len(text) else " "
        row.put(k, ch, style)


def put_shade(row: Row, axis: Axis, a: int, b: int, ch: str, style):
    """Bytes a..b as a run of one shade, at least one column."""
    c0, c1 = axis.col(a), axis.col(b)
    for k in range(c0, max(c1, c0 + 1)):
        row.put(k, ch, style)


def draw_boxes(s: Stream, axis: Axis, boxes, width, style) -> Row:
    """boxes: [(a, b)] in stream offsets. Separators at each end, the bytes inside
    (or, with no room for separators, neighbouring boxes in alternating shades)."""
    row = Row(width)
    for idx, (a, b) in enumerate(boxes):
        if b <= a:
            continue
        if axis.per_byte:
            put_bytes(row, s, axis, a, b, style)
        elif axis.separators:
            put_box_text(row, s, axis, a, b, style)
        else:
            put_shade(row, axis, a, b, "▓" if idx % 2 == 0 else "░", style)
        if axis.separators:
            row.put(axis.col(a), "|", style)
            row.put(axis.col(b), "|", style)
    return row


def call_boxes(s: Stream, axis: Axis, calls, width, style) -> Row:
    """A row with one box per call."""
    return draw_boxes(s, axis, [(c.at, c.at + c.count) for c in calls], width, style)


def put_headers(row: Row, s: Stream, axis: Axis) -> bool:
    """Each frame header as [ len N ] (or [ N ]); says whether every length fitted."""
    fitted = True
    for f in s.frames:
        c0, c1 = axis.col(f.at), axis.col(min(f.at + 4, s.length))
        inner = max(c1 - c0 - 1, 0)
        label = next((t for t in (f"len {f.length}", str(f.length))
                      if display_width(t) <= inner), None)
        if label is None:
            label, fitted = "=" * inner, False
        row.put(c0, "[", "header")
        for k, ch in enumerate(label.center(inner)):
            row.put(c0 + 1 + k, ch, "header")
        row.put(c1, "]", "header")
    return fitted


def draw_frames(s: Stream, axis: Axis, width):
    """Frame headers as [len N], the delivered messages as boxes between them,
    other frame bytes (an rsh type byte, an exit status) as they are. Also says
    whether every header's length fitted in its brackets."""
    row = Row(width)
    pieces = s.frame_pieces()
    if not axis.separators:
        for idx, (a, b, kind) in enumerate(pieces):
            shade = {"header": "H", "message": "▓" if idx % 2 else "░", "other": "·"}[kind]
            put_shade(row, axis, a, b, shade, "header" if kind == "header" else "message")
        return row, False
    for a, b, kind in pieces:
        if kind == "header":
            continue
        style = "message" if kind == "message" else "dim"
        box = draw_boxes(s, axis, [(a, b)], width, style)
        for k in range(axis.col(a) + 1, axis.col(b)):
            row.put(k, box.chars[k], style)
        if kind == "message":
            row.put(axis.col(a), "|", style, force=False)
            row.put(axis.col(b), "|", style, force=False)
    return row, put_headers(row, s, axis)


def draw_chars(s: Stream, axis: Axis, width) -> Row:
    """Each multi-byte character's bytes bracketed and numbered: <-1-> ."""
    row = Row(width)
    for i, ch in enumerate(s.chars, 1):
        c0, c1 = axis.col(ch.at) + 1, axis.col(ch.at + ch.size) - 1
        inner = c1 - c0 - 1
        label = str(i) if len(str(i)) <= inner else ""
        for k, t in enumerate("<" + label.center(inner, "-") + ">"):
            row.put(c0 + k, t, "dim")
    return row


def draw_ruler(s: Stream, axis: Axis, width, bar_end) -> Row:
    """Byte offsets: every 5 or 10 bytes, or at the ends of the sends and recvs."""
    row = Row(width)
    if axis.per_byte:
        step = 5 if axis.per_byte * 5 >= 6 else 10
        wanted = list(range(0, s.length, step)) + [s.length]
    else:
        wanted = [0, s.length] + [c.at + c.count for c in s.sends + s.proxied + s.recvs]
    taken = []
    for o in sorted(set(wanted), key=lambda o: (o not in (0, s.length), o)):  # the ends first
        text = str(o)
        c = axis.col(o)
        start = c if c + len(text) <= bar_end + 1 else c - len(text) + 1
        span = (start - 1, start + len(text))
        if start < 0 or start + len(text) > width or any(
                a <= span[1] and span[0] <= b for a, b in taken):
            continue
        taken.append((start, start + len(text) - 1))
        for k, t in enumerate(text):
            row.put(start + k, t, "dim")
    return row


def draw_marks(cuts, axis: Axis, width) -> Row:
    """The letter of each cut (S, H, C) under it; H wins a shared column."""
    row = Row(width)
    for c in cuts:
        col = axis.col(c.at)
        if c.mark and 0 <= col < width and (row.chars[col] in (" ", "S") or c.mark == "H"):
            row.put(col, c.mark, "mark")
    return row


# ---------------------------------------------------------------- one stream

class Block:
    """The picture of one stream: a title, then a row per kind of call, each
    with its summary and notes."""

    def __init__(self, out: Out, s: Stream, said=None):
        self.out, self.s = out, s
        self.said = set() if said is None else said
        self.room = out.width - LABEL
        self.axis = choose_axis(s, self.room)
        self.bar_end = self.axis.col(s.length)
        self.bar_w = self.bar_end + 1
        self.marks_used = set()

    def draw(self):
        s, out = self.s, self.out
        out.text(with_note(stream_title(s), scale_note(self.axis)), style="title")
        if self.axis.mode == "compact":
            out.text(_("too many cuts for separators: neighbouring boxes alternate ▓ and ░"),
                     indent=2, style="dim")
        if s.abbreviated:
            out.text(abbreviated_note(tilde=True), indent=2, style="dim")
        self.row(_("offset"), draw_ruler(s, self.axis, self.room, self.bar_end), "dim")
        self.send_rows()
        if s.recvs:
            self.recv_row()
        if s.frames or s.messages:
            self.frames_row()
        self.notes_at_the_end()

    def row(self, label, cells: Row, style, summary="", notes=(), marks: Row = None):
        """One row: its label, its cells, the summary (beside it if it fits,
        else below), the marks under its cuts, and its notes."""
        out, w = self.out, self.bar_w
        name = fit(label, LABEL - 1)
        name += " " * (LABEL - display_width(name))
        pieces = [(name, style)] + cell_pieces(cells.chars[:w], cells.styles[:w])
        if summary and LABEL + w + 2 + display_width(summary) <= out.width:
            pieces.append(("  " + summary, None))
            summary = ""
        out.line(pieces)
        if marks is not None and any(ch != " " for ch in marks.chars[:w]):
            out.line([(" " * LABEL, None)] + cell_pieces(marks.chars[:w], marks.styles[:w]))
            self.marks_used.update(ch for ch in marks.chars if ch != " ")
        if summary:
            out.text(summary, indent=LABEL)
        for note in notes:
            out.text(note, indent=LABEL, style="mark")

    def send_rows(self):
        """The sender's sends, the characters in them, and a proxy's sends."""
        s, axis, room = self.s, self.axis, self.room
        if s.sends:
            self.row(row_label(s.sender, "send"), call_boxes(s, axis, s.sends, room, s.sender),
                     s.sender, send_summary(s))
        if s.chars and axis.per_byte:
            self.row(chars_label(s), draw_chars(s, axis, room), "dim")
        if s.proxied:
            cuts = s.proxy_cuts()
            self.row(row_label(s.proxy, "send"), call_boxes(s, axis, s.proxied, room, s.proxy),
                     s.proxy, recv_summary(s, s.proxied, op="send"), cut_notes(cuts, "send"),
                     marks=draw_marks(cuts, axis, room))

    def recv_row(self):
        s, axis, room = self.s, self.axis, self.room
        cuts = s.recv_cuts()
        with_bytes = [c for c in s.recvs if c.count]   # not the recv that returned 0 (EOF)
        self.row(row_label(s.receiver, "recv"), call_boxes(s, axis, with_bytes, room, s.receiver),
                 s.receiver, recv_row_summary(s), recv_notes(s, cuts),
                 marks=draw_marks(cuts, axis, room))

    def frames_row(self):
        """The frame headers and the messages the receiver delivered."""
        s, out = self.s, self.out
        cells, fitted = draw_frames(s, self.axis, self.room)
        self.row(frames_row_label(s), cells, "header", frames_summary(s))
        if not fitted:
            out.text(headers_say(s.frames), indent=LABEL, style="header")
        if s.typed:
            out.text(frame_types_note(s), indent=LABEL, style="dim")
        if s.frames_stop is not None:
            out.text(frames_not_drawn(s), indent=LABEL, style="dim")

    def notes_at_the_end(self):
        """The characters, what the demo measured, and what the marks mean."""
        s, out = self.s, self.out
        if s.chars and self.axis.per_byte and len(s.chars) <= 12:
            self.once(characters_note(s))
        for note in facts_notes(s):
            out.text(note, indent=LABEL, style="dim")
        if self.marks_used:
            words = {"S": _("S = inside a send"), "H": _("H = inside a frame header"),
                     "C": _("C = inside a character")}
            self.once(_("under a cut: {marks}").format(
                marks=" · ".join(words[k] for k in "SHC" if k in self.marks_used)))

    def once(self, note: str):
        """A note that says the same in every picture: only the first time."""
        if note not in self.said:
            self.said.add(note)
            self.out.text(note, indent=LABEL, style="dim")


# ---------------------------------------------------------------- every run

def call_ends(calls) -> set:
    return {c.at + c.count for c in calls if c.count}


def cuts_match(s: Stream) -> bool:
    """The recvs end where the sends end: a picture that would only say "here
    the cuts happen to match"."""
    return bool(s.sends) and call_ends(s.sends) == call_ends(s.recvs)


def lesson_streams(streams: List[Stream], conns=None) -> List[Stream]:
    """The streams worth a picture when lines are few: those of the given
    connections; else those whose recvs are cut elsewhere than the sends or,
    where none is, those that carry messages. One per connection: the one cut
    elsewhere than its sends, else the one that carries messages (answers)."""
    if conns is not None:
        chosen = [s for s in streams if s.conn in conns]
    else:
        chosen = [s for s in streams if not cuts_match(s)] or [s for s in streams if s.messages]
    def worth(s):  # cut elsewhere than the sends first, then carrying messages
        return (not cuts_match(s), bool(s.messages))
    best = {}
    for s in chosen:
        if s.conn not in best or worth(s) > worth(best[s.conn]):
            best[s.conn] = s
    return [s for s in chosen if best[s.conn] is s]


def draw(lines: Sequence[str], width: int = 100, colour: bool = False,
         full_bytes=None, lesson_only: bool = False, conns=None, said=None) -> List[str]:
    """The picture of every run in lines, as lines of at most `width` columns.
    colour: ANSI colours (only when the caller knows it writes to a terminal).
    full_bytes: optional {(conn, "up"|"down"): bytes}, see streams.analyse().
    lesson_only: only the streams lesson_streams() picks (of the connections
    in conns, if given): make demo-N, where lines are few.
    said: a set shared by the pictures of one demo: a legend they would all
    repeat is shown the first time only."""
    out = Out(max(width, 40), colour)
    said = set() if said is None else said
    runs = analyse(lines, full_bytes)
    if lesson_only:
        runs = [(sec, lesson_streams(streams, conns)) for sec, streams in runs]
    for k, (sec, streams) in enumerate(runs):
        titled = len(runs) > 1 or sec.label
        if titled:
            if k:
                out.blank()
            out.text(run_title(sec.label, k + 1), style="title")
        for i, s in enumerate(streams):
            if i or titled:
                out.blank()
            Block(out, s, said).draw()
    if not runs:
        out.text(nothing_to_draw())
    return out.lines


def read_lines(paths) -> List[str]:
    """The lines of the files, one after the other; stdin when there are none."""
    if not paths:
        return sys.stdin.read().splitlines()
    lines = []
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            lines += f.read().splitlines()
    return lines


def main(argv) -> int:
    width, colour, paths = 100, False, []
    args = iter(argv)
    for a in args:
        if a in ("-h", "--help"):
            print(__doc__.strip().splitlines()[2].strip())
            return 0
        if a == "--width":
            width = int(next(args, "100"))
        elif a.startswith("--width="):
            width = int(a.split("=", 1)[1])
        elif a in ("--colour", "--color"):
            colour = True
        else:
            paths.append(a)
    for line in draw(read_lines(paths), width=width, colour=colour):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
