"""svgshapes.py - the shapes svgpic.py draws with: a byte axis in pixels,
text, boxes, badges, and the SVG document around them.

Sizes are for a projector: the picture is 1280 px wide, and no text is
smaller than 18 px. Colours are Okabe-Ito (told apart with any colour
vision), and every box also has a label or a tooltip.
"""
import html
from typing import List, Sequence, Tuple

from textcells import display_width, fit, wrap

WIDTH = 1280
X0, X1 = 230.0, 1250.0          # the byte axis
LABEL_X = 20                    # the row labels ("client send") start here
MIN_PX = 6.0                    # a send, recv, header or message is never narrower
ROW_H, BOX_H = 50, 38
FONT = "DejaVu Sans, Verdana, Arial, Noto Sans CJK SC, sans-serif"
MONO = "DejaVu Sans Mono, Consolas, Menlo, Noto Sans Mono CJK SC, monospace"
SIZE = 20                       # text; never below 18 at 1280 px
SMALL = 18
CHAR_W = 0.61 * SMALL           # width of a monospace character at SMALL

COLOURS = {"send": "#56B4E9", "proxy": "#CC79A7", "recv": "#E69F00", "header": "#D55E00",
           "message": "#009E73", "other": "#D9D9D9", "byte": "#FFFFFF"}
