"""captions.py - the words under the pictures, for people.

Both pictures (draw.py in a terminal, svgpic.py as SVG) say the same things
in the same words: how many sends and recvs a stream had, whether a recv
merged sends or split one, where a cut fell inside a frame header or a
character, and what the headers say. Those sentences are here.

Every sentence goes through _() (i18n.py) whole, with {placeholders} for
the numbers, so that a translator sees the sentence, not pieces of it.
"""
from typing import List

from i18n import _


def side_name(side: str) -> str:
    """The name of a side (a program) in a sentence."""
    names = {"client": _("client"), "server": _("server"),
             "proxy-up": _("proxy-up"), "proxy-down": _("proxy-down")}
    return names.get(side, side)


def row_label(side: str, op: str) -> str:
    """The label in front of a row: who made the calls, and which calls."""
    labels = {("client", "send"): _("client send"),
              ("server", "send"): _("server send"),
              ("proxy-up", "send"): _("proxy-up send"),
              ("proxy-down", "send"): _("proxy-down send"),
              ("client", "recv"): _("client recv"),
              ("server", "recv"): _("server recv"),
              ("client", "message"): _("client message"),
              ("server", "message"): _("server message")}
    return labels.get((side, op), f"{side} {op}")


def frames_row_label(s) -> str:
    """The label of the frames row: the receiver's messages, or just the frames."""
    if s.messages:
        return row_label(s.receiver, "message")
    return _("frames")


def counted(n: int, one: str, many: str, **values) -> str:
    """one (already through _()) when n is 1, else many; {n} and values filled in."""
    return (one if n == 1 else many).format(n=n, **values)


def stream_title(s) -> str:
    return _("conn {conn}: {sender} → {receiver}, {n} bytes").format(
        conn=s.conn, sender=side_name(s.sender), receiver=side_name(s.receiver), n=s.length)


def with_note(title: str, note: str) -> str:
    """A title and the note that goes with it (how the picture is scaled)."""
    return _("{title} · {note}").format(title=title, note=note)


def both(first: str, second: str) -> str:
    """Two clauses of one sentence."""
    return _("{first}; {second}").format(first=first, second=second)


# ---------------------------------------------------------------- what each row shows

def send_summary(s) -> str:
    return counted(len(s.sends), _("1 send, {b} bytes"), _("{n} sends, {b} bytes"),
                   b=sum(c.count for c in s.sends))


def recv_summary(s, calls, op="recv") -> str:
    """In plain words: how the calls' cuts (recvs, or a proxy's sends when op is
    "send") relate to the sender's sends."""
    if op == "recv" and s.datagrams:
        return datagram_summary(s)
    got = [c for c in calls if c.count]
    sends = s.sends if op == "send" else s.reference_sends()
    if not sends:
        return no_sends_summary(s, len(got), op)
    if op == "send":
        return proxy_summary(s, got, sends)
    split = [r for r in sends if any(r.at < c.at + c.count < r.at + r.count for c in got)]
    merged = []   # (recv, how many sends it holds bytes of), for recvs that hold more than one
    for c in got:
        starts_inside = sum(1 for r in sends if c.at < r.at < c.at + c.count)
        if starts_inside:
            merged.append((c, starts_inside + 1))
    n = len(got)
    if not split and not merged:
        if n == len(sends):
            return counted(n, _("1 recv for the 1 send: here the cuts happen to match"),
                           _("{n} recvs, one per send: here the cuts happen to match"))
        return counted(n, _("1 recv"), _("{n} recvs"))
    if n == 1 and merged and not split:
        k = merged[0][1]
        if k == 2:
            return _("1 recv: two sends merged")
        return _("1 recv: {k} sends merged").format(k=k)
    if len(sends) == 1 and split and not merged:
        return _("{n} recvs: one send split").format(n=n)
    return counted(n, _("1 recv: {what}"), _("{n} recvs: {what}"),
                   what=split_and_merged(got, split, merged))


def no_sends_summary(s, n, op) -> str:
    """The receiving side's lines alone (two terminals, only one pasted)."""
    sender = side_name(s.sender)
    if op == "send":
        return counted(n, _("1 send (the {side} printed no send lines)"),
                       _("{n} sends (the {side} printed no send lines)"), side=sender)
    return counted(n, _("1 recv (the {side} printed no send lines)"),
                   _("{n} recvs (the {side} printed no send lines)"), side=sender)


