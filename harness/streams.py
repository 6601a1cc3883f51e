"""streams.py - what the pictures draw: the byte streams of a demo run.

TCP carries a stream of bytes in each direction of a connection. This module
reads the lines the demos print, and rebuilds each stream:

    client | send #1 | conn 1 | at 0 | 5 bytes | "hello"
    client | send #2 | conn 1 | at 5 | 5 bytes | "world"
    server | recv #1 | conn 1 | at 0 | 10 bytes | "helloworld" | asked 1024

becomes one Stream (conn 1, "up": client to server) of 10 bytes, with two
sends above it and one recv below it. For the fixed demos it also finds the
frames (a 4-byte header that says how many bytes of body follow) and where
each delivered message sits. A cut is where a recv (or a proxy's send) ends
inside the stream; a cut can fall inside a send, inside a frame header, or
inside a multi-byte character (UTF-8, or GBK).

Nothing here draws: draw.py draws a Stream for a terminal, svgpic.py as SVG.
Entry point: analyse(lines) -> [(Section, [Stream])], one pair per run (the
lines are split into runs by transcript.py).
"""
import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import demolib
from transcript import Fact, Section, sections

HEADER_BYTES = 4  # a frame header: the body's length, 4 bytes, big-endian

# direction -> (sender, receiver, the proxy side that re-cuts it)
DIRECTIONS = {"up": ("client", "server", "proxy-up"), "down": ("server", "client", "proxy-down")}


# ---------------------------------------------------------------- frames, characters, cuts

@dataclass
class Frame:
    at: int                 # offset of its 4-byte header
    length: int             # what the header says: bytes of body
    kind: Optional[int]     # first body byte when the protocol types its frames (rsh), else None
    complete: bool          # all of its body is in the stream
    inferred: bool = False  # header bytes not in the transcript: length taken from a message line

    @property
    def end(self) -> int:
        return self.at + HEADER_BYTES + self.length


@dataclass
class CharSpan:
    """One multi-byte character and where its bytes are."""
    at: int
    size: int       # bytes
    encoding: str   # "UTF-8" or "GBK"
    text: str


@dataclass
class Cut:
    """Where a recv (or a proxy's send) ends inside the stream."""
    at: int
    call: demolib.Call
    send: Optional[demolib.Call] = None    # the sender's send it falls inside
    header: Optional[Frame] = None         # the frame header it falls inside
    char: Optional[CharSpan] = None        # the character it falls inside

    @property
    def mark(self) -> str:
        """The letter drawn under the cut: H header, C character, S send ('' none)."""
        if self.header:
            return "H"
        if self.char:
            return "C"
        if self.send:
            return "S"
        return ""


@dataclass
class PlacedMessage:
    """A delivered message and where its bytes are in the stream."""
    call: demolib.Call
    parts: List[Tuple[int, int]]  # (offset, length); more than one when a message spans frames


HIGH = re.compile(rb"[\x80-\xff]")   # a byte that is not ASCII
LEAD = re.compile(rb"[\xc2-\xf4]")   # a byte that can start a multi-byte UTF-8 character


def utf8_size(lead: Optional[int]) -> int:
    """How many bytes a UTF-8 character starting with this byte has (0: not a lead byte)."""
    if lead is None:
        return 0
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def gbk_chars(region: bytes, base: int) -> Optional[List[CharSpan]]:
    """The double-byte characters of region if all of it is GBK text, else None."""
    try:
        text = region.decode("gbk")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
        return None
    spans, pos = [], base
    for ch in text:
        n = len(ch.encode("gbk"))
        if n > 1:
            spans.append(CharSpan(pos, n, "GBK", ch))
        pos += n
    if pos - base != len(region):
        return None
    return spans


def in_order(calls) -> List[demolib.Call]:
    """Calls by their number (#1, #2, ...), with `at` filled in where a line lacked it."""
    ordered = sorted(calls, key=lambda c: c.num)
    pos = 0
    for c in ordered:
        if c.at is None:
            c.at = pos
        pos = c.at + c.count
    return ordered


# ---------------------------------------------------------------- the stream

