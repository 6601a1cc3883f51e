"""grade_report - what harness/grade.py prints: each check's title, and for a
failed one a numbered transcript of the steps that led to it (as CS144's
tests do), with the proxy's writes as the student's program got them.

A Result's transcript holds each step on one line; print_results() wraps
them to WIDTH columns (a quoted string of bytes is never cut), prints a
failure that repeats an earlier one in one line, and says once, at the end,
how to run one check alone.
"""
import os
import re
import shlex
import sys
import unicodedata

from grade_protocols import EchoCodec, shown
from i18n import _
from suite import ROOT

WIDTH = 100
STDERR_MARK = "    | "
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def title_of(scn, codec, mode):
    title = scn.shell_title if scn.shell_title and not isinstance(codec, EchoCodec) else scn.title
    framed = codec.framed_requests if mode == "server" else codec.framed_answers
    unit = _("the {msg}").format(msg=codec.noun(mode))
    header = _("the header") if framed else unit
    frame = _("the frame") if framed else unit
    return _(title).format(msg=codec.noun(mode), msgs=codec.noun(mode, True), header=header,
                           frame=frame, **scn.title_args)


class Transcript:
    """The transcript of a grade_session.Run (a mixin: it uses the run's state)."""

    def proxy_writes(self):
        side = "proxy-up" if self.server_mode else "proxy-down"
        found = []
        for line in self.proxy_lines:
            parts = line.split(" | ", 5)
            if len(parts) == 6 and parts[0] == side and parts[2] == "conn 1":
                found.append((int(parts[3][3:]), int(parts[4].split()[0]), parts[5]))
        return found

    def passed_on(self):
        """How many bytes toward the student the proxy has written so far."""
        return sum(count for _at, count, _text in self.proxy_writes())

    def render(self):
        writes = self.proxy_writes()
        items = []
        for kind, what in self.events:
            if kind == "write":
                start, data, who = what
                items += self.render_write(start, data, _(who), writes)
            else:
                items.append((kind, what))
        return "\n".join(f"  {n}. {text}" for n, text in enumerate(collapse(items, self.codec), 1))

    def render_write(self, start, data, who, writes):
        """A write of the grader's, as the student got it: the proxy's writes
        (where the schedule re-cuts the bytes; else the write as it was made)."""
        wrote = _("{who} wrote {data}").format(who=who, data=shown(data))
        if start is None:  # straight to the server, not through the proxy
            return [("text", wrote)]
        end = start + len(data)
        mine = [w for w in writes if w[0] < end and w[0] + w[1] > start]
        passed = sum(min(end, at + count) - max(start, at) for at, count, _text in mine)
        note = "" if passed >= len(data) else _("(by then the proxy had passed on {n} of those "
                                                "{total} bytes)").format(n=passed, total=len(data))
        if self.scn.toward.kind in ("pass", "coalesce") or not mine:
            return [("text", f"{wrote} {note}".rstrip())]
        if len(mine) > 6:
            sizes = ", ".join(str(count) for _at, count, _text in mine[:10])
            more = ", ..." if len(mine) > 10 else ""
            cut = _("{who} wrote {data}, cut by the proxy into {k} writes of {sizes} bytes").format(
                who=who, data=shown(data), k=len(mine), sizes=sizes + more)
            return [("text", f"{cut} {note}".rstrip())]
        out = [_("{who} wrote {data}").format(who=who, data=shown(bytes(self.toward[at:at + count])))
               for at, count, _text in mine]
        out[-1] = f"{out[-1]} {note}".rstrip()
        return [("text", line) for line in out]

    def report(self, fate):
        title = title_of(self.scn, self.codec, self.t.mode)
        text = [_('The check "{title}" failed after these steps:').format(title=title), self.render()]
        who = _("The server") if self.server_mode else _("The client")
        cmd = self.student_cmd if self.student is not None else self.t.command
        text.append("  " + _("{who}: $ {cmd}").format(who=who, cmd=cmd))
        if self.memory_blowup is not None:
            text.append("  " + _("It was killed there, with its whole process group."))
        elif fate == "running" and any(f.hang for f in self.failures) and self.unread_when_stuck:
            text.append("  " + _("It hung: asleep, with {n} bytes in its socket it had not read. It "
                                 "was killed, with its whole process group.").format(n=self.unread_when_stuck))
        elif fate == "running" and any(f.hang for f in self.failures):
            text.append("  " + _("It hung: it was killed, with its whole process group."))
        elif fate not in ("", "running"):
            text.append("  " + _("It exited with status {code}.").format(code=fate))
        err = self.tail(self.student_err) if self.student is not None else ""
        if err:
            text.append("  " + _("Its stderr, last lines:"))
            text += [STDERR_MARK + line for line in err.split("\n")]
        perr = self.tail(self.proxy_err, 4) if self.proxy is not None else ""
        if perr:
            text.append("  " + _("The proxy said:"))
            text += [STDERR_MARK + line for line in perr.split("\n")]
        return "\n".join(text)

    def cause(self, fate):
        """What tells this failure from another scenario's: what failed, how
        the program ended, and what it wrote to stderr - the bytes and numbers
        left out, so that the same mistake at another offset reads the same."""
        stderr = self.tail(self.student_err) if self.student is not None else ""
        text = "\n".join([f.text for f in self.failures] + [str(fate), stderr])
        return re.sub(r"\d+", "N", QUOTED.sub("Q", text))