HATCH = ('<pattern id="hatch" patternUnits="userSpaceOnUse" width="10" height="10" '
         'patternTransform="rotate(45)"><rect width="10" height="10" fill="#D55E00"/>'
         '<rect width="4" height="10" fill="#F4B183"/></pattern>')


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def fmt(x: float) -> str:
    """A coordinate with at most two decimals."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- the byte axis in pixels

def min_px_for(pieces: int, room=X1 - X0) -> float:
    """The least width of a piece: room for a label when there are few pieces,
    never less than MIN_PX."""
    return max(MIN_PX, min(48.0, 0.45 * room / max(pieces, 1)))


def axis_points(bounds: List[int], x0=X0, x1=X1, min_px=None) -> List[Tuple[int, float]]:
    """x of each boundary: bytes at one scale, except that a piece narrower than
    min_px at that scale gets min_px (and the others share the rest)."""
    lens = [b - a for a, b in zip(bounds, bounds[1:])]
    room = x1 - x0
    if not lens:
        return [(bounds[0], x0)] if bounds else []
    if min_px is None:
        min_px = min_px_for(len(lens))
    min_px = min(min_px, room / len(lens))
    wide = set(range(len(lens)))   # the pieces drawn to scale
    while True:
        total = sum(lens[i] for i in wide)
        k = (room - min_px * (len(lens) - len(wide))) / total if total else 0
        narrow = {i for i in wide if lens[i] * k < min_px}
        if not narrow:
            break
        wide -= narrow
    points, x = [(bounds[0], x0)], x0
    for i, (b, n) in enumerate(zip(bounds[1:], lens)):
        x += n * k if i in wide else min_px
        points.append((b, x))
    points[-1] = (bounds[-1], x1)
    return points


def x_of(points, offset: int) -> float:
    """x of a byte offset on an axis given by its points."""
    if offset <= points[0][0]:
        return points[0][1]
    for (o0, x0), (o1, x1) in zip(points, points[1:]):
        if offset <= o1:
            return x0 + (x1 - x0) * (offset - o0) / (o1 - o0)
    return points[-1][1]


class PxAxis:
    """Byte offset -> x for one stream: every boundary of a send, recv, header
    or message is a point; short pieces are widened to min_px."""

    def __init__(self, boundaries: List[int], length: int):
        pieces = len(boundaries) - 1
        self.min_px = min(min_px_for(pieces), (X1 - X0) / max(1, pieces))
        self.points = axis_points(boundaries, min_px=self.min_px)
        self.px_per_byte = (X1 - X0) / length if length else 0   # the plain scale
        self.widened = any((x1 - x0) > (o1 - o0) * self.px_per_byte + 0.5
                           for (o0, x0), (o1, x1) in self.pieces())

    def pieces(self):
        """((offset, x), (offset, x)) for each piece between two boundaries."""
        return zip(self.points, self.points[1:])

    def x(self, offset: int) -> float:
        return x_of(self.points, offset)

    def width(self, a: int, b: int) -> float:
        return self.x(b) - self.x(a)


# ---------------------------------------------------------------- text and boxes

class Svg:
    """The elements of one picture, and y: how far down it has got."""

    def __init__(self):
        self.parts: List[str] = []
        self.y = 0.0

    def add(self, element: str):
        self.parts.append(element)

    def text(self, x, y, words, size=SIZE, anchor="start", weight="normal", fill="#000",
             family=FONT):
        self.add(f'<text x="{fmt(x)}" y="{fmt(y)}" font-family="{family}" font-size="{size}" '
                 f'font-weight="{weight}" fill="{fill}" text-anchor="{anchor}">{esc(words)}</text>')

    def lines(self, words, size=SIZE, x=LABEL_X, weight="normal", fill="#000", width=WIDTH - 40):
        """A paragraph, wrapped at about the width."""
        per = max(20, int(width / ((0.64 if weight == "bold" else 0.57) * size)))
        for row in wrap(words, per):
            self.y += size * 1.35
            self.text(x, self.y, row, size=size, weight=weight, fill=fill)

    def document(self, title: str) -> str:
        """The whole SVG: standalone, white, with the hatch pattern of the headers."""
        height = int(self.y + 30)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
                f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{esc(title)}">'
                f'<title>{esc(title)}</title><defs>{HATCH}</defs>'
                f'<rect width="{WIDTH}" height="{height}" fill="#FFF"/>')
        return head + "\n".join(self.parts) + "</svg>\n"


def fit_text(candidates: Sequence[str], px: float) -> str:
    """The first candidate whose monospace width fits in px ('' if none)."""
    for c in candidates:
        if c and display_width(c) * CHAR_W + 8 <= px:
            return c
    return ""


def shorten(text: str, px: float) -> str:
    """As much of text as fits in px, with … where it was cut."""
    room = int((px - 8) / CHAR_W)
    if room < 2:
        return ""
    if display_width(text) <= room:
        return text
    return fit(text, room - 1) + "…"


def label_for(num, shown: str, px: float) -> str:
    """#num and as much of the bytes as fits; #num alone; nothing."""
    printable = sum(1 for ch in shown if ch not in "·~ …")
    if printable < max(1, len(shown.strip()) // 2):
        shown = ""   # mostly unprintable bytes say nothing on a projector
    full = f"#{num} {shown}".rstrip()
    if fit_text([full], px):
        return full
    if shown and (px - 8) / CHAR_W >= len(f"#{num} ") + 6:
        return shorten(full, px)
    return fit_text([f"#{num}"], px)


def box(svg: Svg, x, y, w, h, kind, facts: dict, label="", tip="", pattern=None, colour=None):
    """A rect with its facts as data- attributes, a tooltip and a label."""
    attrs = " ".join(f'data-{k}="{esc(v)}"' for k, v in facts.items())
    if pattern:
        fill = f"url(#{pattern})"
    else:
        fill = COLOURS[colour or (kind if kind in COLOURS else "other")]
    svg.add(f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(w)}" height="{fmt(h)}" fill="{fill}" '
            f'stroke="#000" stroke-width="1.5" data-kind="{esc(kind)}" {attrs}>'
            f'<title>{esc(tip)}</title></rect>')
    if label:
        svg.text(x + w / 2, y + h / 2 + SMALL * 0.35, label, size=SMALL, anchor="middle",
                 family=MONO, weight="bold" if kind == "header" else "normal")


def swatch(svg: Svg, x, y, fill):
    """A small sample of a box's colour, for the legend."""
    svg.add(f'<rect x="{fmt(x)}" y="{fmt(y)}" width="28" height="22" fill="{fill}" stroke="#000" '
            f'stroke-width="1.5"/>')


def badge(svg: Svg, cx, y, letter):
    """A cut's mark: a white letter on a black tile, centred on cx."""
    svg.add(f'<rect x="{fmt(cx - 11)}" y="{fmt(y)}" width="22" height="24" rx="4" fill="#000"/>')
    svg.text(cx, y + 18, letter, size=SMALL, anchor="middle", weight="bold", fill="#FFF")