class Stream:
    """One direction of one connection: every byte, who sent it and who received it.

    sends     the sender's sends, in order        recvs     the receiver's recvs
    proxied   a proxy's sends (the bytes re-cut)  messages  the receiver's whole messages
    frames    the frames found in the bytes       placed    messages with their offsets
    chars     multi-byte characters               facts     numbers measured on this conn
    """

    def __init__(self, conn: int, direction: str, calls: Sequence[demolib.Call], framed_run: bool,
                 full_bytes: Optional[bytes] = None, udp: bool = False):
        self.conn, self.direction = conn, direction
        self.sender, self.receiver, self.proxy = DIRECTIONS[direction]
        self.sends = in_order(self._pick(calls, self.sender, "send"))
        self.proxied = in_order(self._pick(calls, self.proxy, "send"))
        self.recvs = in_order(self._pick(calls, self.receiver, "recv"))
        self.messages = sorted(self._pick(calls, self.receiver, "message"), key=lambda c: c.num)
        self.facts: List[Fact] = []
        self.datagrams: List[Tuple[demolib.Call, demolib.Call]] = []   # (recv, the send it read)
        if udp or recvs_contradict_sends(self.recvs, self.sends):
            self._place_datagrams()
        self._read_bytes(full_bytes)
        self.frames: List[Frame] = []
        self.frames_stop: Optional[int] = None   # frames not known from this offset on
        self.typed = False                       # frames start with a type byte (rsh)
        self.unframed = False                    # messages with no header (UDP's datagrams)
        self.placed: List[PlacedMessage] = []
        self.unplaced: List[demolib.Call] = []
        self.chars: List[CharSpan] = []
        if self.length:
            self._find_frames(framed_run)
            self.chars = self._find_chars()

    def _pick(self, calls, side, op):
        return [c for c in calls if c.side == side and c.op == op and c.conn == self.conn]

    def _place_datagrams(self):
        """UDP: each recv returns the start of one datagram (one send), and what
        did not fit in its buffer is lost. A recv line's "at" counts the bytes
        received before it, so after a loss it is not where the recv's bytes were
        sent. Each recv is matched to the next send it is the start of, and moved
        there; when one does not match, nothing is moved."""
        pairs, next_send = [], 0
        for r in self.recvs:
            if not r.count:
                continue
            while next_send < len(self.sends) and not starts(self.sends[next_send], r):
                next_send += 1
            if next_send == len(self.sends):
                return
            pairs.append((r, self.sends[next_send]))
            next_send += 1
        for r, send in pairs:
            r.at = send.at
        self.datagrams = pairs

    def datagram_losses(self) -> List[Tuple[demolib.Call, demolib.Call, int]]:
        """(recv, send, bytes lost) for each datagram its recv read only in part."""
        return [(r, send, send.count - r.count) for r, send in self.datagrams
                if r.count < send.count]

    def _read_bytes(self, full_bytes):
        """Every byte the lines show (abbreviated lines show their head and tail)."""
        rows = self.sends + self.proxied + self.recvs
        self.length = max([c.at + c.count for c in rows] + [0])
        self.data = bytearray(self.length)
        self.mask = bytearray(self.length)   # 1 where the byte is known
        for c in rows:
            self._learn(c.at, c.head)
            if c.tail is not None:
                self._learn(c.at + c.count - len(c.tail), c.tail)
        if full_bytes is not None:
            self._learn(0, bytes(full_bytes[:self.length]))
        abbreviated = any(c.tail is not None for c in rows + self.messages)
        self.abbreviated = abbreviated and self.mask.find(0) >= 0  # some bytes unknown

    def _learn(self, at, data):
        end = min(self.length, at + len(data))
        if at < 0 or at >= end:
            return
        self.data[at:end] = data[:end - at]
        self.mask[at:end] = b"\x01" * (end - at)

    def known(self, at: int, n: int) -> bool:
        """All n bytes from at are known."""
        return at >= 0 and at + n <= self.length and self.mask.find(0, at, at + n) < 0

    def byte(self, i: int) -> Optional[int]:
        """The byte at offset i, None where the transcript did not show it."""
        if 0 <= i < self.length and self.mask[i]:
            return self.data[i]
        return None

    @property
    def received(self) -> int:
        """Bytes the receiver's recvs returned (the end of the last one)."""
        return max([c.at + c.count for c in self.recvs] + [0])

    def reference_sends(self) -> List[demolib.Call]:
        """The writes a cut is measured against: the sender's, else the proxy's."""
        return self.sends or self.proxied

    # -- frames and messages

    def _read_frames(self) -> Tuple[List[Frame], int]:
        """Frames from the first byte on, as long as their headers are known.
        Returns them and the offset where reading stopped."""
        frames, p = [], 0
        while p < self.length and len(frames) < 100000:
            if not self.known(p, HEADER_BYTES):
                break
            n = int.from_bytes(self.data[p:p + HEADER_BYTES], "big")
            kind = self.byte(p + HEADER_BYTES) if n >= 1 else None
            complete = p + HEADER_BYTES + n <= self.length
            frames.append(Frame(p, n, kind, complete))
            p = p + HEADER_BYTES + n if complete else self.length
        return frames, p

    def _find_frames(self, framed_run):
        frames, stop = self._read_frames()
        if not self.messages:
            # No message lines: frames only where the run uses them and the bytes
            # parse as frames from the first byte to the last (rsh's requests).
            whole = stop >= self.length and frames and all(f.complete for f in frames)
            if framed_run and whole and all(f.length >= 1 for f in frames) and len(frames) <= 10000:
                self.frames = frames
            return
        self.frames = frames
        placed = self._match_plain(frames, self.messages)
        if placed is None:
            placed = self._match_typed(frames, self.messages)
            self.typed = placed is not None
        placed = placed or []
        rest = self.messages[len(placed):]
        if stop < self.length:
            rest = self._infer_frames(stop, rest, placed)
        if not placed:
            unframed = self._match_unframed(self.messages)
            if unframed is not None:
                self.frames, self.frames_stop, self.typed, self.unframed = [], None, False, True
                placed, rest = unframed, []
        self.placed, self.unplaced = placed, rest

    def _infer_frames(self, at, rest, placed):
        """Header bytes abbreviated away: if the rest is plain frames, one per
        message, the message lines give the lengths. Returns the messages left."""
        framed_length = sum(HEADER_BYTES + m.count for m in rest)
        if rest and not self.typed and framed_length == self.length - at:
            for m in rest:
                self.frames.append(Frame(at, m.count, None, True, inferred=True))
                placed.append(PlacedMessage(m, [(at + HEADER_BYTES, m.count)]))
                at += HEADER_BYTES + m.count
            return []
        self.frames_stop = at
        return rest

    def _consistent(self, at, m):
        """The message's first bytes agree with the stream's known bytes at at."""
        head = m.head[:max(0, min(len(m.head), self.length - at))]
        if self.known(at, len(head)):
            return self.data[at:at + len(head)] == head
        return all(not self.mask[at + i] or self.data[at + i] == b for i, b in enumerate(head))

    def _match_plain(self, frames, msgs):
        """Each message is the body of the next frame (the demos' frame.h)."""
        out = []
        for f, m in zip(frames, msgs):
            if f.length != m.count or not self._consistent(f.at + HEADER_BYTES, m):
                return None
            out.append(PlacedMessage(m, [(f.at + HEADER_BYTES, m.count)]))
        return out

    def _match_unframed(self, msgs):
        """No headers: the messages one after the other are the whole stream
        (UDP: each message is one datagram)."""
        out, at = [], 0
        for m in msgs:
            if at + m.count > self.length or not self._consistent(at, m):
                return None
            out.append(PlacedMessage(m, [(at, m.count)]))
            at += m.count
        return out if at == self.length else None

    def _match_typed(self, frames, msgs):
        """rsh (solution/rsh-proto.h): a message is the payload of an answer's
        'O' frames, up to its 'X' frame."""
        out, parts, left = [], [], list(msgs)
        for f in frames:
            if f.kind is None:
                break
            if f.kind == ord("O") and f.length > 1:
                parts.append((f.at + HEADER_BYTES + 1, f.length - 1))
            elif f.kind == ord("X"):
                if not left:
                    break
                m = left.pop(0)
                if sum(n for _at, n in parts) != m.count:
                    return None
                out.append(PlacedMessage(m, parts or [(f.at, 0)]))
                parts = []
        return out if out else None

    # -- characters

    def _text_regions(self):
        """Where text may be: frame bodies (after the type byte) or the whole stream."""
        if not self.frames:
            return [(0, self.length)]
        skip = 1 if self.typed else 0
        out = [(f.at + HEADER_BYTES + skip, min(f.end, self.length)) for f in self.frames]
        if self.frames_stop is not None:
            out.append((self.frames_stop, self.length))
        return [(a, b) for a, b in out if a < b]

    def _find_chars(self) -> List[CharSpan]:
        """GBK where a whole region is GBK and not UTF-8; else the UTF-8 characters."""
        spans = []
        for a, b in self._text_regions():
            region = bytes(self.data[a:b])
            gbk = None
            if self.known(a, b - a) and HIGH.search(region) and not is_utf8(region):
                gbk = gbk_chars(region, a)
            spans += gbk if gbk is not None else self._utf8_chars(a, b)
        return spans

    def _utf8_chars(self, a, b) -> List[CharSpan]:
        """Multi-byte UTF-8 characters in a..b whose bytes are all known."""
        spans, i = [], a
        while i < b:
            m = LEAD.search(self.data, i, b)
            if not m:
                break
            i = m.start()
            n = utf8_size(self.byte(i))
            if n and i + n <= b and self.known(i, n) and is_utf8(bytes(self.data[i:i + n])):
                spans.append(CharSpan(i, n, "UTF-8", bytes(self.data[i:i + n]).decode("utf-8")))
                i += n
            else:
                i += 1
        return spans

    # -- cuts and boundaries

    def cuts(self, calls, sends) -> List[Cut]:
        """Where calls end inside the stream, and what each end falls inside."""
        out = []
        for c in calls:
            end = c.at + c.count
            if not c.count or not 0 < end < self.length:
                continue
            cut = Cut(end, c)
            cut.send = next((s for s in sends if s.at < end < s.at + s.count), None)
            cut.header = next((f for f in self.frames if f.at < end < f.at + HEADER_BYTES), None)
            cut.char = next((ch for ch in self.chars if ch.at < end < ch.at + ch.size), None)
            out.append(cut)
        return out

    def recv_cuts(self) -> List[Cut]:
        return self.cuts(self.recvs, self.reference_sends())

    def proxy_cuts(self) -> List[Cut]:
        return self.cuts(self.proxied, self.sends)

    def boundaries(self, with_frames=True) -> List[int]:
        """Every offset where a send, a recv (and a header, a message) begins or ends."""
        b = {0, self.length}
        for c in self.sends + self.proxied + self.recvs:
            b.update((c.at, c.at + c.count))
        if with_frames:
            for f in self.frames:
                b.update((f.at, f.at + HEADER_BYTES, min(f.end, self.length)))
                if self.typed and f.length >= 1:
                    b.add(min(f.at + HEADER_BYTES + 1, self.length))
            for p in self.placed:
                for at, n in p.parts:
                    b.update((at, at + n))
        return sorted(x for x in b if 0 <= x <= self.length)

    def frame_pieces(self) -> List[Tuple[int, int, str]]:
        """The frames row as pieces (a, b, kind): kind is "header", "message" or
        "other" (an rsh type byte, an exit status, stderr: bytes of a frame, not of a message)."""
        pieces = [(f.at, min(f.at + HEADER_BYTES, self.length), "header") for f in self.frames]
        for p in self.placed:
            pieces += [(a, a + n, "message") for a, n in p.parts if n]
        taken = sorted((a, b) for a, b, _kind in pieces)
        for f in self.frames:
            pos, end = f.at + HEADER_BYTES, min(f.end, self.length)
            for a, b in taken:
                if b <= pos or a >= end:
                    continue
                if a > pos:
                    pieces.append((pos, a, "other"))
                pos = max(pos, b)
            if pos < end:
                pieces.append((pos, end, "other"))
        return sorted(pieces)


