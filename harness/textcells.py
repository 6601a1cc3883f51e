"""textcells.py - text in a terminal's columns, for draw.py (and svgpic.py's labels).

A terminal shows text in cells: most characters take one column, wide CJK
characters two. The pictures draw one byte per cell, so a byte needs a
one-column glyph: ↵ for a newline, ␣ for a space, · for any other byte that
is not printable ASCII, ~ for a byte the transcript did not show.

Out collects the picture's lines, each made of styled pieces (client,
server, header, ...); the styles become ANSI colours only when asked.
"""
import unicodedata
from typing import List, Optional


def display_width(text: str) -> int:
    """Columns a terminal gives text (wide CJK glyphs take two)."""
    w = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def glyph(b: Optional[int]) -> str:
    """One column for one byte."""
    if b is None:
        return "~"
    if b == 0x0A:
        return "↵"
    if b == 0x20:
        return "␣"
    if 0x21 <= b <= 0x7E:
        return chr(b)
    return "·"


def fit(text: str, room: int) -> str:
    """The start of text that fits in room columns."""
    out, used = "", 0
    for ch in text:
        w = display_width(ch)
        if used + w > room:
            break
        out, used = out + ch, used + w
    return out


def wrap(text: str, width: int) -> List[str]:
    """text in rows of at most width columns, broken at spaces."""
    rows, current = [], ""
    for word in text.split(" "):
        longer = word if not current else current + " " + word
        if display_width(longer) <= width or not current:
            current = longer
        else:
            rows.append(current)
            current = word
    if current:
        rows.append(current)
    return [fit(r, width) for r in rows]


def bytes_text(s, a: int, b: int, plain_space: bool = True) -> str:
    """The glyphs of the stream's bytes a..b (a space as a space when plain_space)."""
    return "".join(" " if plain_space and s.byte(i) == 0x20 else glyph(s.byte(i))
                   for i in range(a, b))


def box_text(s, a: int, b: int, room: int) -> str:
    """What fits in room columns for the stream's bytes a..b: all of them, or
    the first ones, an ellipsis and (right-aligned) the last ones. Unknown
    bytes (an abbreviated transcript) are left out."""
    n = b - a
    if room <= 0 or n <= 0:
        return ""
    if s.known(a, n):
        if n <= room:
            return bytes_text(s, a, b)
        head, tail = n, 0   # every byte known: as many of the first ones as fit
    else:
        head = 0   # known bytes at the start (counted up to what could fit)
        while head <= room and s.byte(a + head) is not None:
            head += 1
        tail = 0   # known bytes at the end
        while tail <= room and s.byte(b - 1 - tail) is not None:
            tail += 1
    if room < 5:
        # too narrow for the head and the tail: the first bytes and "…", if any are known
        if head and room >= 2:
            return bytes_text(s, a, a + min(head, room - 1)) + "…"
        return ""
    tail_n = min(tail, (room - 1) // 2)
    head_n = min(head, room - 1 - tail_n)
    left = bytes_text(s, a, a + head_n) + "…"
    right = bytes_text(s, b - tail_n, b)
    return left + " " * (room - len(left) - len(right)) + right


# ---------------------------------------------------------------- styled lines

STYLES = {"client": "36", "server": "33", "proxy-up": "35", "proxy-down": "35",
          "header": "1;35", "mark": "1;31", "title": "1", "dim": "2", "message": "32"}


class Out:
    """Lines made of styled pieces; styles become ANSI codes only with colour."""

    def __init__(self, width: int, colour: bool):
        self.width, self.colour, self.lines = width, colour, []

    def line(self, pieces):
        """pieces: [(text, style or None)]; cut to the width, no blanks at the end."""
        kept, used = [], 0
        for chunk, style in pieces:
            room = self.width - used
            if room <= 0:
                break
            if display_width(chunk) > room:
                chunk = fit(chunk, room)
            used += display_width(chunk)
            kept.append((chunk, style))
        while kept and not kept[-1][0].rstrip():
            kept.pop()
        if kept:
            kept[-1] = (kept[-1][0].rstrip(), kept[-1][1])
        self.lines.append("".join(self.paint(chunk, style) for chunk, style in kept))

    def paint(self, chunk: str, style) -> str:
        if self.colour and style and chunk.strip():
            return f"\033[{STYLES.get(style, style)}m{chunk}\033[0m"
        return chunk

    def text(self, words: str, indent: int = 0, style=None):
        """A sentence, wrapped at the width."""
        for row in wrap(words, self.width - indent):
            self.line([(" " * indent, None), (row, style)])

    def blank(self):
        self.lines.append("")


def cell_pieces(chars, styles):
    """One-column cells with a style each, as styled pieces."""
    pieces, run, current = [], "", None
    for ch, style in zip(chars, styles):
        if ch == " " and run:
            style = current  # a blank takes the style around it: fewer colour codes
        if style != current and run:
            pieces.append((run, current))
            run = ""
        run, current = run + ch, style
    if run:
        pieces.append((run, current))
    return pieces
