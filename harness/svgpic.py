#!/usr/bin/env python3
"""svgpic.py - the byte-stream pictures as SVG, for a projector.

    python3 harness/svgpic.py OUTDIR [N ...]
    python3 harness/svgpic.py --transcript FILE [TITLE] > picture.svg

runs every run of every demo (or of demos N ...) with --full and writes
OUTDIR/demo-N-K.svg for run K of demo N (K = 1 the broken run, 2 the fixed
one, in the order of demos/NN-name/expect.py) and OUTDIR/index.html, which
shows them all with each demo's title and lesson. svg_for(lines, title) draws
any transcript (--transcript: a saved one, - for stdin).

Each SVG stands alone: no scripts, no fonts or files from elsewhere, styles
as attributes. Sends, recvs, messages and frame headers are rects on a byte
axis, one timeline per connection and direction, and carry their facts for
machines: data-kind (send, recv, message, header), data-side, data-conn,
data-dir (up: client to server, down: server to client), data-num, data-at
(byte offset), data-len (bytes); a header also data-value (the length it
says). The group of a timeline (data-kind="stream") carries data-axis:
"offset:x" pairs at every boundary; x of any offset is the straight line
between the two pairs around it. Pieces shorter than a few pixels at the
plain scale are widened (data-min-px), the rest share what is left.

The model is streams.py, the words under the rows captions.py, the shapes
svgshapes.py.
"""
import ast
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import demolib
from captions import (abbreviated_note, chars_label, counted, cut_notes, facts_notes,
                      frame_types_note, frames_not_drawn, frames_row_label, frames_summary,
                      headers_say, nothing_to_draw, recv_notes, recv_row_summary, recv_summary,
                      row_label, send_summary, stream_title, with_note)
from i18n import _
from streams import Stream, analyse
from svgshapes import (BOX_H, COLOURS, LABEL_X, MONO, ROW_H, SIZE, SMALL, WIDTH, X0, X1, PxAxis,
                       Svg, badge, box, esc, fit_text, fmt, label_for, shorten, swatch)
from suite import parse_python
from textcells import box_text, display_width, glyph

# ---------------------------------------------------------------- the legend

def legend(svg: Svg, kinds, marks):
    """Swatches for the kinds of box drawn, and the marks used."""
    items = [("send", _("send (writer)")), ("proxy", _("proxy's send")),
             ("recv", _("recv (reader)")), ("header", _("frame header")),
             ("message", _("message delivered")), ("other", _("other frame bytes"))]
    mark_words = {"S": _("S: the cut is inside a send"),
                  "H": _("H: the cut is inside a frame header"),
                  "C": _("C: the cut is inside a character")}
    svg.y += 14
    x = LABEL_X
    for kind, words in items:
        if kind in kinds:
            swatch(svg, x, svg.y, "url(#hatch)" if kind == "header" else COLOURS[kind])
            svg.text(x + 36, svg.y + 18, words, size=SMALL)
            x += 36 + display_width(words) * 0.56 * SMALL + 26
    svg.y += 34
    x = LABEL_X
    for letter, words in mark_words.items():
        if letter in marks:
            badge(svg, x + 11, svg.y, letter)
            svg.text(x + 28, svg.y + 18, words, size=SMALL)
            x += 28 + display_width(words) * 0.56 * SMALL + 30
    if marks:
        svg.y += 30


def kinds_and_marks(runs):
    """Which kinds of box and which marks the pictures of these runs draw."""
    kinds, marks = set(), set()
    for _sec, streams in runs:
        for s in streams:
            for kind, calls in (("send", s.sends), ("proxy", s.proxied), ("recv", s.recvs)):
                if calls:
                    kinds.add(kind)
            kinds.update(kind for _a, _b, kind in s.frame_pieces())
            marks.update(c.mark for c in s.proxy_cuts() + s.recv_cuts() if c.mark)
    return kinds, marks


# ---------------------------------------------------------------- one stream

def scale_note(axis: PxAxis) -> str:
    """How many bytes a pixel is, in words ('' for a stream with no bytes)."""
    if axis.widened:
        # bytes per px of the pieces drawn to scale (the widened ones have fewer)
        k = max(((o1 - o0) / (x1 - x0) for (o0, x0), (o1, x1) in axis.pieces() if x1 > x0),
                default=1)
        if k >= 1.5:
            return _("1 px ≈ {k} bytes (short pieces widened)").format(k=max(1, round(k)))
        return _("short pieces widened")
    if axis.px_per_byte >= 1:
        return _("{k} px per byte").format(k=fmt(axis.px_per_byte))
    if axis.px_per_byte > 0:
        return _("1 px ≈ {k} bytes").format(k=max(1, round(1 / axis.px_per_byte)))
    return ""


