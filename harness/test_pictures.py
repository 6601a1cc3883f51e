"""The pictures (draw.py for a terminal, svgpic.py as SVG) tell the truth about
the trace lines: every send, recv and message is drawn once, where its bytes
are, and the marks appear where a cut falls inside a header or a character.

The SVG checks below read the SVG with xml.etree and the trace with demolib,
not with the code that drew it. Real demos run only where cheap (1, 2, 3, 9,
11); the long streams (demos 4, 6, 10) are synthetic transcripts of the same
shape. The last tests check that every sentence for people goes through
i18n's _() (the pictures are drawn with a marking _ in a child process).
"""
import os
import random
import ast
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import demolib  # noqa: E402
import draw  # noqa: E402
import svgpic  # noqa: E402
from suite import parse_python  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")
KINDS = ("send", "recv", "message")
# which direction a call's bytes travel: up = client to server
UP = {("client", "send"), ("proxy-up", "send"), ("server", "recv"), ("server", "message")}
PROXY_LINE = re.compile(r'^(?P<side>proxy-up|proxy-down) \| send #(?P<num>\d+) \| conn (?P<conn>\d+) '
                        r'\| at (?P<at>\d+) \| (?P<count>\d+) bytes? \| ')


# ---------------------------------------------------------------- transcripts

def c_escape(data: bytes) -> str:
    out = []
    for b in data:
        ch = chr(b)
        if ch == "\n":
            out.append("\\n")
        elif ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


def shown(data: bytes, abbreviate: bool) -> str:
    if abbreviate and len(data) > 64:
        return f'"{c_escape(data[:32])}" ... "{c_escape(data[-16:])}"'
    return f'"{c_escape(data)}"'


def line(side, op, num, data, at=None, conn=1, asked=None, abbreviate=False):
    where = f" | at {at}" if at is not None else ""
    text = f"{side} | {op} #{num} | conn {conn}{where} | {len(data)} bytes | "
    text += shown(data, abbreviate) if data or op != "recv" else "EOF"
    return text + (f" | asked {asked}" if asked is not None else "")


def pieces(side, op, stream, sizes, conn=1, asked=None, abbreviate=False):
    """The lines of calls that cut stream into pieces of these sizes."""
    out, at = [], 0
    for i, n in enumerate(sizes, 1):
        out.append(line(side, op, i, stream[at:at + n], at, conn, asked, abbreviate))
        at += n
    return out


def frame(body: bytes) -> bytes:
    return struct.pack("!I", len(body)) + body


def split_sizes(total, count, seed, tiny=(1, 7, 100)):
    """count sizes that add up to total, a few of them tiny (as a kernel may return)."""
    rnd = random.Random(seed)
    cuts = set()
    while len(cuts) < count - 1 - len(tiny):
        cuts.add(rnd.randrange(1, total))
    sizes = [b - a for a, b in zip([0] + sorted(cuts), sorted(cuts) + [total])]
    big = max(range(len(sizes)), key=lambda i: sizes[i])
    sizes[big] -= sum(tiny)
    return sizes[:big] + list(tiny) + sizes[big:]


MIB = 1024 * 1024
DEMO6 = b"".join(b"one send() of 1 MiB: line %05d\n" % i for i in range(1, 32769))
LONG = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))


def demo6(recvs=32, fixed=False, abbreviate=True):
    stream = frame(DEMO6) if fixed else DEMO6
    lines = pieces("client", "send", stream, [len(stream)], abbreviate=abbreviate)
    lines += pieces("server", "recv", stream, split_sizes(len(stream), recvs, recvs), asked=MIB,
                    abbreviate=abbreviate)
    lines.append(line("server", "recv", recvs + 1, b"", len(stream), asked=MIB))
    if fixed:
        lines.append(line("server", "message", 1, DEMO6, abbreviate=abbreviate))
    return lines


COMMANDS = [b"awk 'BEGIN { for (i = 1; i <= 100; i++) printf \"line %03d of a long output\\n\", i }'",
            b"echo hello", b"echo world"]


def demo4_up():
    return b"".join(COMMANDS)


