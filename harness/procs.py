"""procs - running the programs of a test: the suite's, the course's and the
Python fix, each bounded in time (a hang fails the test and says what hung).

Servers take a free port: --port 0 (C) and port 0 (solution/python), the
port read from their first line; the course's servers cannot print their
port, so they get a port that was free a moment before (and a retry if it
was taken in between).
"""
import hashlib
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

from suite import BIN, LISTENING, ROOT, stop_process

PY = sys.executable
SOLUTION = ROOT / "solution" / "python"
COURSE = ROOT / "harness" / "course"
RUN_SCALED = COURSE / "run_scaled.py"


# ---- showing what happened ----

def show(data, limit=400):
    if data is None:
        return "nothing"
    if len(data) <= limit:
        return repr(data)
    return (f"{len(data)} bytes: {data[:limit // 2]!r} ... {data[-limit // 4:]!r} "
            f"(sha256 {hashlib.sha256(data).hexdigest()[:16]})")


def report(cmd, code, out, err, stdin=None):
    text = f"$ {shlex.join(str(c) for c in cmd)}  (exit {code})"
    if stdin is not None:
        text += f"\n  stdin:  {show(stdin)}"
    return text + f"\n  stdout: {show(out)}\n  stderr: {show(err)}"


def run(cmd, stdin=b"", timeout=30, stdout=subprocess.PIPE):
    """Run a program to its end; (exit code, stdout, stderr). A hang fails the test."""
    cmd = [str(c) for c in cmd]
    try:
        p = subprocess.run(cmd, input=stdin, stdout=stdout, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"hung: did not end within {timeout} s\n"
                             + report(cmd, "none", e.stdout, e.stderr, stdin)) from None
    return p.returncode, p.stdout, p.stderr


def read_first_line(proc, what, timeout=15.0):
    """The first stdout line of a running process, without reading past it."""
    fd, line = proc.stdout.fileno(), b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"hung: {what} printed no first line within {timeout:.0f} s "
                                 f"(got {line!r})")
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line


class Server:
    """A server process, stopped (killed if need be) when the with block ends."""

    def __init__(self, cmd, first_line=True):
        self.cmd = [str(c) for c in cmd]
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, cwd=ROOT)
        self.port = None
        self.first = self.last_stderr = self.last_stdout = b""
        if first_line:
            try:
                self.first = read_first_line(self.proc, shlex.join(self.cmd))
            except AssertionError as e:
                self.close()
                raise AssertionError(f"{e}\n  stderr: {show(self.last_stderr)}") from None

    def with_listening_port(self):
        """Read the port from the first line, 'listening on HOST:PORT'."""
        m = LISTENING.search(self.first.decode("utf-8", "replace"))
        if not m:
            self.close()
            raise AssertionError(f"expected a first line 'listening on HOST:PORT', got "
                                 f"{self.first!r}\n" + self.describe())
        self.port = int(m.group(2))
        return self

    def stderr(self):
        if self.err.closed:
            return self.last_stderr
        self.err.seek(0)
        return self.err.read()

    def describe(self, out=b""):
        return report(self.cmd, self.proc.poll(), self.first + out, self.stderr())

    def finish(self, timeout=10):
        """Wait for the server to exit by itself; (exit code, stdout after the first line)."""
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            raise AssertionError(f"hung: the server did not exit within {timeout} s\n"
                                 + self.describe()) from None
        self.last_stdout = self.first + out
        return self.proc.returncode, out

    def stop(self, codes=(0, -signal.SIGTERM)):
        """The server must still run; SIGTERM must end it with one of codes."""
        if self.proc.poll() is not None:
            raise AssertionError("the server died during the test\n" + self.describe())
        self.proc.send_signal(signal.SIGTERM)
        code, out = self.finish(15)
        if code not in codes:
            raise AssertionError(f"after SIGTERM the server exited with {code}, expected one "
                                 f"of {codes}\n" + self.describe(out))
        return out

    def close(self):
        """Stop it if it still runs - SIGTERM first, so that rsh-server removes its
        token file; SIGKILL if that takes more than 2 s - and keep what it printed
        (last_stdout, last_stderr)."""
        stop_process(self.proc, 2)
        if not self.proc.stdout.closed:
            self.last_stdout = self.first + self.proc.stdout.read()
            self.proc.stdout.close()
        if not self.err.closed:
            self.last_stderr = self.stderr()
            self.err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def c_server(name, *args):
    return Server([BIN / name, "--port", "0", *args]).with_listening_port()


def py_server(name, *args):
    return Server([PY, SOLUTION / name, "0", *args]).with_listening_port()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def course_server(script, first_line):
    """A course server on a port that was free a moment ago. Ready when it has
    printed its first line ('starting'), or - fix_server_000.py prints nothing -
    when a connection succeeds (it serves that one and goes back to accept)."""
    for _ in range(5):
        port = free_port()
        server = Server([PY, "-u", COURSE / script, port], first_line=first_line)
        server.port = port
        if first_line and server.first:
            return server
        deadline = time.monotonic() + 15
        while not first_line and server.proc.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return server
            except ConnectionRefusedError:
                time.sleep(0.02)
        try:
            server.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        problem = server.describe()
        server.close()
        if b"Address already in use" not in server.last_stderr:
            raise AssertionError("hung or failed: the course server did not start\n" + problem)
    raise AssertionError(f"{script}: no free port in 5 tries")


def run_bounded(cmd, stdin=b"", seconds=5.0, hangs_after=None, grace=0.5):
    """Run a program for at most seconds: (exit code, stdout, stderr), the
    exit code None if it was still running and had to be killed (a course
    program that waits for ever is expected to; its output so far is kept).
    hangs_after: a test of its stdout so far; once it holds, the program is
    given `grace` seconds more to end, then killed - what a program prints
    before it waits for ever is known, so the test need not wait the bound."""
    cmd = [str(c) for c in cmd]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=ROOT, start_new_session=True)
    p.stdin.write(stdin)
    p.stdin.close()
    out, err, deadline = b"", b"", time.monotonic() + seconds
    streams = {p.stdout.fileno(): "out", p.stderr.fileno(): "err"}
    while streams and time.monotonic() < deadline:
        ready, _, _ = select.select(list(streams), [], [], 0.05)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                del streams[fd]
            elif streams[fd] == "out":
                out += chunk
            else:
                err += chunk
        if hangs_after and hangs_after(out):
            deadline = min(deadline, time.monotonic() + grace)
            hangs_after = None
    try:
        code = p.wait(max(0.0, deadline - time.monotonic()) if streams else 5)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        code = None
    for fd in streams:  # what it printed before it was stopped
        while select.select([fd], [], [], 0)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out, err = (out + chunk, err) if streams[fd] == "out" else (out, err + chunk)
    p.stdout.close()
    p.stderr.close()
    return code, out, err