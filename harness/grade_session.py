"""grade_session - one scenario of harness/grade.py, run: the student's program
and bin/splitproxy started, the bytes moved both ways, every wait bounded by
a deadline, and everything the student started killed with its process group.

The steps themselves (what is written, what is expected) are grade_steps.py;
the transcript is grade_report.py; grade.py puts the three together. The
processes' helpers (ports, process groups, memory) are grade_procs.py.
"""
import os
import select
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import grade_scenarios as S
from grade_procs import end_group, free_port, group_pids, kill_group, listening_on, readable, rss_kib
from grade_protocols import codec_for, escape, shown
from grade_wait import PATIENCE, Waits
from i18n import _
from suite import BIN, LISTENING

DEADLINE = 2.0                 # seconds per step, by default
RSS_GROWTH_KIB = 64 * 1024     # a refusal must not grow memory by more than this
RSS_EVERY = 0.005              # seconds between memory samples
STDERR_LINES = 12


# ---- what is graded, and how ----

@dataclass
class Target:
    mode: str            # "server" or "client": which side the student wrote
    command: str         # a shell command line with {port}
    role: str = "echo"   # "echo" or "shell"
    proto: str = "rsh"   # for role shell: rsh, i, !I, raw


@dataclass
class Options:
    deadline: float = DEADLINE
    proxy: Path = BIN / "splitproxy"
    jobs: int = 4
    cwd: Optional[Path] = None


@dataclass
class Result:
    scenario: S.Scenario
    title: str
    passed: bool
    skipped: str = ""
    transcript: str = ""
    seconds: float = 0.0
    cause: str = ""      # what failed, told apart from other scenarios' failures (grade_report)


class StepFailed(Exception):
    """A step did not go as expected: text says how; hang, that the program
    was still running (waiting for something); partial, that it delivered
    something wrong and may go on (its next answer shows the consequence)."""

    def __init__(self, text, hang=False, partial=False):
        super().__init__(text)
        self.text, self.hang, self.partial = text, hang, partial


# ---- one scenario, run ----