def demo4(abbreviate=True):
    """Demo 4 broken: the answer's 2600 bytes read with recv(1024)."""
    up = COMMANDS
    down = LONG + b"hello\nworld\n"
    lines = pieces("client", "send", b"".join(up), [len(u) for u in up], abbreviate=abbreviate)
    lines += pieces("server", "recv", b"".join(up), [len(u) for u in up], asked=1024,
                    abbreviate=abbreviate)
    lines += pieces("server", "send", down, [2600, 6, 6], abbreviate=abbreviate)
    lines += pieces("client", "recv", down, [1024, 1024, 564], asked=1024, abbreviate=abbreviate)
    return lines


def demo10(abbreviate=False):
    """rsh's answer to a command with 200000 bytes of stderr: E frames, O, X."""
    frames = [frame(b"E" + b"\0" * n) for n in (65536, 65536, 60000, 8928)]
    stream = b"".join(frames) + frame(b"Odone\n") + frame(b"X\0\0\0\0")
    up = frame(b"Chead -c 200000 /dev/zero >&2; echo done")
    lines = pieces("client", "send", up, [len(up)], abbreviate=abbreviate)
    lines += pieces("client", "recv", stream, [65536, 65536, 60436, len(stream) - 191508 - 19, 19],
                    asked=65536, abbreviate=abbreviate)
    lines.append(line("client", "message", 1, b"done\n"))
    return lines


def demo2_fixed():
    stream = frame(b"hello") + frame(b"world")
    return (pieces("client", "send", stream, [9, 9]) + pieces("server", "recv", stream, [1, 17])
            + [line("server", "message", 1, b"hello"), line("server", "message", 2, b"world")])


def proxied():
    stream = frame(b"hello") + frame(b"world")
    return (pieces("client", "send", stream, [9, 9]) + pieces("proxy-up", "send", stream, [3, 8, 7])
            + [line("server", "recv", 1, stream[:11], 0).replace(  # a note for people: ignored
                '"', '" [len 5]', 2).replace('" [len 5]', '"', 1) + " | asked 1024",
               line("server", "recv", 2, stream[11:], 11, asked=1024)]
            + [line("server", "message", 1, b"hello"), line("server", "message", 2, b"world")]
            + pieces("server", "send", b"ok", [2]) + pieces("proxy-down", "send", b"ok", [1, 1])
            + pieces("client", "recv", b"ok", [2]))


# ---------------------------------------------------------------- the SVG checker

def parse_calls(lines):
    calls = []
    for i, text in enumerate(lines):
        c = demolib.parse_call(text, i)
        if c is None:
            m = PROXY_LINE.match(text)
            if m:
                c = demolib.Call(m.group("side"), "send", int(m.group("num")), int(m.group("conn")),
                                 int(m.group("at")), int(m.group("count")), b"", None, None, i)
        if c is not None:
            calls.append(c)
    return calls


def streams_of(calls):
    """{(conn, dir): bytes or None}: the whole stream where the lines show every byte."""
    out = {}
    for key in {(c.conn, "up" if (c.side, c.op) in UP else "down") for c in calls}:
        rows = [c for c in calls if c.op != "message" and c.conn == key[0]
                and ("up" if (c.side, c.op) in UP else "down") == key[1]]
        length = max([c.at + c.count for c in rows] + [0])
        data = bytearray(length)
        whole = True
        for c in rows:
            if c.tail is not None or c.side.startswith("proxy"):
                whole = whole and c.side.startswith("proxy")
                continue
            data[c.at:c.at + c.count] = c.head
        full_rows = [c for c in rows if c.tail is None and not c.side.startswith("proxy")]
        covered = sorted((c.at, c.at + c.count) for c in full_rows if c.op == "send") or \
            sorted((c.at, c.at + c.count) for c in full_rows)
        whole = whole and sum(b - a for a, b in covered) >= length
        out[key] = bytes(data) if whole else None
    return out


def axis(g):
    pts = [tuple(float(v) for v in p.split(":")) for p in g.get("data-axis").split()]
    return [(int(o), x) for o, x in pts]


def x_at(points, offset):
    for (o0, x0), (o1, x1) in zip(points, points[1:]):
        if o0 <= offset <= o1:
            return x0 + (x1 - x0) * (offset - o0) / (o1 - o0)
    raise ValueError(f"offset {offset} is off the axis {points[0][0]}..{points[-1][0]}")