def proxy_summary(s, got, sends) -> str:
    """Whether a proxy's sends cut the stream where the sender's sends did."""
    def edges(calls):
        return {c.at for c in calls} | {c.at + c.count for c in calls}
    n = len(got)
    if edges(got) <= edges(sends):
        return counted(n, _("1 send: cut where the {side} cut"),
                       _("{n} sends: cut where the {side} cut"), side=side_name(s.sender))
    return counted(n, _("1 send: the proxy cut the stream anew"),
                   _("{n} sends: the proxy cut the stream anew"))


def split_and_merged(got, split, merged) -> str:
    """Which sends the recvs split, and which recvs hold bytes of several sends."""
    clauses = []
    if len(split) == 1:
        r = split[0]
        pieces = sum(1 for c in got if c.at < r.at + r.count and r.at < c.at + c.count)
        clauses.append(_("send #{num} split in {k}").format(num=r.num, k=pieces))
    elif split:
        clauses.append(_("{k} sends split").format(k=len(split)))
    if len(merged) == 1:
        c, k = merged[0]
        clauses.append(_("recv #{num} holds bytes of {k} sends").format(num=c.num, k=k))
    elif merged:
        clauses.append(_("{k} recvs hold bytes of several sends").format(k=len(merged)))
    if len(clauses) == 2:
        return _("{first}, {second}").format(first=clauses[0], second=clauses[1])
    return clauses[0]


def datagram_summary(s) -> str:
    """UDP: each recv read one datagram; say whether some were cut to the buffer."""
    n = len(s.datagrams)
    losses = s.datagram_losses()
    if losses:
        recvs = counted(n, _("1 recv, one datagram"), _("{n} recvs, one datagram each"))
        lost = sum(k for _recv, _send, k in losses)
        text = counted(len(losses),
                       _("{recvs}; 1 datagram was longer than the recv's buffer: {lost} bytes "
                         "lost"),
                       _("{recvs}; {n} datagrams were longer than the recv's buffer: {lost} bytes "
                         "lost"), recvs=recvs, lost=lost)
    else:
        text = counted(n, _("1 recv, one whole datagram: UDP keeps the send's boundaries"),
                       _("{n} recvs, one whole datagram each: UDP keeps each send's boundaries"))
    missing = len(s.sends) - n
    if missing:
        text = _("{summary}; {k} datagrams never received").format(summary=text, k=missing)
    return text


def datagram_notes(s) -> List[str]:
    """UDP: which recvs returned only the start of their datagram (3 at most)."""
    losses = s.datagram_losses()
    out = [_("recv #{num} returned {k} of the {n} bytes of send #{send}: the other {lost} are "
             "gone").format(num=r.num, k=r.count, n=send.count, send=send.num, lost=lost)
           for r, send, lost in losses[:3]]
    if len(losses) > 3:
        out.append(_("… and {k} more datagrams cut short").format(k=len(losses) - 3))
    return out


def recv_notes(s, cuts) -> List[str]:
    """The notes under the recv row: datagrams cut short, cuts inside headers or characters."""
    return datagram_notes(s) + cut_notes(cuts)


def recv_row_summary(s, say_eof=False) -> str:
    """The receiver's row: its recvs, the bytes it never read and, when asked, its EOF."""
    text = recv_summary(s, s.recvs)
    unread = s.length - s.received
    if unread > 0 and (s.sends or s.proxied) and not s.datagrams:
        text = _("{summary}; {k} bytes never read").format(summary=text, k=unread)
    if say_eof and any(c.count == 0 for c in s.recvs):
        text = _("{summary}; then recv returned 0: the peer closed").format(summary=text)
    return text


def frames_summary(s) -> str:
    """The frames row: the messages the receiver delivered, or the frames alone."""
    if not s.messages:
        return counted(len(s.frames), _("1 frame"), _("{n} frames"))
    n = len(s.messages)
    if not s.length:
        return counted(n, _("1 message delivered; no send or recv line shows its bytes"),
                       _("{n} messages delivered; no send or recv line shows their bytes"))
    if not s.placed:
        return counted(n, _("1 message delivered; the transcript abbreviates the bytes that "
                            "would place it"),
                       _("{n} messages delivered; the transcript abbreviates the bytes that "
                         "would place them"))
    if s.unframed:
        return unframed_summary(s)
    if s.typed:
        text = both(counted(len(s.frames), _("1 frame"), _("{n} frames")),
                    counted(n, _("1 message (a command's stdout), whole"),
                            _("{n} messages (each a command's stdout), whole")))
    else:
        text = counted(n, _("1 message, whole: the header says where it ends"),
                       _("{n} messages, each whole: the headers say where each ends"))
    if s.unplaced:
        text = _("{summary}; {k} not placed: the transcript does not show where their bytes "
                 "are").format(summary=text, k=len(s.unplaced))
    return text