def starts(send: demolib.Call, recv: demolib.Call) -> bool:
    """The recv's bytes could be the first bytes of the send (as far as both lines show)."""
    n = min(len(send.head), len(recv.head))
    return recv.count <= send.count and send.head[:n] == recv.head[:n]


def recvs_contradict_sends(recvs, sends) -> bool:
    """A recv's first bytes differ from the sent bytes at its offset: the recv
    lines' offsets are not positions in one byte stream (UDP lost bytes)."""
    for r in recvs:
        for s in sends:
            lo, hi = max(r.at, s.at), min(r.at + len(r.head), s.at + len(s.head))
            if lo < hi and r.head[lo - r.at:hi - r.at] != s.head[lo - s.at:hi - s.at]:
                return True
    return False


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ---------------------------------------------------------------- every run

def analyse(lines: Sequence[str], full_bytes=None) -> List[Tuple[Section, List[Stream]]]:
    """Each run in the lines, with its streams (conn, direction) that carried bytes.
    full_bytes: optional {(conn, "up"|"down"): bytes}, every byte of a stream when
    the caller knows it (for instance from a --full run), to fill abbreviated lines."""
    out = []
    for sec in sections(lines):
        framed_run = any(c.op == "message" for c in sec.calls)
        streams = []
        for conn in sorted({c.conn for c in sec.calls}):
            first = len(streams)
            for direction in ("up", "down"):
                known = full_bytes.get((conn, direction)) if isinstance(full_bytes, dict) else None
                s = Stream(conn, direction, sec.calls, framed_run, known, sec.udp)
                if s.length or s.messages:
                    streams.append(s)
            if len(streams) > first:   # the conn's facts go with its first stream
                streams[first].facts = [f for f in sec.facts if f.conn == conn]
        out.append((sec, streams))
    return out