def check_svg(svg_text, lines, tol=0.02):
    """Every way the SVG disagrees with the trace lines; [] if none."""
    problems = []
    try:
        root = ET.fromstring(svg_text)
    except ET.ParseError as e:
        return [f"not XML: {e}"]
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag in ("script", "foreignObject", "image", "style"):
            problems.append(f"<{tag}> in a standalone picture")
        for k, v in el.attrib.items():
            if k.lower().startswith("on"):
                problems.append(f"event handler {k}")
            if k.endswith("href") and not v.startswith("#"):
                problems.append(f"link to {v}")
        if tag == "text" and float(el.get("font-size", "0")) < 16:
            problems.append(f"text smaller than 16px: {el.text!r}")
    groups = {(int(g.get("data-conn")), g.get("data-dir")): g
              for g in root.iter() if g.get("data-kind") == "stream"}
    calls = parse_calls(lines)
    data = streams_of(calls)
    boxes = {}
    for key, g in groups.items():
        pts = axis(g)
        if any(b[0] <= a[0] or b[1] <= a[1] for a, b in zip(pts, pts[1:])):
            problems.append(f"conn {key[0]} {key[1]}: the axis is not increasing")
            continue
        # x is the byte offset at one scale, except pieces widened to the least width
        min_px = float(g.get("data-min-px"))
        # the scale, read off the longest piece (least rounding); widened pieces are wider
        (o0, x0), (o1, x1) = max(zip(pts, pts[1:]), key=lambda p: p[1][0] - p[0][0])
        k = (x1 - x0) / (o1 - o0)
        for (o0, x0), (o1, x1) in zip(pts, pts[1:]):
            w, plain = x1 - x0, (o1 - o0) * k
            if abs(w - plain) > tol and not (abs(w - min_px) <= tol and plain <= min_px + tol):
                problems.append(f"conn {key[0]} {key[1]}: bytes {o0}..{o1} are {w:.2f} px wide, "
                                f"not {plain:.2f} (the scale) nor {min_px} (the least width)")
        for el in g.iter():
            if el.get("data-kind") in KINDS:
                boxes.setdefault((key, el.get("data-kind"), el.get("data-side"),
                                  int(el.get("data-num"))), []).append((el, pts))
    for c in calls:
        direction = "up" if (c.side, c.op) in UP else "down"
        what = f"{c.side} {c.op} #{c.num} conn {c.conn}"
        found = boxes.pop(((c.conn, direction), c.op, c.side, c.num), [])
        if len(found) != 1:
            problems.append(f"{what}: {len(found)} elements, not 1")
            continue
        el, pts = found[0]
        at, n = int(el.get("data-at")), int(el.get("data-len"))
        if n != c.count:
            problems.append(f"{what}: data-len {n}, the line says {c.count}")
        if c.op == "message":
            stream = data.get((c.conn, direction))
            if stream is not None and stream[at:at + n] != c.head:
                problems.append(f"{what}: the bytes at {at} are not the message's")
        elif at != c.at:
            problems.append(f"{what}: data-at {at}, the line says {c.at}")
        if el.tag.split("}")[-1] == "rect":
            x, w = float(el.get("x")), float(el.get("width"))
            want_x, want_end = x_at(pts, at), x_at(pts, at + n)
            if abs(x - want_x) > tol or abs(x + w - want_end) > tol:
                problems.append(f"{what}: x {x}..{x + w}, the axis puts bytes {at}..{at + n} "
                                f"at {want_x:.2f}..{want_end:.2f}")
            if n and w < 3:
                problems.append(f"{what}: only {w} px wide")
    for key, found in boxes.items():
        problems.append(f"{key[2]} {key[1]} #{key[3]} conn {key[0][0]}: drawn, not in the trace")
    # each side's sends or recvs in a direction cover the stream once: no gap, no overlap
    for (conn, direction), g in groups.items():
        length = int(g.get("data-len"))
        rows = {}
        for el in g.iter():
            if el.get("data-kind") in ("send", "recv") and el.get("data-len") != "0":
                rows.setdefault((el.get("data-side"), el.get("data-kind")), []).append(
                    (int(el.get("data-at")), int(el.get("data-len"))))
        for (side, kind), spans in rows.items():
            pos = 0
            for at, n in sorted(spans):
                if at != pos:
                    problems.append(f"conn {conn} {direction} {side} {kind}: "
                                    f"{'gap' if at > pos else 'overlap'} at byte {min(at, pos)}")
                pos = max(pos, at + n)
            if sum(n for _, n in spans) != length and kind == "send":
                problems.append(f"conn {conn} {direction} {side} {kind}: {sum(n for _, n in spans)} "
                                f"bytes drawn, the stream has {length}")
    return problems