def heading(svg: Svg, s: Stream, axis: PxAxis):
    """The stream's title with its scale, and a word if the bytes are abbreviated."""
    svg.y += 16
    note = scale_note(axis)
    svg.lines(with_note(stream_title(s), note) if note else stream_title(s), size=22,
              weight="bold")
    if s.abbreviated:
        svg.lines(abbreviated_note(), size=SMALL, fill="#333")


def ruler(svg: Svg, s: Stream, axis: PxAxis):
    """Offsets at the ends of the sends and recvs, where they fit."""
    svg.y += 30
    taken = []
    wanted = [0, s.length] + sorted({c.at + c.count for c in s.sends + s.proxied + s.recvs})
    for o in wanted:
        words = str(o)
        w = len(words) * 0.6 * SMALL
        x = axis.x(o)
        left = min(max(x - w / 2, X0 - 10), X1 + 20 - w)
        if any(left < b + 8 and a < left + w + 8 for a, b in taken):
            continue
        taken.append((left, left + w))
        svg.text(left, svg.y, words, size=SMALL, fill="#333")
        svg.add(f'<line x1="{fmt(x)}" y1="{fmt(svg.y + 4)}" x2="{fmt(x)}" y2="{fmt(svg.y + 12)}" '
                f'stroke="#333" stroke-width="1.5"/>')
    svg.text(LABEL_X, svg.y, _("offset"), size=SMALL, fill="#333")
    svg.y += 14


def byte_cells(svg: Svg, s: Stream, axis: PxAxis):
    """Every byte in its cell: the character, or hex where there is room for two digits."""
    px = axis.px_per_byte
    y = svg.y
    svg.text(LABEL_X, y + 26, _("bytes"), size=SIZE)
    for i in range(s.length):
        x = axis.x(i)
        v = s.byte(i)
        if v is None:
            shown = "~"
        elif 0x21 <= v <= 0x7E:
            shown = chr(v)
        elif px >= 30 and v not in (0x0A, 0x20):
            shown = f"{v:02x}"
        else:
            shown = glyph(v)
        svg.add(f'<rect x="{fmt(x)}" y="{fmt(y)}" width="{fmt(px)}" height="36" '
                f'fill="#FFF" stroke="#888" stroke-width="1"/>')
        svg.text(x + px / 2, y + 25, shown, size=SMALL, anchor="middle", family=MONO)
    svg.y += 40


def char_brackets(svg: Svg, s: Stream, axis: PxAxis):
    """A bracket under each multi-byte character's bytes, with the character."""
    y = svg.y
    svg.text(LABEL_X, y + 28, chars_label(s), size=SIZE)
    for c in s.chars:
        a, b = axis.x(c.at) + 3, axis.x(c.at + c.size) - 3
        svg.add(f'<path d="M{fmt(a)} {fmt(y + 4)} v8 H{fmt(b)} v-8" fill="none" '
                f'stroke="#000" stroke-width="2"/>')
        svg.text((a + b) / 2, y + 36, c.text, size=22, anchor="middle")
    svg.y += 46


def call_facts(s: Stream, c, at: int, n: int) -> dict:
    return {"side": c.side, "conn": s.conn, "dir": s.direction, "num": c.num, "at": at, "len": n}


def bytes_label(s: Stream, a: int, b: int) -> str:
    """The bytes a..b as one line (the terminal picture's glyphs)."""
    return box_text(s, a, b, 200).rstrip()


def call_row(svg: Svg, s: Stream, axis: PxAxis, calls, kind, cuts=(), colour=None):
    """A row with a box per call (a send or a recv), and the marks under its cuts."""
    y = svg.y + (ROW_H - BOX_H) / 2
    svg.text(LABEL_X, y + BOX_H / 2 + SIZE * 0.35, row_label(calls[0].side, calls[0].op),
             size=SIZE)
    for c in calls:
        a, n = c.at, c.count
        x, w = axis.x(a), axis.width(a, a + n)
        name = row_label(c.side, c.op)
        if n == 0:
            tip = _("{call} #{num}: returned 0 (EOF)").format(call=name, num=c.num)
        else:
            tip = _("{call} #{num}: {n} bytes at {at}").format(call=name, num=c.num, n=n, at=a)
        box(svg, x, y, w, BOX_H, kind, call_facts(s, c, a, n),
            label_for(c.num, bytes_label(s, a, a + n), w), tip, colour=colour)
    svg.y += ROW_H
    cut_marks(svg, axis, cuts, y)


