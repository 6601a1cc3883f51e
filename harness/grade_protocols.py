"""grade_protocols - what harness/grade.py puts on the wire for a message, and
how it reads an answer back, for each protocol a student's program may speak:
frames (role echo), the remote shell's frames (rsh), the course's simple fix
(a 4-byte length in either byte order: '!I', 'i'), and the naive shell (raw).

Also how bytes are shown to people: as C string literals, long data abbreviated,
the way the trace lines of the demos and of bin/splitproxy show them.
"""
import struct

from i18n import _
from rshproto import auth_frame
from suite import HEADER, pack_frame

ANSWER_LIMIT = 64 * 1024 * 1024  # a longer header from the student is garbage

# ---- showing bytes as the trace lines do: C escapes, long data abbreviated ----

_ESC = {0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x22: '\\"', 0x5c: "\\\\"}


WHOLE, HEAD, TAIL = 56, 36, 18  # columns: data longer than WHOLE shows its HEAD ... its TAIL


def _esc1(b: int) -> str:
    return _ESC.get(b) or (chr(b) if 0x20 <= b < 0x7f else f"\\x{b:02x}")


def _esc(data: bytes) -> str:
    return "".join(_esc1(b) for b in data)


def _fit(data: bytes, cols: int) -> list:
    """The escapes of data's first bytes that fit in cols columns (one at least)."""
    out, used = [], 0
    for b in data[:cols]:
        e = _esc1(b)
        if out and used + len(e) > cols:
            break
        out.append(e)
        used += len(e)
    return out


def abbreviated(data: bytes) -> bool:
    return len(data) > WHOLE or len(_esc(data)) > WHOLE


def escape(data: bytes) -> str:
    """data as a C string literal; if it takes more than WHOLE columns, its
    first bytes ... its last ones (HEAD and TAIL columns)."""
    if not abbreviated(data):
        return f'"{_esc(data)}"'
    tail = "".join(reversed(_fit(bytes(reversed(data[-TAIL:])), TAIL)))
    return f'"{"".join(_fit(data, HEAD))}" ... "{tail}"'


def shown(data: bytes) -> str:
    """escape(data), with its length where it is abbreviated."""
    return _("{n} bytes {text}").format(n=len(data), text=escape(data)) if abbreviated(data) else escape(data)


# ---- the protocols: what goes on the wire for a message, and how to read it back ----

class Codec:
    """One protocol. parse_*() return ("ok", payload, bytes used), ("more", None, 0)
    or ("bad", why, 0)."""
    framed_requests = True   # the bytes toward a server carry a header
    framed_answers = True    # the bytes toward a client carry a header
    boundless = False        # answers have no boundary at all (raw)
    header_fmt = "!I"

    def noun(self, mode, plural=False):
        """What one unit is called, as seen from the student's side: a server
        gets messages or commands, a client gets echoes or answers."""
        words = {"server": self.server_noun, "client": self.client_noun}[mode]
        return words[1] if plural else words[0]

    def header(self, n):
        return struct.pack(self.header_fmt, n)

    def header_value(self, four):
        return struct.unpack(self.header_fmt, four)[0]

    tokens = False            # a server may want a token first (see preamble)

    def preamble(self, port):
        """What a client sends first on every connection to a server on port."""
        return b""


class EchoCodec(Codec):
    server_noun, client_noun = (_("message"), _("messages")), (_("echo"), _("echoes"))

    def line(self, m):
        return m.body

    def request(self, m):
        return pack_frame(m.body)

    answer = request

    def request_payload(self, m):
        return m.body

    answer_payload = request_payload

    def printed(self, m):
        return m.body + b"\n"

    def payload_offset(self, m):
        return HEADER.size

    def parse_answer(self, buf, m=None):
        return parse_frame(buf)

    def parse_request(self, buf, m):
        return parse_frame(buf)


def parse_frame(buf):
    if len(buf) < HEADER.size:
        return "more", None, 0
    (n,) = HEADER.unpack_from(buf)
    if n > ANSWER_LIMIT:
        return "bad", _("a frame header announcing {n} bytes ({text})").format(
            n=n, text=escape(bytes(buf[:4]))), 0
    if len(buf) < HEADER.size + n:
        return "more", None, 0
    return "ok", bytes(buf[HEADER.size:HEADER.size + n]), HEADER.size + n