def assert_svg_ok(lines, title="test"):
    svg = svgpic.svg_for(lines, title)
    problems = check_svg(svg, lines)
    assert not problems, "\n".join(problems[:20])
    return svg


# ---------------------------------------------------------------- the terminal picture

def picture(lines, **kw):
    pic = draw.draw(lines, **kw)
    for row in pic:
        assert draw.display_width(row) <= kw.get("width", 100), f"wider than the width: {row!r}"
    return pic


def row_of(pic, label, after=0):
    """The first row of the picture that starts with label, from index after."""
    for i in range(after, len(pic)):
        if pic[i].startswith(label):
            return i, pic[i]
    raise AssertionError(f"no row {label!r} in:\n" + "\n".join(pic))


def bar(row):
    """The bar of a row: from its label to its last separator (a summary may follow)."""
    b = row[draw.LABEL:]
    return b[:b.rindex("|") + 1] if "|" in b else b.rstrip()


def cut_columns(row):
    """Columns of the separators inside a bar (not its two ends)."""
    cols = [i for i, ch in enumerate(bar(row)) if ch == "|"]
    return cols[1:-1]


def real(number, k):
    d = demolib.load_demo(number)
    outcome = demolib.run_pair(d.runs[k - 1], ["--full"])
    assert not outcome.error, outcome.error
    return outcome.lines


# ---------------------------------------------------------------- real demos

def test_demo_1_pictures():
    broken, fixed = real(1, 1), real(1, 2)
    pic = picture(broken)
    _, send = row_of(pic, "client send")
    _, recv = row_of(pic, "server recv")
    assert "|h e l l o|w o r l d|" in send, send
    assert "|h e l l o w o r l d|" in recv, recv
    assert send.index("|h e") == recv.index("|h e"), "the rows are not on one axis"
    assert cut_columns(send) == [10] and cut_columns(recv) == [], (send, recv)
    assert "1 recv: two sends merged" in recv
    pic = picture(fixed)
    assert "[ len 5 ]h e l l o[ len 5 ]w o r l d" in "\n".join(pic), "\n".join(pic)
    assert_svg_ok(broken)
    svg = assert_svg_ok(fixed)
    headers = [el for el in ET.fromstring(svg).iter() if el.get("data-kind") == "header"]
    assert [(h.get("data-at"), h.get("data-value")) for h in headers] == [("0", "5"), ("9", "5")]


def test_demo_2_fixed_cut_inside_a_header():
    pic = picture(real(2, 2))
    i, recv = row_of(pic, "server recv")
    marks = pic[i + 1]
    assert cut_columns(recv) == [2], recv          # recv(1): one byte, at 2 columns a byte
    assert marks[draw.LABEL + 2] == "H", "\n".join(pic)
    assert any("recv #1 ends inside a frame header (1 of its 4 bytes)" in r for r in pic), "\n".join(pic)
    assert_svg_ok(real(2, 1))
    svg = assert_svg_ok(real(2, 2))
    assert 'data-mark="H" data-at="1"' in svg


def test_demo_3_pictures():
    for k in (1, 2):
        lines = real(3, k)
        pic = "\n".join(picture(lines))
        assert "conn 2" in pic and "1 recv: two sends merged" in pic, pic
        assert_svg_ok(lines)


def test_demo_9_cut_inside_a_character():
    broken = real(9, 1)
    pic = picture(broken)
    i, recv = row_of(pic, "server recv")
    assert cut_columns(recv) == [21, 42], recv     # recv(7), 3 columns a byte (hex)
    assert pic[i + 1][draw.LABEL + 21] == "C" and pic[i + 1][draw.LABEL + 42] == "C", "\n".join(pic)
    text = "\n".join(pic)
    assert "recv #1 ends inside a 3-byte UTF-8 character" in text, text
    assert "recv #2 ends inside a 3-byte UTF-8 character" in text, text
    assert "recv #1 ends inside a 2-byte GBK character" in text, text   # conn 2
    svg = assert_svg_ok(broken)
    assert svg.count('data-mark="C"') == 3
    fixed = real(9, 2)
    text = "\n".join(picture(fixed))
    assert "recv #2 ends inside a 3-byte UTF-8 character" in text, text
    assert "recv #1 ends inside a 2-byte GBK character" in text, text
    assert_svg_ok(fixed)