def cut_marks(svg: Svg, axis: PxAxis, cuts, y_row):
    """A line down through each marked cut, and its letter below the row."""
    last = -1e9
    strip = svg.y
    for cut in cuts:
        if not cut.mark:
            continue
        x = axis.x(cut.at)
        svg.add(f'<line x1="{fmt(x)}" y1="{fmt(y_row - 6)}" x2="{fmt(x)}" y2="{fmt(strip + 2)}" '
                f'stroke="#000" stroke-width="3" data-mark="{cut.mark}" data-at="{cut.at}"/>')
        if x - last >= 24:   # a letter only where it does not overlap the last one
            badge(svg, x, strip + 2, cut.mark)
            last = x
    if any(c.mark for c in cuts):
        svg.y += 30


def other_frame_bytes(svg: Svg, s: Stream, axis: PxAxis, y):
    """Bytes of a frame that are not a message's: an rsh type byte, an exit status."""
    for a, b, kind in s.frame_pieces():
        if kind == "other":
            w = axis.width(a, b)
            shown = bytes_label(s, a, b)
            box(svg, axis.x(a), y, w, BOX_H, "other",
                {"conn": s.conn, "dir": s.direction, "at": a, "len": b - a},
                fit_text([shown], w) or shorten(shown, w),
                _("{n} bytes of a frame, not of a message").format(n=b - a))


def header_boxes(svg: Svg, s: Stream, axis: PxAxis, y):
    """Each frame header, with the length it says where that fits.
    Returns the frames whose length did not fit."""
    unlabelled = []
    for i, f in enumerate(s.frames, 1):
        a, b = f.at, min(f.at + 4, s.length)
        w = axis.width(a, b)
        label = fit_text([f"len {f.length}", str(f.length)], w)
        if not label:
            unlabelled.append(f)
        box(svg, axis.x(a), y, w, BOX_H, "header",
            {"side": s.receiver, "conn": s.conn, "dir": s.direction, "num": i, "at": a,
             "len": b - a, "value": f.length},
            label, _("frame {i}: a 4-byte header that says {n}").format(i=i, n=f.length),
            pattern="hatch")
    return unlabelled


def message_boxes(svg: Svg, s: Stream, axis: PxAxis, y):
    """Each delivered message where its bytes are (a group when it spans frames)."""
    for p in s.placed:
        c = p.call
        tip = _("{call} #{num}: {n} bytes, delivered whole").format(
            call=row_label(c.side, "message"), num=c.num, n=c.count)
        if len(p.parts) == 1:
            a, n = p.parts[0]
            w = axis.width(a, a + n)
            box(svg, axis.x(a), y, w, BOX_H, "message", call_facts(s, c, a, n),
                label_for(c.num, bytes_label(s, a, a + n), w), tip)
            continue
        svg.add(f'<g data-kind="message" data-side="{c.side}" data-conn="{s.conn}" '
                f'data-dir="{s.direction}" data-num="{c.num}" data-at="{p.parts[0][0]}" '
                f'data-len="{c.count}">')
        for a, n in p.parts:
            w = axis.width(a, a + n)
            box(svg, axis.x(a), y, w, BOX_H, "message-part",
                {"conn": s.conn, "dir": s.direction, "at": a, "len": n},
                fit_text([f"#{c.num}"], w), tip)
        svg.add("</g>")


def frames_row(svg: Svg, s: Stream, axis: PxAxis):
    """The frames: headers, messages, other frame bytes. Returns the notes for under it."""
    y = svg.y + (ROW_H - BOX_H) / 2
    svg.text(LABEL_X, y + BOX_H / 2 + SIZE * 0.35, frames_row_label(s), size=SIZE)
    other_frame_bytes(svg, s, axis, y)
    unlabelled = header_boxes(svg, s, axis, y)
    message_boxes(svg, s, axis, y)
    svg.y += ROW_H
    notes = []
    if unlabelled:
        notes.append(headers_say(unlabelled))
    if s.typed:
        notes.append(frame_types_note(s))
    if s.frames_stop is not None:
        notes.append(frames_not_drawn(s))
    return notes


