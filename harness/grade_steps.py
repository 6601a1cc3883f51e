"""grade_steps - the steps of a scenario (grade_scenarios.py), as harness/grade.py
performs them: toward a student server (s_*: the grader is the client) or a
student client (c_*: the grader is the server), and what a failed step says -
what was expected, what came instead, and the likely cause.
"""
import socket

from grade_protocols import escape, shown
from grade_session import StepFailed
from i18n import _

EXIT_GRACE = 0.5  # seconds for a program that closed the connection to exit, where idle() cannot say


def failed(what, got, *why):
    """A failed expectation in one line: what was expected — what came - why."""
    return " - ".join([f"{what} — {got}", *[w for w in why if w]])


class Steps:
    """The steps, for grade_session.Run: every method here uses its state.
    s_NAME performs step NAME toward a student server, c_NAME toward a client."""

    def run(self):
        for i, step in enumerate(self.steps):
            try:
                getattr(self, ("s_" if self.server_mode else "c_") + step.kind)(step)
            except StepFailed as e:
                self.failures.append(e)
                self.event("fail", e.text)
                # After a wrong or short delivery, if more input comes next, go on
                # to show what the program makes of it (an answer read short
                # turns the next header into garbage); stop at the second failure.
                following = self.steps[i + 1].kind if i + 1 < len(self.steps) else ""
                open_conn = self.sock is not None and not self.sock_eof
                if (len(self.failures) >= 2 or not e.partial or not self.alive() or not open_conn
                        or following not in ("write", "write_bytes")):
                    return
        refused = any(s.kind == "expect_refusal" for s in self.steps)
        if not self.failures and not self.server_mode and self.t.role == "echo" and not refused:
            self.expect_exit_zero()

    def write_toward(self, data, sent_by):
        start = len(self.toward) if self.via_proxy else None
        if self.via_proxy:
            self.toward += data
        self.outbuf += data
        self.event("write", (start, data, sent_by))
        if not self.wait(lambda: not self.outbuf or self.sock_reset, self.o.deadline * 3):
            raise StepFailed(_("{n} of the {total} bytes could not be written within {s:.0f} s: the "
                               "{side} is not reading").format(
                n=len(self.outbuf), total=len(data), s=self.o.deadline * 3, side=_(self.t.mode)), hang=True)

    # -- the steps, for a student server --

    def s_write(self, step):
        self.write_toward(self.toward_bytes(step), "client")

    s_write_bytes = s_write

    def s_expect(self, step):
        m = step.msgs[0]
        want = self.codec.answer_payload(m)
        what = _("expected {noun} {text}").format(noun=self.codec.noun("server") if self.t.role == "echo"
                                                  else _("the answer"), text=shown(want))
        got = [None]

        def parsed():
            got[0] = self.codec.parse_answer(self.inbuf, m)
            return got[0][0] != "more" or self.sock_eof or not self.alive()
        self.wait(parsed, self.o.deadline * step.within)
        if self.settle():
            parsed()
        kind, value, used = got[0]
        if kind == "ok" and value == want:
            del self.inbuf[:used]
            self.event("ok", what)
            return
        if kind == "ok" and self.codec.boundless:
            self.wait(lambda: False, 0, blind=0.2)  # no boundaries: show all that came, until nothing moves
            value, used = bytes(self.inbuf), len(self.inbuf)
        if kind == "ok":
            del self.inbuf[:used]
            hint = self.hint(value, want, m)
            if not hint and not self.codec.framed_requests:
                hint = _("nothing in the bytes says where a command ends: the server ran what "
                         "one recv() returned")
            raise StepFailed(failed(what, _("got {got}").format(got=shown(value)), hint), partial=True)
        if kind == "bad":
            raise StepFailed(failed(what, _("got {got}").format(got=value)), partial=True)
        raise StepFailed(failed(what, self.nothing(m, step.within)),
                         hang=self.alive() and not self.sock_eof)

    def settle(self):
        """If the program has exited, take in what it sent before it did: the
        bytes may still be on their way, through the proxy, until the
        connection's end (or until nothing moves). Returns whether it had exited."""
        if self.alive() or self.sock is None:
            return False
        self.wait(lambda: self.sock_eof, 0, blind=EXIT_GRACE)
        return True

    def nothing(self, m, within):
        """The end of a failed expectation: what the program was doing instead."""
        some, side = bool(self.inbuf), self.t.mode
        part = _("got only {got}").format(got=shown(bytes(self.inbuf))) if some else _("got nothing")
        if self.sock_eof:  # closed: if it is exiting (a crash), let it finish, to say so every time
            self.wait(lambda: not self.alive(), 0, blind=EXIT_GRACE)
        if not self.alive():
            return _("{part}: the {side} exited with status {code}").format(
                part=part, side=_(side), code=self.student.returncode)
        if self.sock_eof:
            if self.sock_reset:
                return _("{part}: the {side} reset the connection").format(part=part, side=_(side))
            return _("{part}: the {side} closed the connection").format(part=part, side=_(side))
        if not some and self.all_passed_on(m):
            return _("{part} within {s:g} s, though every byte of it had reached the {side}, which is "
                     "still running: did it drop bytes it had read, or is it waiting for more?").format(
                part=part, s=self.o.deadline * within, side=_(side))
        return _("{part} within {s:g} s (the {side} is still running: waiting for more bytes?)").format(
            part=part, s=self.o.deadline * within, side=_(side))

    def frame_span(self, m):
        """Where m's bytes sit in the stream toward the student: (start, end), or None."""
        if self.server_mode:
            start = self.layout()[0].get(m)
            return None if start is None else (start, start + len(self.codec.request(m)))
        if m not in self.payload_at:
            return None
        start = self.payload_at[m] - self.codec.payload_offset(m)
        return start, start + len(self.codec.answer(m))

    def all_passed_on(self, m):
        """Whether the proxy had written every byte of m toward the student."""
        span = self.frame_span(m) if self.via_proxy else None
        return span is not None and self.passed_on() >= span[1]

    def hint(self, got, want, m):
        """Why got is not want, if the bytes say it."""
        noun, nouns = self.codec.noun(self.t.mode), self.codec.noun(self.t.mode, True)
        if got.startswith(want) and len(got) > len(want):
            return _("this {noun} and more: two {nouns} read as one (粘包)").format(noun=noun, nouns=nouns)
        if not got and want:
            return _("empty: the header was taken for the whole {noun} (拆包)").format(noun=noun)
        if want.startswith(got):
            return _("only its first {n} of {total} bytes: read short (拆包)").format(
                n=len(got), total=len(want))
        if want.endswith(got):
            return _("only its last {n} bytes: its start went with the previous read").format(n=len(got))
        return self.lost_place(got, m)

    def lost_place(self, got, m):
        """got is a piece of the stream from elsewhere: the reader lost its place."""
        span = self.frame_span(m) if self.via_proxy else None
        at = bytes(self.toward).find(got) if len(got) >= 8 else -1
        if span is None or at < 0 or at == span[0] + self.codec.payload_offset(m):
            return ""
        return _("bytes {a} to {b} of the stream, not the next {noun}: the {side} lost track of "
                 "where {nouns} start").format(a=at, b=at + len(got) - 1, noun=self.codec.noun(self.t.mode),
                                               side=_(self.t.mode), nouns=self.codec.noun(self.t.mode, True))

    def s_expect_refusal(self, step):
        what = _("expected the server to refuse: close the connection, within {s:g} s, without "
                 "allocating for the length").format(s=self.o.deadline)

        def answered():
            return self.inbuf and self.codec.parse_answer(self.inbuf, None)[0] == "ok"
        self.refusal_wait(what, lambda: self.sock_eof or not self.alive() or answered())
        self.settle()
        kind, value, used = self.codec.parse_answer(self.inbuf, None) if self.inbuf else ("more", None, 0)
        if kind == "ok":
            raise StepFailed(failed(what, _("it answered {got} as if it had a whole {noun}").format(
                got=shown(value), noun=self.codec.noun("server"))), partial=True)
        if not (self.sock_eof or not self.alive()):
            still = _("the connection was still open after {s:g} s: it is waiting for the bytes the "
                      "header announced").format(s=self.o.deadline)
            if self.rss_seen is not None:
                still = _("{still}; its memory: {a} MiB at the start, {b} MiB at most").format(
                    still=still, a=self.rss_base // 1024, b=self.rss_seen // 1024)
            raise StepFailed(failed(what, still), hang=True)
        self.event("ok", self.memory_note(what))

    def refusal_wait(self, what, done):
        try:
            self.wait(done, self.o.deadline)
            self.check_memory()
        except StepFailed as e:
            raise StepFailed(failed(what, e.text)) from None

    def memory_note(self, what):
        if self.rss_base is None:
            return _("{what} (memory not checked: no /proc/PID/status here)").format(what=what)
        return _("{what} (memory at most {m} MiB)").format(what=what, m=round(self.rss_seen / 1024, 1))

    def s_reconnect(self, step):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.sock_eof, self.sock_reset = None, False, False
        self.inbuf.clear()
        self.outbuf.clear()
        self.via_proxy = False
        what = _("opened a second connection, straight to the server")
        if not self.alive():
            raise StepFailed(failed(what, _("the server is not running any more: it exited with "
                                            "status {code}").format(code=self.student.returncode)))
        try:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.o.deadline)
        except OSError as e:
            raise StepFailed(failed(what, _("could not connect: {e}").format(e=e.strerror or e)))
        self.sock.setblocking(False)
        self.outbuf += self.codec.preamble(self.port)  # the token again, if the server wants one
        self.event("text", what)

    # -- the steps, for a student client --

    def wait_request(self, m):
        index = self.typed.index(m)
        self.wait(lambda: self.requests_seen > index or self.request_problem or not self.alive(),
                  self.o.deadline)
        if self.request_problem:
            raise StepFailed(self.request_problem)
        if self.requests_seen > index:
            return
        if self.sock is None:
            why = _("the client never connected (to port {port})").format(port=self.proxy_port)
        else:
            why = _("the client did not send {noun} {text} within {s:g} s").format(
                noun=self.codec.noun("server"), text=shown(self.codec.request_payload(m)), s=self.o.deadline)
        if not self.alive():
            why = _("{why}: it exited with status {code}").format(why=why, code=self.student.returncode)
        raise StepFailed(why, hang=self.alive())

    def c_write(self, step):
        self.wait_request(step.msgs[0])
        at = len(self.toward)
        for m in step.msgs:  # where each answer's payload will sit in the stream
            self.payload_at[m] = at + self.codec.payload_offset(m)
            at += len(self.codec.answer(m))
        self.write_toward(self.toward_bytes(step), "server")

    def c_write_bytes(self, step):
        self.wait_request(step.msgs[0])
        self.write_toward(self.toward_bytes(step), "server")

    def c_expect(self, step):
        m = step.msgs[0]
        want = self.codec.printed(m)
        what = _("expected the client to print {text}").format(text=shown(want))
        exact = self.t.role == "echo"
        state = {}

        def seen():
            seg = bytes(self.stdout[self.out_pos:])
            if exact:
                state["ok"] = seg.startswith(want)
                return state["ok"] or not want.startswith(seg)
            idx = seg.find(want)
            state["ok"], state["idx"] = idx >= 0, idx
            return idx >= 0
        self.wait(lambda: seen() or self.finished(), self.o.deadline * step.within)
        seen()
        if state["ok"]:
            start = self.out_pos + (0 if exact else state["idx"])
            self.check_no_header(what, self.out_pos, start)
            self.out_pos = start + len(want)
            span = self.frame_span(m)
            self.answer_end = span[1] if span else None
            self.event("ok", what)
            return
        seg = bytes(self.stdout[self.out_pos:])
        raise self.printed_wrong(m, what, want, seg, exact, step.within)

    def printed_wrong(self, m, what, want, seg, exact, within):
        if exact and seg and not want.startswith(seg):
            line = seg.split(b"\n", 1)[0] + (b"\n" if b"\n" in seg else b"")
            return StepFailed(failed(what, _("it printed {got}").format(got=shown(line)),
                                     self.hint(line[:-1] if line.endswith(b"\n") else line, want[:-1], m)),
                              partial=True)
        printed = longest_prefix_printed(seg, want[:-1] if exact else want)
        past = "" if printed else self.read_past(seg)
        garbage = self.garbage_hint(past)
        if printed:
            text = _("it printed only its first {n} of {total} bytes").format(n=printed, total=len(want))
            self.short_print = self.payload_at.get(m, 0) + printed
        else:
            text = _("it printed nothing of it")
        unexplained = not (printed or past or garbage)  # then say whether all of it had come
        text = self.nothing_client(text, within, m if unexplained else None,
                                   show_output=not printed and not past)
        self.out_pos = len(self.stdout)  # the next expectation looks at what comes next
        self.answer_end = None           # ... and the stream offset it must read from is unknown
        text = failed(what, text, past)
        return StepFailed(f"{text}. {garbage}" if garbage else text, partial=bool(printed), hang=self.alive())

    def nothing_client(self, text, within, m=None, show_output=False):
        """text, and what the client did instead of printing the rest (or,
        with m, instead of printing m at all)."""
        if not self.alive():
            err = self.tail(self.student_err, 1).strip()
            text = _("{text}; the client exited with status {code}").format(
                text=text, code=self.student.returncode)
            text = f"{text} ({err})" if err else text
            if self.t.role == "shell":
                text = " - ".join([text, _("its stdin was closed after the last command: it had gone on "
                                           "to read more")])
            return text
        if m is not None and self.all_passed_on(m):
            text = _("{text} within {s:g} s, though every byte of it had reached the client, which is "
                     "still running: did it drop bytes it had read, or is it waiting for more?").format(
                text=text, s=self.o.deadline * within)
        else:
            text = _("{text} within {s:g} s (the client is still running)").format(
                text=text, s=self.o.deadline * within)
        extra = bytes(self.stdout[self.out_pos:])
        if extra and show_output and self.t.role == "shell":
            text = _("{text}; since the previous answer it printed {out}").format(
                text=text, out=shown(extra))
        return text

    def read_past(self, seg):
        """The client printed, after the previous answer, the first bytes of
        this one's header: it read past the end of the previous answer."""
        end = self.answer_end
        if end is None or not self.codec.framed_answers or not self.alive():
            return ""
        head = bytes(self.toward[end:end + 4])
        k = 0
        while k < min(len(head), len(seg)) and seg[k] == head[k]:
            k += 1
        if not 1 <= k < 4:
            return ""
        self.short_print = end + k
        return _("after the previous answer it printed {bytes}, the first {k} bytes of this answer's "
                 "header: it read past the end of the previous answer (粘包)").format(
            bytes=escape(head[:k]), k=k)

    def garbage_hint(self, past=""):
        """After an answer read short or too far: what the client must have taken for the next header."""
        if self.short_print is None or not self.codec.framed_answers:
            return ""
        at = self.short_print
        four = bytes(self.toward[at:at + 4])
        if len(four) < 4:
            return ""
        n = self.codec.header_value(four)
        if past:
            return _("Then the next 4 bytes it read as a header were {four}: length {n}, a garbage length "
                     "- it waits for bytes that will never come").format(four=escape(four), n=n)
        return _("The previous answer was printed short: if the client read no more than it printed, the "
                 "next 4 bytes it read as a header were {four}, the middle of that answer: length {n}, a "
                 "garbage length - it waits for bytes that will never come").format(four=escape(four), n=n)

    def check_no_header(self, what, start, end):
        """Between two answers a client may print a prompt, not a header it took for output."""
        between = bytes(self.stdout[start:end])
        for m in self.typed:
            head = self.codec.answer(m)[:self.codec.payload_offset(m)]
            if len(head) >= 4 and head in between:
                raise StepFailed(failed(what, _("before it, the client printed {head}, the header of an "
                                                "answer, as output: it read two answers as one (粘包)").format(
                    head=escape(head))), partial=True)

    def c_expect_refusal(self, step):
        what = _("expected the client to stop with an error (a non-zero exit status) within {s:g} s, "
                 "without allocating for the length").format(s=self.o.deadline)
        self.refusal_wait(what, self.finished)
        cut = self.cut_payload()
        if cut and cut in bytes(self.stdout[self.out_pos:]):
            raise StepFailed(failed(what, _("it printed {part}, the part that arrived, as if it were the "
                                            "whole {noun}").format(part=escape(cut), noun=self.codec.noun("client"))))
        if self.alive():
            raise StepFailed(failed(what, _("it is still running")), hang=True)
        if self.student.returncode == 0:
            raise StepFailed(failed(what, _("it exited with status 0, as if all were well")))
        self.event("ok", self.memory_note(what))

    def cut_payload(self):
        """With eof-after inside an answer: the bytes of its payload that got through."""
        sched = self.scn.toward
        if sched.kind != "eof-after" or not self.payload_at:
            return b""
        end = self.layout()[0].get(sched.points[0].of, 0) + sched.points[0].delta
        start = max(self.payload_at.values())
        return bytes(self.toward[start:end]) if end - start >= 2 else b""

    def expect_exit_zero(self):
        what = _("expected the client to exit with status 0 once every echo was back")
        self.wait(self.finished, self.o.deadline)
        if self.alive():
            e = StepFailed(failed(what, _("it is still running after {s:g} s").format(s=self.o.deadline)),
                           hang=True)
        elif self.student.returncode != 0:
            e = StepFailed(failed(what, _("it exited with status {code}").format(code=self.student.returncode)))
        else:
            self.event("ok", what)
            return
        self.failures.append(e)
        self.event("fail", e.text)


def longest_prefix_printed(seg, want):
    """How long a beginning of want seg holds, somewhere (a client may print a
    prompt first): 0 if not even its first byte."""
    for k in (16, 8, 4, 2, 1):
        idx = seg.find(want[:k]) if len(want) >= k else -1
        if idx >= 0:
            n = 0
            while n < len(want) and idx + n < len(seg) and seg[idx + n] == want[n]:
                n += 1
            return n
    return 0