# ---------------------------------------------------------------- long streams

def test_one_mib_in_32_recvs_shows_32_recvs():
    for fixed in (False, True):
        lines = demo6(32, fixed)
        pic = picture(lines)
        i, recv = row_of(pic, "server recv")
        assert len(cut_columns(recv)) == 31, "\n".join(pic)   # 32 recvs: 31 cuts, each its own column
        assert pic[i + 1].count("S") == 31, pic[i + 1]
        assert re.search(r"1 column . \d+ bytes", pic[0]), pic[0]
        assert "32 recvs: one send split" in "\n".join(pic)
        assert "abbreviates" in "\n".join(pic)
        svg = assert_svg_ok(lines)
        if fixed:
            assert "1048576" in "\n".join(pic) and 'data-value="1048576"' in svg


def test_more_recvs_than_room_for_separators_still_one_column_each():
    lines = demo6(70)
    pic = picture(lines)
    _, recv = row_of(pic, "server recv")
    b = bar(recv).rstrip()
    runs = [m.group() for m in re.finditer(r"▓+|░+", b)]
    assert len(runs) == 70, f"{len(runs)} boxes in {b!r}"
    assert_svg_ok(lines)


def test_long_answer_cut_by_recv_1024():
    for abbreviate in (True, False):
        lines = demo4(abbreviate)
        pic = picture(lines)
        text = "\n".join(pic)
        _, recv = row_of(pic, "client recv")
        assert len(cut_columns(recv)) == 2, recv
        assert "3 recvs: send #1 split in 3, recv #3 holds bytes of 3 sends" in text, text
        assert "|f a long out" in recv, recv      # where recv #2 really begins: mid-line
        assert ("abbreviates" in text) == abbreviate
        assert_svg_ok(lines)


def test_full_bytes_fill_in_an_abbreviated_transcript():
    lines = demo4(abbreviate=True)
    known = draw.draw(lines, full_bytes={(1, "down"): LONG + b"hello\nworld\n",
                                         (1, "up"): demo4_up()})
    assert draw.draw(demo4(abbreviate=False)) == known
    assert "abbreviates" in "\n".join(draw.draw(lines))


def test_rsh_frames_typed_and_many():
    lines = demo10()
    pic = "\n".join(picture(lines))
    assert "6 frames; 1 message" in pic and "O stdout, E stderr, X exit status" in pic, pic
    svg = assert_svg_ok(lines)
    root = ET.fromstring(svg)
    msg = [el for el in root.iter() if el.get("data-kind") == "message"]
    assert [(m.get("data-at"), m.get("data-len")) for m in msg] == [(str(200020 + 5), "5")]
    assert len([el for el in root.iter() if el.get("data-kind") == "header"]) == 7  # 1 up, 6 down


# ---------------------------------------------------------------- transcripts as people keep them

def test_two_terminals_pasted_one_after_the_other():
    lines = demo2_fixed()
    server = [x for x in lines if x.startswith("server")]
    client = [x for x in lines if x.startswith("client")]
    want = picture(lines)
    assert picture(server + client) == want
    assert picture(client + server) == want
    only_server = "\n".join(picture(server))
    assert "2 recvs (the client printed no send lines)" in only_server, only_server
    assert "recv #1 ends inside a frame header" in only_server, only_server


def test_saved_demo_output_holds_two_runs():
    lines = (["== demo 2: residue", "", "-- broken: no boundaries", "server: listening on x:1"]
             + [x.replace("\x00", "") for x in pieces("client", "send", b"helloworld", [5, 5])]
             + pieces("server", "recv", b"helloworld", [1, 9])
             + ["", "-- fixed: length-prefixed frames"] + demo2_fixed())
    pic = "\n".join(picture(lines))
    assert "-- broken: no boundaries" in pic and "-- fixed: length-prefixed frames" in pic
    assert pic.count("conn 1: client → server") == 2, pic