def stream_block(svg: Svg, s: Stream):
    """One connection, one direction: rows of boxes on its byte axis, then words."""
    axis = PxAxis(s.boundaries(True), s.length)
    points = " ".join(f"{o}:{fmt(x)}" for o, x in axis.points)
    svg.add(f'<g data-kind="stream" data-conn="{s.conn}" data-dir="{s.direction}" '
            f'data-len="{s.length}" data-axis="{points}" data-min-px="{fmt(axis.min_px)}">')
    heading(svg, s, axis)
    ruler(svg, s, axis)
    if not axis.widened and axis.px_per_byte >= 16:
        byte_cells(svg, s, axis)
        if s.chars:
            char_brackets(svg, s, axis)
    words = []   # (row label, summary, notes), said under the rows
    if s.sends:
        call_row(svg, s, axis, s.sends, "send")
        words.append((row_label(s.sender, "send"), send_summary(s), []))
    if s.proxied:
        cuts = s.proxy_cuts()
        call_row(svg, s, axis, s.proxied, "send", cuts, colour="proxy")
        words.append((row_label(s.proxy, "send"), recv_summary(s, s.proxied, op="send"),
                      cut_notes(cuts, "send")))
    if s.recvs:
        cuts = s.recv_cuts()
        call_row(svg, s, axis, s.recvs, "recv", cuts)
        words.append((row_label(s.receiver, "recv"), recv_row_summary(s, say_eof=True),
                      recv_notes(s, cuts)))
    if s.frames or s.messages:
        notes = frames_row(svg, s, axis)
        words.append((frames_row_label(s), frames_summary(s), notes))
    svg.add("</g>")
    svg.y += 6
    say_under_rows(svg, s, words)


def say_under_rows(svg: Svg, s: Stream, words):
    """Each row's summary in a sentence, its notes in bold, then what the demo measured."""
    for label, summary, notes in words:
        svg.lines(_("{label} — {summary}").format(label=label, summary=summary), size=SMALL)
        for note in notes:
            svg.lines(note, size=SMALL, weight="bold", x=LABEL_X + 28, width=WIDTH - 68)
    for note in facts_notes(s):
        svg.lines(note, size=SMALL)


def svg_for(lines: Sequence[str], title: str, full_bytes=None) -> str:
    """The SVG picture of a transcript: every stream of every run in lines."""
    svg = Svg()
    svg.lines(title, size=26, weight="bold")
    runs = analyse(lines, full_bytes)
    kinds, marks = kinds_and_marks(runs)
    legend(svg, kinds, marks)
    for sec, streams in runs:
        if len(runs) > 1 and sec.label:
            svg.y += 10
            svg.lines("-- " + sec.label, size=22, weight="bold")
        for s in streams:
            stream_block(svg, s)
    if not runs:
        svg.lines(nothing_to_draw(), size=SIZE)
    return svg.document(title)


# ---------------------------------------------------------------- every demo: the index page

PAGE_STYLE = ('body{font-family:DejaVu Sans,Verdana,Arial,sans-serif;font-size:20px;'
              'line-height:1.4;color:#000;background:#fff;max-width:1320px;margin:0 auto;'
              'padding:0 20px 40px}h1{font-size:34px}h2{font-size:28px;margin-top:48px;'
              'border-top:3px solid #000;padding-top:16px}h3{font-size:22px}'
              'p.lesson{font-size:22px}img{display:block;width:100%;max-width:1280px;height:auto;'
              'border:1px solid #888}nav a{margin-right:14px}'
              'p.error{color:#A00000;font-weight:bold}')


def lesson_of(demo) -> str:
    """The demo's LESSON: its attribute, else the string LESSON = "..." in its
    expect.py; the title if there is none."""
    found = getattr(demo, "LESSON", None) or getattr(demo, "lesson", None)
    if not found or found == demo.title:
        try:
            tree = parse_python(demo.path)
            for node in tree.body:
                if (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "LESSON"
                                                         for t in node.targets)):
                    found = ast.literal_eval(node.value)
        except (OSError, SyntaxError, ValueError):
            found = None
    return found if isinstance(found, str) and found else demo.title


def file_name(demo_number: int, run_index: int) -> str:
    """demo-N-K.svg: run K (1-based, in expect.py's order) of demo N."""
    return f"demo-{demo_number}-{run_index}.svg"