def unframed_summary(s) -> str:
    """Messages with no header (UDP): whole, and maybe each exactly one recv."""
    n = len(s.messages)
    recvs = {(c.at, c.count) for c in s.recvs}
    if all((p.parts[0][0], p.call.count) in recvs for p in s.placed):
        return counted(n, _("1 message, whole, with no header: it is exactly one recv's bytes"),
                       _("{n} messages, each whole, with no header: each is exactly one recv's "
                         "bytes"))
    return counted(n, _("1 message, whole, with no header"),
                   _("{n} messages, each whole, with no header"))


# ---------------------------------------------------------------- notes under a row

def cut_notes(cuts, op="recv") -> List[str]:
    """Detail lines for the cuts inside a frame header or a character (3 of each at most)."""
    out = []
    in_header = [c for c in cuts if c.header]
    for c in in_header[:3]:
        words = (_("send #{num} ends inside a frame header ({k} of its 4 bytes)") if op == "send"
                 else _("recv #{num} ends inside a frame header ({k} of its 4 bytes)"))
        out.append(words.format(num=c.call.num, k=c.at - c.header.at))
    if len(in_header) > 3:
        out.append(_("… and {k} more cuts inside a frame header").format(k=len(in_header) - 3))
    in_char = [c for c in cuts if c.char]
    for c in in_char[:3]:
        words = (_("send #{num} ends inside a {size}-byte {enc} character ({text}: {k} of its "
                   "{size} bytes)") if op == "send"
                 else _("recv #{num} ends inside a {size}-byte {enc} character ({text}: {k} of its "
                        "{size} bytes)"))
        ch = c.char
        out.append(words.format(num=c.call.num, size=ch.size, enc=ch.encoding, text=ch.text,
                                k=c.at - ch.at))
    if len(in_char) > 3:
        out.append(_("… and {k} more cuts inside a character").format(k=len(in_char) - 3))
    return out


def headers_say(frames) -> str:
    """The lengths in the headers, for headers too narrow to show theirs (10 at most)."""
    lengths = [str(f.length) for f in frames[:10]]
    if len(frames) > 10:
        lengths.append("…")
    return _("the headers say: {list}").format(list=", ".join(lengths))


def frame_types_note(s) -> str:
    """What the type byte of each rsh frame in the stream means."""
    kinds = {"C": _("C command"), "O": _("O stdout"), "E": _("E stderr"),
             "X": _("X exit status"), "!": _("! error")}
    seen = {chr(f.kind) for f in s.frames if f.kind is not None}
    return _("frame types (first body byte): {list}").format(
        list=", ".join(words for letter, words in kinds.items() if letter in seen))


def frames_not_drawn(s) -> str:
    return _("frames after byte {at} not drawn: the transcript abbreviates their "
             "headers").format(at=s.frames_stop)


def characters_note(s) -> str:
    """The characters, numbered as the picture numbers them."""
    return _("characters: {list}").format(
        list="  ".join(f"{i} {c.text}" for i, c in enumerate(s.chars, 1)))


def chars_label(s) -> str:
    return _("{enc} chars").format(enc="/".join(sorted({c.encoding for c in s.chars})))


def facts_notes(s) -> List[str]:
    """What each side measured on this connection (demo 7: segments, bytes waiting)."""
    out = []
    for side in ("client", "server"):
        facts = [f"{f.name} = {f.value}" for f in s.facts if f.side == side]
        if facts:
            words = (_("the client measured: {facts}") if side == "client"
                     else _("the server measured: {facts}"))
            out.append(words.format(facts=", ".join(facts)))
    return out


def abbreviated_note(tilde=False) -> str:
    """The stream is abbreviated; tilde: the picture shows an unknown byte as ~."""
    if tilde:
        return _("the transcript abbreviates long data: every cut is exact, some bytes are not "
                 "shown (~)")
    return _("the transcript abbreviates long data: every cut is exact, some bytes are not "
             "shown")


def run_title(label: str, k: int) -> str:
    """The heading of run k (from 1): its label, else its number."""
    return "-- " + (label or _("run {k}").format(k=k))


def nothing_to_draw() -> str:
    return _("no send, recv or message lines to draw")