def test_proxy_rows_and_annotations():
    lines = proxied()
    pic = picture(lines)
    text = "\n".join(pic)
    _, proxy = row_of(pic, "proxy-up send")
    assert cut_columns(proxy) == [6, 22], proxy
    assert "send #1 ends inside a frame header (3 of its 4 bytes)" in text, text
    assert "recv #1 ends inside a frame header (2 of its 4 bytes)" in text, text
    row_of(pic, "proxy-down send")
    assert_svg_ok(lines)


def test_colour_only_when_asked():
    lines = demo2_fixed()
    plain = picture(lines)
    assert not any("\x1b" in r for r in plain)
    coloured = draw.draw(lines, colour=True)
    assert any("\x1b[" in r for r in coloured)
    assert [ANSI.sub("", r) for r in coloured] == plain


def test_every_line_fits_the_width():
    for lines in (demo6(32, True), demo4(), demo10(), proxied(), demo2_fixed()):
        for width in (100, 80):
            picture(lines, width=width)


# ---------------------------------------------------------------- the checks can fail

def test_checker_rejects_wrong_pictures():
    lines = demo4(abbreviate=False)
    good = svgpic.svg_for(lines, "good")
    assert check_svg(good, lines) == []

    def mutate(fn):
        root = ET.fromstring(good)
        fn(root)
        return ET.tostring(root, encoding="unicode")

    def find(root, **attrs):
        return next(el for el in root.iter()
                    if all(el.get(f"data-{k}") == str(v) for k, v in attrs.items()))

    def shift(root):
        el = find(root, kind="recv", side="client", num=2)
        el.set("x", str(float(el.get("x")) + 20))

    def drop(root):
        for parent in root.iter():
            for el in list(parent):
                if el.get("data-kind") == "send" and el.get("data-num") == "3" \
                        and el.get("data-side") == "server":
                    parent.remove(el)

    def overlap(root):
        el = find(root, kind="recv", side="client", num=3)
        el.set("data-at", "2000")

    def stretch(root):
        g = find(root, kind="stream", dir="down")
        pts = g.get("data-axis").split()
        o, x = pts[1].split(":")
        pts[1] = f"{o}:{float(x) + 40}"  # one piece drawn wider than the scale says
        g.set("data-axis", " ".join(pts))

    cases = {"x 20 px off": (shift, "client recv #2 conn 1: x"),
             "a send missing": (drop, "server send #3 conn 1: 0 elements"),
             "recvs overlap": (overlap, "overlap at byte 2000"),
             "axis not to scale": (stretch, "px wide, not")}
    for name, (fn, expected) in cases.items():
        problems = check_svg(mutate(fn), lines)
        assert any(expected in p for p in problems), f"{name}: {problems}"
    scripted = good.replace("</svg>", "<script>alert(1)</script></svg>")
    assert any("<script>" in p for p in check_svg(scripted, lines))


# ---------------------------------------------------------------- the index page

def test_index_page_names_each_demo_and_lesson():
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        expect = Path(d) / "expect.py"
        expect.write_text('TITLE = "t"\nLESSON = ("one " "sentence")\n', encoding="utf-8")
        bare = Path(d) / "bare.py"
        bare.write_text('TITLE = "t"\n', encoding="utf-8")
        with_lesson = demolib.Demo.__new__(demolib.Demo)
        with_lesson.__dict__.update(number=3, name="03-x", title="Title <3>", runs=[], path=expect)
        without = demolib.Demo.__new__(demolib.Demo)
        without.__dict__.update(number=4, name="04-y", title="only a title", runs=[], path=bare)
        assert svgpic.lesson_of(with_lesson) == "one sentence"
        assert svgpic.lesson_of(without) == "only a title"
        page = svgpic.index_html([
            (with_lesson, "one sentence", [(svgpic.file_name(3, 1), "broken", ""),
                                           (svgpic.file_name(3, 2), "fixed", "it failed")])])
        assert 'src="demo-3-1.svg"' in page and 'src="demo-3-2.svg"' in page
        assert "Title &lt;3&gt;" in page and "one sentence" in page and "it failed" in page
        assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")


# ---------------------------------------------------------------- datagrams, facts, odd input