class RshCodec(Codec):
    server_noun, client_noun = (_("command"), _("commands")), (_("answer"), _("answers"))
    tokens = True

    def line(self, m):
        return m.command

    def request(self, m):
        return pack_frame(b"C" + m.command)

    def request_payload(self, m):
        return m.command

    def answer(self, m):
        chunks = [m.output[i:i + 65536] for i in range(0, len(m.output), 65536)]
        return b"".join(pack_frame(b"O" + c) for c in chunks) + pack_frame(b"X" + struct.pack("!i", 0))

    def answer_payload(self, m):
        return m.output

    def printed(self, m):
        return m.output

    def payload_offset(self, m):
        return HEADER.size + 1

    def preamble(self, port):
        """The server's token in an 'A' frame, if it wrote one (bin/rsh-server
        does, in a file only its user can read: solution/rsh-proto.h)."""
        return auth_frame(port)

    def parse_request(self, buf, m):
        kind, body, used = parse_frame(buf)
        if kind == "ok" and body[:1] == b"A":
            return "token", None, used  # a client's token: before its first command only
        if kind == "ok" and body[:1] != b"C":
            return "bad", _("a frame that is not a command ('C'): {text}").format(text=escape(body)), 0
        return kind, body[1:] if kind == "ok" else body, used

    def parse_answer(self, buf, m=None):
        out, pos = bytearray(), 0
        while True:
            kind, body, used = parse_frame(buf[pos:])
            if kind != "ok":
                return kind, body, 0
            pos += used
            if body[:1] in (b"O", b"E"):
                out += body[1:]
            elif body[:1] == b"X" and len(body) == 5:
                status = struct.unpack("!i", body[1:])[0]
                if status != 0:
                    return "bad", _("exit status {s} (output {text})").format(s=status, text=shown(bytes(out))), 0
                return "ok", bytes(out), pos
            elif body[:1] == b"!":
                return "bad", _("an error frame '!': {text}").format(text=escape(body[1:])), 0
            else:
                return "bad", _("a frame of unknown type: {text}").format(text=escape(body)), 0


def parse_raw_request(buf, m):
    """A command with no header: the bytes of the command, maybe a newline after."""
    cmd, skip = m.command, 0
    while buf[skip:skip + 1] in (b"\n", b"\r"):
        skip += 1  # the newline after the previous command
    rest = bytes(buf[skip:])
    if rest.startswith(cmd):
        used = skip + len(cmd)
        return "ok", cmd, used + (1 if buf[used:used + 1] == b"\n" else 0)
    if cmd.startswith(rest):
        return "more", None, 0
    return "bad", _("{text}, not the command {cmd}").format(text=shown(rest), cmd=escape(cmd)), 0


class HeaderCodec(Codec):
    """The course's fix: raw command in; a 4-byte length, then stdout+stderr."""
    framed_requests = False
    server_noun, client_noun = (_("command"), _("commands")), (_("answer"), _("answers"))

    def __init__(self, fmt):
        self.header_fmt = fmt

    def line(self, m):
        return m.command

    def request(self, m):
        return m.command

    request_payload = line

    def answer(self, m):
        return struct.pack(self.header_fmt, len(m.output)) + m.output

    def answer_payload(self, m):
        return m.output

    printed = answer_payload

    def payload_offset(self, m):
        return 4

    def parse_request(self, buf, m):
        return parse_raw_request(buf, m)

    def parse_answer(self, buf, m=None):
        if len(buf) < 4:
            return "more", None, 0
        n = struct.unpack_from(self.header_fmt, buf)[0]
        if n < 0 or n > ANSWER_LIMIT:
            return "bad", _("a header announcing {n} bytes ({text})").format(n=n, text=escape(bytes(buf[:4]))), 0
        if len(buf) < 4 + n:
            return "more", None, 0
        return "ok", bytes(buf[4:4 + n]), 4 + n


class RawCodec(HeaderCodec):
    """The course's naive shell: no header either way."""
    framed_answers = False
    boundless = True

    def __init__(self):
        super().__init__("!I")

    def answer(self, m):
        return m.output

    def payload_offset(self, m):
        return 0

    def parse_answer(self, buf, m=None):
        want = m.output
        if len(buf) >= len(want):
            return "ok", bytes(buf[:len(want)]), len(want)
        if not want.startswith(bytes(buf)):
            return "ok", bytes(buf), len(buf)  # already different: show it
        return "more", None, 0


def codec_for(role, proto):
    if role == "echo":
        return EchoCodec()
    return {"rsh": RshCodec(), "!I": HeaderCodec("!I"), "i": HeaderCodec("i"),
            "raw": RawCodec()}[proto]