class Run(Waits):
    """One scenario against one student program: the program, the proxy, the
    grader's own end of the connection, and what happened, step by step (the
    steps are grade_steps.Steps, the transcript grade_report.Transcript, the
    waits grade_wait.Waits)."""

    def __init__(self, target: Target, scn: S.Scenario, opts: Options):
        self.t, self.scn, self.o = target, scn, opts
        self.codec = codec_for(target.role, target.proto)
        self.server_mode = target.mode == "server"
        self.steps = self._steps()
        self.student = self.proxy = None
        self.sock = self.listener = None
        self.sock_eof = self.sock_reset = False
        self.inbuf, self.outbuf = bytearray(), bytearray()
        self.bytes_in = 0              # every byte the grader has taken in (socket, stdout, the proxy's lines)
        self.via_proxy = True
        self.preamble = b""            # sent first on each connection to the server (a token)
        self.toward = bytearray()      # every byte written toward the student (connection 1)
        self.payload_at = {}           # message -> stream offset of its payload
        self.proxy_lines, self.proxy_pending = [], b""
        self.stdout, self.stdout_eof = bytearray(), False
        self.stdin_buf, self.stdin_fd = b"", None
        self.typed, self.requests_seen, self.request_problem = [], 0, ""
        self.out_pos = 0
        self.events = []               # (kind, text or data) in the order they happened
        self.failures = []
        self.short_print = None        # after an answer printed short: where the client must be reading
        self.answer_end = None         # after an answer printed whole: where its frame ended
        self.rss_pids = []
        self.rss_base = self.rss_seen = None
        self.memory_blowup = None      # the memory (KiB) at which the program was killed
        self.rss_members_at = 0.0
        self.rss_next = 0.0
        self.watch_rss = any(s.kind == "expect_refusal" for s in self.steps)
        self.port = None
        self.tmp = tempfile.TemporaryDirectory(prefix="grade-")

    def _steps(self):
        steps = self.scn.steps
        if not self.server_mode:  # a client: nothing after a reconnect applies
            cut = [i for i, s in enumerate(steps) if s.kind == "reconnect"]
            steps = steps[:cut[0]] if cut else steps
        return steps

    # -- the bytes toward the student, known before anything runs --

    def toward_bytes(self, step):
        if step.kind == "write":
            enc = self.codec.request if self.server_mode else self.codec.answer
            return b"".join(enc(m) for m in step.msgs)
        if step.garbage_length is not None:
            return self.codec.header(step.garbage_length) + b"x" * 64
        return step.to_server if self.server_mode else step.to_client

    def layout(self):
        """Where each message starts in the stream toward the student (until a reconnect)."""
        starts, pos = {}, len(self.preamble)
        for step in self.steps:
            if step.kind == "reconnect":
                break
            if step.kind == "write":
                for m in step.msgs:
                    starts.setdefault(m, pos)
                    pos += len(self.toward_bytes(S.write(m)))
            elif step.kind == "write_bytes":
                pos += len(self.toward_bytes(step))
        return starts, pos

    def schedule(self):
        """The splitproxy schedule text, with its offsets filled in; None if it
        falls outside the stream (the scenario does not apply)."""
        sched = self.scn.toward
        if not sched.points:
            return sched.kind + (":" + sched.arg if sched.arg else "")
        starts, total = self.layout()
        base = len(self.preamble)
        offsets = [(starts[p.of] if p.of else base) + p.delta for p in sched.points]
        if any(o <= base or o >= total for o in offsets):
            return None
        return sched.kind + ":" + ",".join(str(o) for o in offsets)

    # -- processes --

    def start(self, sched):
        deadline = time.monotonic() + max(5.0, 3 * self.o.deadline)
        if self.server_mode:
            self.start_server(sched, deadline)
        else:
            self.start_client(sched, deadline)

    def start_server(self, sched, deadline):
        for attempt in range(3):  # the port may be taken between our look and its bind
            self.port = free_port()
            self.start_student(self.port)
            if self.wait_listening(deadline, retry=attempt < 2):
                break
        if self.codec.tokens:
            self.wait_announced(deadline)
            self.preamble = self.codec.preamble(self.port)
        sched = self.schedule()  # its offsets, after the preamble
        self.start_proxy(sched, self.port, deadline)
        self.sample_rss(force=True)
        self.sock = socket.create_connection(("127.0.0.1", self.proxy_port), timeout=5)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.event("text", _("connected to the server through the proxy: {how}").format(
            how=self.proxy_words(sched)))
        if self.preamble:
            self.toward += self.preamble
            self.outbuf += self.preamble
            self.event("text", _("client sent the token the server wrote for port {port} (an 'A' "
                                 "frame of {n} bytes)").format(port=self.port, n=len(self.preamble)))

    def start_client(self, sched, deadline):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.setblocking(False)
        self.start_proxy(sched, self.listener.getsockname()[1], deadline)
        self.typed = self.lines_to_type()
        self.start_student(self.proxy_port, stdin=True)
        self.sample_rss(force=True)
        lines = [escape(self.codec.line(m)) for m in self.typed]
        if len(lines) > 3:
            lines = lines[:2] + ["...", lines[-1]]
        self.event("text", _("started the client; it connects through the proxy: {how}").format(
            how=self.proxy_words(sched)))
        if len(self.typed) < 4:
            typed = _("typed {lines} on the client's stdin, then closed it").format(lines=", ".join(lines))
        else:
            typed = _("typed {n} lines on the client's stdin: {lines}; then closed it").format(
                n=len(self.typed), lines=", ".join(lines))
        self.event("text", typed)

    def proxy_words(self, sched):
        """What the proxy does to the bytes toward the student, in words."""
        kind, _sep, arg = sched.partition(":")
        gap = self.scn.gap_ms
        if kind == "coalesce":
            return _("it writes what comes within {ms} ms at once").format(
                ms=arg[:-2] if arg.endswith("ms") else 50)
        sees_reads = os.path.exists("/proc/net/tcp")  # the proxy waits until the student has read
        if kind == "split-at" and sees_reads:
            return _("it cuts after byte {at}, and at a cut waits until the {side} has read what came "
                     "before").format(at=arg.replace(",", ", "), side=_(self.t.mode))
        if kind == "split-at":
            return _("it cuts after byte {at} and waits {ms} ms").format(
                at=arg.replace(",", ", "), ms=gap)
        if kind == "drip" and sees_reads:
            return _("it writes one byte at a time, each once the {side} has read the one before").format(
                side=_(self.t.mode))
        if kind == "drip":
            return _("it writes one byte at a time, {ms} ms apart").format(ms=arg or gap)
        if kind == "random":
            return _("it cuts at random places (seed {seed})").format(seed=arg)
        if kind == "eof-after":
            return _("it closes the connection after byte {at}").format(at=arg)
        return _("it passes the bytes on as they come")

    def lines_to_type(self):
        found = []
        for step in self.steps:
            if step.kind in ("write", "write_bytes"):
                for m in step.msgs:
                    if m not in found:
                        found.append(m)
        return found

    def start_proxy(self, sched, to_port, deadline):
        toward = "--up" if self.server_mode else "--down"
        cmd = [str(self.o.proxy), "--listen", "0", "--to", f"127.0.0.1:{to_port}",
               toward, sched, "--gap", str(self.scn.gap_ms)]
        if self.preamble:  # the token goes as it comes: the schedule starts after it
            cmd += ["--pass-first", str(len(self.preamble))]
        if not os.access(self.o.proxy, os.X_OK):
            raise StepFailed(_("the proxy {path} is missing: run 'make'").format(path=self.o.proxy))
        self.proxy_err = open(os.path.join(self.tmp.name, "proxy.err"), "w+b")
        self.proxy = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=self.proxy_err)
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not readable(self.proxy.stdout, left):
                raise StepFailed(_("the proxy printed no 'listening on' line"))
            byte = os.read(self.proxy.stdout.fileno(), 1)
            if not byte:
                raise StepFailed(_("the proxy exited: {err}").format(err=self.tail(self.proxy_err)))
            line += byte
        m = LISTENING.search(line.decode())
        self.proxy_port = int(m.group(2))
        os.set_blocking(self.proxy.stdout.fileno(), False)

    def start_student(self, port, stdin=False):
        command = self.t.command.replace("{port}", str(port))
        self.student_cmd = command
        self.student_err = open(os.path.join(self.tmp.name, "stderr"), "w+b")
        out = subprocess.PIPE if stdin else open(os.path.join(self.tmp.name, "stdout"), "wb")
        self.student = subprocess.Popen(command, shell=True, start_new_session=True,
                                        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                        stdout=out, stderr=self.student_err,
                                        cwd=str(self.o.cwd) if self.o.cwd else None)
        if stdin:
            self.stdin_buf = b"".join(self.codec.line(m) + b"\n" for m in self.typed)
            self.stdin_fd = self.student.stdin.fileno()
            os.set_blocking(self.stdin_fd, False)
            self.stdout_fd = self.student.stdout.fileno()
            os.set_blocking(self.stdout_fd, False)
        else:
            out.close()

    def wait_listening(self, deadline, retry):
        """Wait until the student server listens on its port. False: the port
        was taken by someone else first - try another."""
        while True:
            state = listening_on(self.port, self.student.pid)
            if state is None:  # no /proc: try to connect (one connection the server may see)
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return True
                except OSError:
                    state = False
            if state:
                return True
            if self.student.poll() is not None and retry and b"in use" in self.tail(self.student_err).encode():
                self.student_err.close()
                return False
            if self.student.poll() is not None:
                raise StepFailed(_("the server exited with status {code} before it listened on "
                                   "port {port}").format(code=self.student.returncode, port=self.port))
            late = time.monotonic() - deadline  # past it: give up once the server idles (or is very late)
            if late > 0 and (late > self.patience() or self.idle() is not False):
                raise StepFailed(_("the server did not listen on port {port} within {s:.0f} s "
                                   "(does it use the port it was given?)").format(
                    port=self.port, s=max(5.0, 3 * self.o.deadline)), hang=True)
            time.sleep(0.01)

    def wait_announced(self, deadline):
        """A server that prints 'listening on' has written its token (if it has
        one) by then; one that prints nothing, once it is idle (waiting for a
        client) - on a slow machine that may take a while: until deadline."""
        def announced():
            try:
                with open(os.path.join(self.tmp.name, "stdout"), "rb") as f:
                    if LISTENING.search(f.read(4096).decode("utf-8", "replace")):
                        return True
            except OSError:
                pass
            return not self.alive()
        self.wait(announced, 0, bound=max(0.0, deadline - time.monotonic()), blind=0.5)

    def stop(self):
        """End everything. Returns what became of the student program: "running"
        (it was, and was killed), its exit status, or "" (never started)."""
        fate = ""
        if self.student is not None:
            fate = end_group(self.student)
            for f in (self.student.stdin, self.student.stdout):
                if f:
                    try:
                        f.close()
                    except OSError:
                        pass
        if self.proxy is not None:
            self.drain_proxy()
            self.proxy.kill()
            self.proxy.wait()
            self.proxy.stdout.close()
        for s in (self.sock, self.listener):
            if s is not None:
                s.close()
        return fate

    def tail(self, f, lines=STDERR_LINES, window=8000):
        """The last lines of what a program wrote to the file f."""
        f.flush()
        size = os.fstat(f.fileno()).st_size
        start = max(0, size - window)
        text = os.pread(f.fileno(), size - start, start).decode("utf-8", "replace")
        return "\n".join(text.rstrip("\n").split("\n")[-lines:]) if text.strip() else ""

    # -- moving bytes --

    def pump(self, timeout):
        """Wait at most timeout seconds for something to happen, and take it in."""
        p, fds = select.poll(), {}

        def watch(fd, ev, what):
            fds[fd] = what
            p.register(fd, ev)
        if self.proxy is not None and not self.proxy.stdout.closed:
            watch(self.proxy.stdout.fileno(), select.POLLIN, "proxy")
        if self.sock is not None:
            ev = (select.POLLIN if not self.sock_eof else 0) | (select.POLLOUT if self.outbuf else 0)
            if ev:
                watch(self.sock.fileno(), ev, "sock")
        if self.listener is not None and self.sock is None:
            watch(self.listener.fileno(), select.POLLIN, "listener")
        if not self.server_mode and not self.stdout_eof:
            watch(self.stdout_fd, select.POLLIN, "stdout")
        if self.stdin_fd is not None:
            watch(self.stdin_fd, select.POLLOUT, "stdin")
        if self.watch_rss:
            timeout = min(timeout, RSS_EVERY)
        for fd, ev in p.poll(max(0.0, timeout) * 1000):
            getattr(self, "on_" + fds[fd])(ev)
        self.sample_rss()
        if not self.server_mode and self.sock is not None:
            self.take_requests()

    def on_proxy(self, ev):
        try:
            chunk = os.read(self.proxy.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if not chunk:
            self.proxy.stdout.close()
            return
        self.bytes_in += len(chunk)
        *lines, self.proxy_pending = (self.proxy_pending + chunk).split(b"\n")
        self.proxy_lines += [line.decode("utf-8", "replace") for line in lines]

    def drain_proxy(self):
        """Read the proxy's lines until they account for every byte written toward
        the student (or it said the connection ended): the transcript needs them.
        The proxy prints a write just after making it, so it may lag - on a
        loaded machine, a lot: stop early only once it has been idle for a
        while (and 0.5 s have passed), and after PATIENCE in any case."""
        start, before = time.monotonic(), None
        while not self.proxy.stdout.closed and not self.proxy_accounted():
            if readable(self.proxy.stdout, 0.1):
                self.on_proxy(0)
                continue
            seen, waited = self.proxy_look(), time.monotonic() - start
            if waited > PATIENCE or (waited > 0.5 and seen is not False and seen == before):
                break
            before = seen

    def on_sock(self, ev):
        if ev & select.POLLOUT and self.outbuf:
            try:
                n = self.sock.send(self.outbuf)
                del self.outbuf[:n]
            except BlockingIOError:
                pass
            except OSError:
                self.outbuf.clear()
                self.sock_reset = True
        if ev & (select.POLLIN | select.POLLHUP | select.POLLERR) and not self.sock_eof:
            try:
                chunk = self.sock.recv(1 << 18)
            except BlockingIOError:
                return
            except OSError:
                chunk, self.sock_reset = b"", True
            if chunk:
                self.inbuf += chunk
                self.bytes_in += len(chunk)
            else:
                self.sock_eof = True

    def on_listener(self, ev):
        try:
            conn, _addr = self.listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = conn

    def on_stdout(self, ev):
        try:
            chunk = os.read(self.stdout_fd, 1 << 20)
        except BlockingIOError:
            return
        if chunk:
            self.stdout += chunk
            self.bytes_in += len(chunk)
        else:
            self.stdout_eof = True

    def on_stdin(self, ev):
        try:
            n = os.write(self.stdin_fd, self.stdin_buf[:1 << 16])
            self.stdin_buf = self.stdin_buf[n:]
        except BlockingIOError:
            return
        except OSError:
            self.stdin_buf = b""
        if not self.stdin_buf:
            self.student.stdin.close()
            self.stdin_fd = None

    def take_requests(self):
        """A student client's requests, checked against the lines it was given, in order."""
        while self.requests_seen < len(self.typed) and not self.request_problem:
            m = self.typed[self.requests_seen]
            kind, value, used = self.codec.parse_request(self.inbuf, m)
            if kind == "more":
                return
            if kind == "token" and self.requests_seen == 0:
                del self.inbuf[:used]  # a token before the first command: allowed
                continue
            if kind == "token":
                kind, value = "bad", _("a token ('A' frame) after a command")
            if kind == "ok" and value != self.codec.request_payload(m):
                kind, value = "bad", shown(value)
            if kind == "bad":
                self.request_problem = _("the client sent {got} where {noun} {want} was expected").format(
                    got=value, noun=self.codec.noun("server"), want=shown(self.codec.request_payload(m)))
                return
            del self.inbuf[:used]
            self.requests_seen += 1
            self.event("sent", m)

    def sample_rss(self, force=False):
        if not (self.watch_rss or force) or self.student is None:
            return
        now = time.monotonic()
        if now < self.rss_next and not force:
            return
        self.rss_next = now + RSS_EVERY
        if now >= self.rss_members_at:  # who is in the group: looked up now and then
            try:
                self.rss_pids = group_pids(self.student.pid)
            except OSError:
                return
            self.rss_members_at = now + 0.1
        kib = rss_kib(self.rss_pids)
        if kib is None:
            return
        if self.rss_base is None:
            self.rss_base = kib
        self.rss_seen = max(self.rss_seen or 0, kib)
        if kib - self.rss_base > RSS_GROWTH_KIB and self.student.poll() is None:
            kill_group(self.student.pid)
            try:
                self.student.wait(5)  # reaped: its fate is the kill, not "running"
            except subprocess.TimeoutExpired:
                pass
            self.memory_blowup = kib

    def alive(self):
        return self.student.poll() is None

    def finished(self):
        """The student program has exited, and (a client) all it printed has been read."""
        return not self.alive() and (self.server_mode or self.stdout_eof)

    def check_memory(self):
        kib = self.memory_blowup
        if kib is not None:
            raise StepFailed(_("the {side}'s memory grew from {a} MiB to {b} MiB (killed there): it "
                               "allocated for the length it was told instead of refusing it").format(
                side=_(self.t.mode), a=self.rss_base // 1024, b=kib // 1024))

    def event(self, kind, what):
        self.events.append((kind, what))