def test_demo_11_udp_recvs_read_one_datagram_each():
    broken = real(11, 1)
    pic = picture(broken)
    text = "\n".join(pic)
    _, recv = row_of(pic, "server recv")
    assert "|hell|" in recv, text                  # recv(4) of "helloworld", then a gap
    assert "recv #3 returned 4 of the 10 bytes of send #3: the other 6 are gone" in text, text
    assert "4 recvs, one datagram each; 2 datagrams were longer" in text, text
    root = ET.fromstring(svgpic.svg_for(broken, "t"))
    recv4 = [el for el in root.iter() if el.get("data-kind") == "recv" and el.get("data-num") == "4"]
    assert [(el.get("data-at"), el.get("data-len")) for el in recv4] == [("20", "1024")]
    fixed = real(11, 2)
    text = "\n".join(picture(fixed))
    assert "4 recvs, one whole datagram each" in text, text
    assert "each is exactly one recv's bytes" in text and "len " not in text, text
    root = ET.fromstring(assert_svg_ok(fixed))
    assert not [el for el in root.iter() if el.get("data-kind") == "header"]
    msgs = [el.get("data-at") for el in root.iter() if el.get("data-kind") == "message"]
    assert msgs == ["0", "5", "10", "20"], msgs


def udp_lines():
    """Two datagrams; recv(3) keeps 3 bytes of the first, the rest is lost."""
    return (["server: listening on 127.0.0.1:1 (UDP: bound; there is no listen)"]
            + pieces("client", "send", b"helloworld", [5, 5])
            + [line("server", "recv", 1, b"hel", 0, asked=3), line("server", "recv", 2, b"world", 3, asked=5)])


def test_udp_recv_cut_to_its_buffer():
    pic = picture(udp_lines())
    text = "\n".join(pic)
    _, recv = row_of(pic, "server recv")
    assert "|h e l|   |w o r l d|" in recv, text       # the 2 lost bytes: a gap
    assert "recv #1 returned 3 of the 5 bytes of send #1: the other 2 are gone" in text, text
    assert "1 datagram was longer than the recv's buffer" in text, text


def test_facts_about_a_connection_are_shown_with_it():
    lines = (pieces("client", "send", b"helloworld", [5, 5]) + ["client | fact | conn1.segments = 5"]
             + pieces("server", "recv", b"helloworld", [10])
             + ["server | fact | conn1.waiting = 19", "server | fact | outcome = merged"])
    text = "\n".join(picture(lines))
    assert "the client measured: segments = 5" in text and "the server measured: waiting = 19" in text
    assert "outcome" not in text, text
    assert "the client measured: segments = 5" in assert_svg_ok(lines)


def test_narrow_terminals_and_crowded_streams():
    for lines, width in ((demo6(70), 80), (demo6(70), 40), (demo6(32, True), 40)):
        pic = picture(lines, width=width)
        _, recv = row_of(pic, "server recv")
        assert "▓" in recv and "░" in recv, "\n".join(pic)
    assert "some share a column" in "\n".join(picture(demo6(70), width=80))


def test_message_lines_alone():
    lines = [line("server", "message", 1, b"hello")]
    assert "no send or recv line shows its bytes" in "\n".join(picture(lines))
    ET.fromstring(svgpic.svg_for(lines, "only a message"))


def test_command_lines():
    here = os.path.dirname(os.path.abspath(__file__))
    text = "\n".join(demo2_fixed()) + "\n"
    run = [sys.executable, os.path.join(here, "draw.py"), "--width", "80"]
    out = subprocess.run(run, input=text, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "server message  [ len 5 ]" in out.stdout, out
    run = [sys.executable, os.path.join(here, "svgpic.py"), "--transcript", "-", "two frames"]
    out = subprocess.run(run, input=text, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and check_svg(out.stdout, demo2_fixed()) == [], out


# ---------------------------------------------------------------- every sentence through _()

PICTURE_MODULES = ("draw.py", "captions.py", "svgpic.py", "svgshapes.py", "streams.py", "transcript.py",
                   "textcells.py")
SENTENCE = re.compile(r"[A-Za-z]{2,}[,.:;]? +[A-Za-z]{2,}")


def test_no_sentence_literal_outside_i18n():
    """Literals with two words or more sit inside _(...), unless they are markup,
    a module constant (fonts, styles) or a docstring."""
    here = os.path.dirname(os.path.abspath(__file__))
    found = []
    for name in PICTURE_MODULES:
        tree = parse_python(os.path.join(here, name))
        allowed = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_", "compile"):
                allowed.update(id(n) for a in node.args for n in ast.walk(a))
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node):
                allowed.add(id(node.body[0].value))
            if isinstance(node, ast.Assign) and all(getattr(t, "id", "x").isupper() for t in node.targets):
                allowed.update(id(n) for n in ast.walk(node.value))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in allowed
                    and SENTENCE.search(node.value) and "<" not in node.value):
                found.append(f"{name}:{node.lineno}: {node.value!r}")
    assert not found, "sentences that bypass _():\n" + "\n".join(found)