def collapse(items, codec):
    """The numbered steps, with long runs of alike ones (200 sends, 200 expectations met) shortened."""
    out, i = [], 0
    while i < len(items):
        kind = items[i][0]
        j = i + 1
        while kind in ("sent", "ok") and j < len(items) and items[j][0] == kind:
            j += 1
        run = [what for _k, what in items[i:j]]
        if kind == "sent":
            texts = [shown(codec.request_payload(m)) for m in run]
            if len(run) > 3:
                out.append(_("client sent {n} {noun}: {a}, {b}, ... {z}").format(
                    n=len(run), noun=codec.noun("server", True), a=texts[0], b=texts[1], z=texts[-1]))
            else:
                out += [_("client sent {noun} {t}").format(noun=codec.noun("server"), t=t) for t in texts]
        elif kind == "ok" and len(run) > 4:
            out += [run[0], _("... {n} more, as expected ...").format(n=len(run) - 2), run[-1]]
        else:
            out += run
        i = j
    return out


# ---- printing, WIDTH columns at most ----

TOKEN = re.compile(QUOTED.pattern + r"\S*|\S+")
NUMBERED = re.compile(r"( *\d+\. )")


def columns(text):
    """How many columns text takes in a terminal: 拆包 takes four."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(line, width=WIDTH, hang=None):
    """line in lines of width columns at most; the next lines indented by
    hang columns, or under the text of a numbered step, or marked as stderr.
    Words and quoted strings stay whole, unless one alone is wider than a
    line; spacing is kept."""
    if columns(line) <= width:
        return [line]
    if line.startswith(STDERR_MARK):
        return [STDERR_MARK + piece for piece in cut(line[len(STDERR_MARK):], width - len(STDERR_MARK))]
    m = NUMBERED.match(line)
    first = m.group(1) if m else line[:len(line) - len(line.lstrip())]
    indent = " " * (hang if hang is not None else len(first) if m else len(first) + 2)
    out, start, prefix, words, end = [], 0, "", 0, len(first)
    for tok in TOKEN.finditer(line, len(first)):
        if words and columns(prefix + line[start:tok.end()]) > width:
            out.append(prefix + line[start:end])
            start, prefix, words = tok.start(), indent, 0
        words, end = words + 1, tok.end()
    out.append(prefix + line[start:])
    return [piece for text in out for piece in overlong(text, width, indent)]


def overlong(text, width, indent):
    """A line still too wide (one word wider than a line): cut it where it must."""
    if columns(text) <= width:
        return [text]
    first = cut(text, width)[0]
    return [first] + [indent + piece for piece in cut(text[len(first):], width - len(indent))]


def cut(text, width):
    """text in pieces of width columns at most (for a word wider than a line)."""
    pieces, cur = [], ""
    for c in text:
        if columns(cur + c) > width:
            pieces.append(cur)
            cur = ""
        cur += c
    return pieces + [cur]


def say(text, out, hang=None):
    for line in text.split("\n"):
        print("\n".join(wrap(line, hang=hang)), file=out)


def summary(results):
    passed = sum(1 for r in results if r.passed and not r.skipped)
    failed = sum(1 for r in results if not r.passed)
    skipped = sum(1 for r in results if r.skipped)
    return passed, failed, skipped


def result_line(r):
    if r.skipped:
        return "  " + _("skip {name:<22} {title} ({why})").format(
            name=r.scenario.name, title=r.title, why=r.skipped)
    word = _("ok  ") if r.passed else _("FAIL")
    return "  " + _("{word} {name:<22} {title} ({s:.1f} s)").format(
        word=word, name=r.scenario.name, title=r.title, s=r.seconds)


def rerun_command(target, name):
    """The command that runs one check alone, as words: make's form if make ran us."""
    q = shlex.quote
    if os.environ.get("MAKELEVEL"):
        words = ["make", "grade", f"{target.mode.upper()}={q(target.command)}"]
        if target.role != "echo":
            words += [f"ROLE={target.role}", f"PROTO={q(target.proto)}"]
        return words + [f"ONLY={name}"]
    words = ["python3", os.path.relpath(ROOT / "harness" / "grade.py"), f"--{target.mode}", q(target.command)]
    if target.role != "echo":
        words += ["--role", target.role, "--proto", q(target.proto)]
    return words + ["--only", name]


def shell_lines(words, width=WIDTH, indent="  "):
    """A command in lines of width columns at most, ended by a backslash where
    it goes on: it can be copied into a shell as it is."""
    lines, cur = [], indent
    for word in words:
        if cur.strip() and columns(f"{cur} {word} \\") > width:
            lines.append(cur + " \\")
            cur = indent * 2 + word
        else:
            cur = f"{cur} {word}" if cur.strip() else cur + word
    return lines + [cur]


def print_results(target, results, out=sys.stdout):
    shown_causes, blank = {}, False
    for r in results:
        if r.skipped and r.scenario.stress:
            continue  # --all-offsets: an offset past the end of the bytes; not worth a line
        row = result_line(r)
        say(row, out, hang=row.find(r.title) if r.title in row else None)  # under the title
        blank = False
        if r.passed:
            continue
        same = shown_causes.get(r.cause) if r.cause else None
        if same:
            say("       " + _("it fails the same way as {name}, above").format(name=same), out)
            continue
        shown_causes.setdefault(r.cause, r.scenario.name)
        print(file=out)
        say(r.transcript, out)
        print(file=out)
        blank = True
    failed = [r.scenario.name for r in results if not r.passed]
    if failed:
        if not blank:
            print(file=out)
        print(_("Run one check alone:"), file=out)
        print("\n".join(shell_lines(rerun_command(target, failed[0]))), file=out)
    passed, nfailed, skipped = summary(results)
    print(_("{p} passed, {f} failed, {s} skipped").format(p=passed, f=nfailed, s=skipped), file=out)