def demo_title(demo) -> str:
    return _("Demo {n}: {title}").format(n=demo.number, title=_(demo.title))


def index_html(entries) -> str:
    """entries: [(demo, lesson, [(file, label, error)])]"""
    heading = esc(_("Sticky packets: every demo, byte by byte"))
    intro = esc(_("Each picture is one run: the bytes of a connection on one axis, the sends "
                  "above, the recvs below, and - where the reader used length-prefixed frames - "
                  "the headers and the whole messages. A mark under a cut says what the cut "
                  "fell inside."))
    links = [f'<a href="#demo-{demo.number}">{esc(_("demo {n}").format(n=demo.number))}</a>'
             for demo, _lesson, _runs in entries]
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           f'<title>{heading}</title>',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f'<style>{PAGE_STYLE}</style></head><body>', f'<h1>{heading}</h1>',
           f'<p>{intro}</p>', '<nav>' + "".join(links) + '</nav>']
    for demo, lesson, runs in entries:
        out.append(f'<section id="demo-{demo.number}">')
        out.append(f'<h2>{esc(demo_title(demo))}</h2>')
        out.append(f'<p class="lesson">{esc(_(lesson))}</p>')
        for fname, label, error in runs:
            out.append(f"<h3>{esc(label)}</h3>")
            if error:   # one problem a line
                lines = "<br>".join(esc(line) for line in error.splitlines())
                out.append(f'<p class="error">{lines}</p>')
            out.append(f'<a href="{esc(fname)}"><img src="{esc(fname)}" alt="{esc(label)}"></a>')
        out.append("</section>")
    out.append("</body></html>\n")
    return "\n".join(out)


def render_run(demo, index, run_spec, outdir: Path):
    """Run one pair with --full and write its picture. Returns (file, label, error)."""
    outcome = demolib.run_pair(run_spec, ["--full"])
    problems = demolib.check(run_spec, outcome)
    label = _(run_spec.label) if run_spec.label else _("run {k}").format(k=index)
    title = _("Demo {n}: {title} — {run}").format(n=demo.number, title=_(demo.title), run=label)
    name = file_name(demo.number, index)
    (outdir / name).write_text(svg_for(outcome.lines, title), encoding="utf-8")
    return name, label, problems_text(problems)


def problems_text(problems, most=3, width=160) -> str:
    """What went wrong in a run, for the page: a sentence, then the first
    problems one a line, each cut to width characters ('' when none)."""
    if not problems:
        return ""
    lines = [counted(len(problems), _("this run did not do what expect.py says (1 problem):"),
                     _("this run did not do what expect.py says ({n} problems):"))]
    for p in problems[:most]:
        lines.append(p if len(p) <= width else p[:width - 1] + "…")
    return "\n".join(lines)


def make_pictures(outdir: Path, only) -> int:
    """Every run of every demo (or of the demos numbered in only), and the index page."""
    outdir.mkdir(parents=True, exist_ok=True)
    demos = [d for d in demolib.all_demos() if not only or d.number in only]
    jobs = [(d, k, r) for d in demos for k, r in enumerate(d.runs, 1)]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        done = list(pool.map(lambda job: render_run(job[0], job[1], job[2], outdir), jobs))
    entries, i = [], 0
    for d in demos:
        entries.append((d, lesson_of(d), done[i:i + len(d.runs)]))
        i += len(d.runs)
    (outdir / "index.html").write_text(index_html(entries), encoding="utf-8")
    for name, _label, error in done:
        print(outdir / name)
        for line in error.splitlines():
            print("  " + line)
    print(outdir / "index.html")
    return 0


def main(argv) -> int:
    usage = __doc__.strip().splitlines()
    if not argv or argv[0] in ("-h", "--help"):
        print(usage[2].strip())
        return 0 if argv else 2
    if argv[0] == "--transcript":
        if len(argv) < 2:
            print(usage[3].strip(), file=sys.stderr)
            return 2
        if argv[1] == "-":
            text = sys.stdin.read()
        else:
            text = Path(argv[1]).read_text(encoding="utf-8", errors="replace")
        sys.stdout.write(svg_for(text.splitlines(), argv[2] if len(argv) > 2 else argv[1]))
        return 0
    return make_pictures(Path(argv[0]), {int(a) for a in argv[1:] if a.isdigit()})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