MARKED = r"""
import re, sys, types
sys.path.insert(0, HERE)
import i18n
def marked(text):  # every word outside {placeholders} gets a ¤ in front
    return re.sub(r"(?<![{\w¤])([A-Za-z][A-Za-z']*)", r"¤\1", text)
i18n._ = marked
import draw, svgpic, test_pictures as t
import xml.etree.ElementTree as ET
UNMARKED = re.compile(r"(?<![¤\w])[A-Za-z]{2,}")
ALLOWED = {"UTF", "GBK"}
bad = []
cases = [t.demo2_fixed(), t.proxied(), t.demo4(), t.demo10(), t.demo6(70)]
cases.append(t.pieces("client", "send", b"helloworld", [5, 5]) + t.pieces("server", "recv", b"helloworld", [10]))
cases.append(t.pieces("client", "send", "你好".encode(), [6]) + t.pieces("server", "recv", "你好".encode(), [4, 2]))
cases.append(t.udp_lines() + ["client | fact | conn1.n = 5", t.line("server", "message", 1, b"world")])
said = []  # every sentence the terminal picture prints: through Out.text, or beside a row
print_text, print_row = draw.Out.text, draw.Block.row
def text(self, words, indent=0, style=None):
    said.append(words)
    print_text(self, words, indent, style)
def row(self, label, cells, style, summary="", notes=(), marks=None):
    said.extend([label, summary])
    print_row(self, label, cells, style, summary, notes, marks)
draw.Out.text, draw.Block.row = text, row
for lines in cases:
    draw.draw(lines, width=100)
    bad += [(w, words) for words in said if not words.startswith("-- ")
            for w in UNMARKED.findall(words) if w not in ALLOWED]
    said.clear()
    for el in ET.fromstring(svgpic.svg_for(lines, "¤t")).iter():
        if el.tag.endswith("text") and "Mono" not in el.get("font-family", ""):
            bad += [(w, el.text) for w in UNMARKED.findall(el.text or "") if w not in ALLOWED]
        if el.tag.endswith("title") and el.text:
            bad += [(w, el.text) for w in UNMARKED.findall(el.text) if w not in ALLOWED]
demo = types.SimpleNamespace(number=1, title="coalesce")
page = svgpic.index_html([(demo, "a lesson", [("demo-1-1.svg", i18n._("broken"), "")])])
page = re.sub(r"<style>.*</style>", " ", page)
bad += [(w, "html") for w in UNMARKED.findall(re.sub(r"<[^>]*>", " ", page)) if w != "svg"]
for w, where in bad[:20]:
    print(repr(w), "in", repr(where))
"""


def test_every_sentence_drawn_goes_through_i18n():
    """Draw with an _ that marks each word it is given: every word people read
    in the pictures and on the index page is marked (bytes and numbers aside)."""
    here = os.path.dirname(os.path.abspath(__file__))
    script = f"HERE = {here!r}\n" + MARKED
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


def test_a_failed_run_says_what_went_wrong_one_problem_a_line():
    text = svgpic.problems_text(["client exited with 1", "missing: " + "x" * 300, "c", "d"])
    lines = text.splitlines()
    assert lines[0] == "this run did not do what expect.py says (4 problems):", lines
    assert lines[1] == "client exited with 1" and len(lines[2]) == 160 and lines[2].endswith("…")
    assert len(lines) == 4 and svgpic.problems_text([]) == ""
    demo = demolib.Demo.__new__(demolib.Demo)
    demo.__dict__.update(number=4, title="t")
    page = svgpic.index_html([(demo, "lesson", [("demo-4-2.svg", "fixed", "a <b>\nc")])])
    assert '<p class="error">a &lt;b&gt;<br>c</p>' in page, page
