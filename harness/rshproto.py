"""rshproto - the remote shell's wire protocol, in Python, for the tests.

The bytes on the wire are the contract, not the C code, so the end-to-end
tests talk to bin/rsh-server through this module, written from the protocol
alone (solution/rsh-proto.h):

    Every message is a frame: u32 length L (big-endian), then L bytes of body.
    The first body byte is the message type; the rest is its payload.

    client -> server
      'A' token          first frame: the server's token, 64 hex digits (L = 65),
                         from $XDG_RUNTIME_DIR/rsh/token-PORT or /tmp/rsh-UID/token-PORT
      'C' command text   run it with /bin/sh -c           (1 <= L <= 65537)
    server -> client, for each command, in this order:
      'O' bytes          a chunk of the command's stdout  (0 or more frames, maybe empty)
      'E' bytes          a chunk of its stderr            (interleaved with 'O')
      'X' status         4-byte signed big-endian: 0..255 exit code, -N if
                         killed by signal N
      '!' text           why the server ends the connection; then it closes

    00 00 00 41  'A' '3' 'f' ... (64 hex digits)    client: L = 1 + 64
    00 00 00 08  'C' 'e' 'c' 'h' 'o' ' ' 'h' 'i'    client: L = 1 + 7
    00 00 00 04  'O' 'h' 'i' '\\n'                   server: L = 1 + 3
    00 00 00 05  'X' 00 00 00 00                    server: exit status 0

Standard library only. Also here: rsh_server(), which starts bin/rsh-server
on a free port for one test and stops it afterwards; connect() sends the
token of the server on that port first (auth=False: a client without one).
"""
import contextlib
import os
import select
import shlex
import signal
import socket
import struct
import subprocess
import tempfile
import time

from suite import BIN, HEADER, LISTENING, ROOT, pack_frame, sanitizer_reports

STATUS = struct.Struct("!i")   # the payload of an 'X' frame: i32, network byte order

COMMAND, STDOUT, STDERR, EXIT, ERROR, AUTH = b"C", b"O", b"E", b"X", b"!", b"A"
TOKEN_HEX = 64                      # bytes of token in an 'A' frame
MAX_COMMAND = 65536                 # bytes of command text
MAX_REQUEST = 1 + MAX_COMMAND       # largest body the server accepts
MAX_REPLY = 1024 * 1024 + 1         # largest body the server may send


# ---- errors: each one says what was expected and what arrived ----

class ProtocolError(Exception):
    """The peer broke the protocol, or the connection ended where it must not."""


class ServerError(ProtocolError):
    """The server sent a '!' frame; .reason is its text (bytes)."""

    def __init__(self, reason: bytes):
        super().__init__(f"the server sent a '!' frame: {reason!r}")
        self.reason = reason


class Truncated(ProtocolError):
    """The peer closed inside a header or a body; .data holds what did arrive."""

    def __init__(self, what: str, wanted: int, data: bytes):
        super().__init__(f"EOF inside a {what}: wanted {wanted} bytes, got {len(data)}: "
                         f"{data[:64]!r}")
        self.data = data


class ClosedAtBoundary(ProtocolError):
    """The peer closed cleanly between frames, where an answer was still owed."""


# ---- writing frames ----

def command_frame(command) -> bytes:
    """The 'C' frame for a command (str is encoded as UTF-8)."""
    if isinstance(command, str):
        command = command.encode()
    return pack_frame(COMMAND + command)


def send_command(sock: socket.socket, command) -> None:
    """Send one command; its answer is read with read_answer()."""
    sock.sendall(command_frame(command))


# ---- the token ----

def token_path(port: int, uid: int = None) -> str:
    """Where the server on port keeps its token (as rsh_token_path in C)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if xdg.startswith("/") and uid is None:
        return f"{xdg}/rsh/token-{port}"
    return f"/tmp/rsh-{os.geteuid() if uid is None else uid}/token-{port}"


def read_token(port: int, uid: int = None):
    """The token of the server on port (bytes), or None if it has written none.
    The tests read it as they are (root may read another user's)."""
    try:
        with open(token_path(port, uid), "rb") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def auth_frame(port: int, uid: int = None) -> bytes:
    """The 'A' frame for the server on port; b"" if it has no token file."""
    token = read_token(port, uid)
    return pack_frame(AUTH + token) if token is not None else b""


# ---- reading frames ----

def read_exact(sock: socket.socket, n: int, what: str = "frame") -> bytes:
    """Exactly n bytes. recv() returns whatever has arrived, up to what was
    asked, so one call may return part of a frame: loop until n are here.
    Returns b"" if the peer closed before the first byte; raises Truncated
    if it closed after some of them."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            if got == 0:
                return b""
            raise Truncated(what, n, bytes(buf[:got]))
        got += k
    return bytes(buf)


def read_frame(sock: socket.socket, limit: int = MAX_REPLY):
    """One frame as (type, payload), reading exactly its bytes and no more
    (so it needs no buffer between calls); None at a clean EOF between
    frames. A length above limit is refused before anything is allocated."""
    header = read_exact(sock, HEADER.size, "frame header")
    if not header:
        return None
    (length,) = HEADER.unpack(header)
    check_length(length, limit)
    body = read_exact(sock, length, f"frame body of {length} bytes")
    if not body:
        raise Truncated(f"frame body of {length} bytes", length, b"")
    return body[:1], body[1:]


def check_length(length: int, limit: int) -> None:
    if length == 0:
        raise ProtocolError("frame length 0: every body starts with its message type")
    if length > limit:
        raise ProtocolError(f"frame length {length} is above the limit of {limit}")


class FrameReader:
    """A buffered frame reader: one recv() may bring several frames and the
    start of the next; every complete frame is handed out and the partial
    tail waits for the next recv(). Faster than read_frame() for many small
    frames (one recv per batch, not two per frame)."""

    def __init__(self, sock: socket.socket, limit: int = MAX_REPLY, recv_size: int = 256 * 1024):
        self.sock = sock
        self.limit = limit
        self.recv_size = recv_size
        self.buf = bytearray()
        self.pos = 0  # start of the first byte not handed out yet

    def _need(self, n: int) -> bool:
        """Make sure n unread bytes are buffered; False if the peer closed first."""
        while len(self.buf) - self.pos < n:
            if self.pos:  # drop what was handed out before growing
                del self.buf[:self.pos]
                self.pos = 0
            chunk = self.sock.recv(max(self.recv_size, n - len(self.buf)))
            if not chunk:
                return False
            self.buf += chunk
        return True

    def read_frame(self):
        """The next frame as (type, payload); None at a clean EOF between frames."""
        if not self._need(HEADER.size):
            if len(self.buf) > self.pos:
                raise Truncated("frame header", HEADER.size, bytes(self.buf[self.pos:]))
            return None
        (length,) = HEADER.unpack_from(self.buf, self.pos)
        check_length(length, self.limit)
        if not self._need(HEADER.size + length):
            raise Truncated(f"frame body of {length} bytes", length,
                            bytes(self.buf[self.pos + HEADER.size:]))
        start = self.pos + HEADER.size
        body = bytes(self.buf[start:start + length])
        self.pos = start + length
        return body[:1], body[1:]


def read_answer(source, on_output=None):
    """The answer to one command: (stdout, stderr, status).

    source is a socket (read with read_frame) or a FrameReader. 'O' and 'E'
    frames are collected until the 'X' frame; with on_output(kind, chunk)
    given (kind is b"O" or b"E"), chunks go there instead and the returned
    stdout and stderr are empty - for outputs too big to keep.
    Raises ServerError on a '!' frame, Truncated on EOF inside a frame,
    ClosedAtBoundary on a clean EOF before the 'X', ProtocolError otherwise."""
    next_frame = source.read_frame if isinstance(source, FrameReader) else lambda: read_frame(source)
    out, err = bytearray(), bytearray()
    keep = {STDOUT: out, STDERR: err}
    while True:
        frame = next_frame()
        if frame is None:
            raise ClosedAtBoundary(f"the server closed before the 'X' frame; had "
                                   f"{len(out)} bytes of stdout, {len(err)} of stderr")
        kind, payload = frame
        if kind in keep:
            if on_output:
                on_output(kind, payload)
            else:
                keep[kind] += payload
        elif kind == EXIT:
            if len(payload) != STATUS.size:
                raise ProtocolError(f"'X' frame with a {len(payload)}-byte payload, "
                                    f"expected {STATUS.size}: {payload!r}")
            return bytes(out), bytes(err), STATUS.unpack(payload)[0]
        elif kind == ERROR:
            raise ServerError(payload)
        else:
            raise ProtocolError(f"unknown message type {kind!r} from the server "
                                f"(payload {payload[:32]!r})")


def run_command(sock: socket.socket, command, on_output=None):
    """Send one command and read its answer: (stdout, stderr, status)."""
    send_command(sock, command)
    return read_answer(sock, on_output)


def connect(port: int, host: str = "127.0.0.1", timeout: float = 30.0, auth: bool = True,
            uid: int = None) -> socket.socket:
    """A connected socket with a safety timeout on every call (a hang fails
    the test instead of the suite), and Nagle off so that the trickle tests
    put each byte in its own segment. With auth, the server's token goes
    first (the server answers nothing to it); uid: the server's user, if
    not ours."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if auth:
        sock.sendall(auth_frame(port, uid))
    return sock


def reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN (SO_LINGER on, timeout 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# ---- processes, from /proc (Linux) ----

def proc_stat(pid: int):
    """(state, ppid, pgrp) of a process, or None if it no longer exists. A
    zombie still exists: it is gone once its parent has reaped it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = data[data.rindex(b")") + 2:].split()  # the name may hold spaces and ')'
    return fields[0].decode(), int(fields[1]), int(fields[2])


def all_processes():
    """{pid: (state, ppid, pgrp)} of every process still there."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                found[int(name)] = st
    return found


def group_members(pgid: int):
    """The pids of the processes in process group pgid (zombies included)."""
    return sorted(pid for pid, (_, _, pgrp) in all_processes().items() if pgrp == pgid)


def wait_until(condition, timeout: float, interval: float = 0.02) -> bool:
    """Poll condition() until it is true or timeout seconds have passed.
    Cleanup after a disconnect is asynchronous, so the tests poll - with a
    bound, as a safety net, never as the thing being measured."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# ---- the server under test ----


class Server:
    """A running bin/rsh-server: .port, .proc, .pid, and what it has said."""

    def __init__(self, proc, port, host, stderr_file, command, uid=None):
        self.proc = proc
        self.pid = proc.pid
        self.port = port
        self.host = host
        self.command = command
        self.uid = uid
        self._stderr = stderr_file

    def connect(self, timeout: float = 30.0, auth: bool = True) -> socket.socket:
        return connect(self.port, self.host, timeout, auth, self.uid)

    def token_path(self) -> str:
        return token_path(self.port, self.uid)

    def fd_count(self) -> int:
        """How many descriptors the server holds open right now."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def children(self):
        """The server's child processes (zombies included: not yet reaped)."""
        return sorted(pid for pid, (_, ppid, _) in all_processes().items() if ppid == self.pid)

    def rss_kib(self) -> int:
        """The server's resident memory (VmRSS), in KiB."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError(f"no VmRSS line in /proc/{self.pid}/status")

    def caught_signals(self):
        """The signal numbers the server has a handler for (SigCgt)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    mask = int(line.split()[1], 16)
                    return [n for n in range(1, 65) if mask & (1 << (n - 1))]
        return []

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_text(self, limit: int = 4000) -> str:
        """The tail of what the server wrote on stderr so far. pread, not
        seek+read: the server shares the file offset and is still writing."""
        fd = self._stderr.fileno()
        size = os.fstat(fd).st_size
        start = max(0, size - limit)
        text = os.pread(fd, size - start, start).decode("utf-8", "replace")
        return text if start == 0 else "...\n" + text

    def describe(self) -> str:
        """The command line, the exit status if it has exited, and its stderr, fenced."""
        code = self.proc.poll()
        state = "still running" if code is None else f"exited with {code}"
        return (f"server: $ {' '.join(self.command)}  ({state})\n"
                f"--- server stderr ---\n{self.stderr_text()}\n---------------------")

    def wait_for_baseline(self, fds: int, timeout: float = 10.0) -> None:
        """Wait (bounded) until the server holds fds descriptors and no child
        processes, as it did before the test's clients came; fail otherwise."""
        if not wait_until(lambda: self.fd_count() == fds and not self.children(), timeout):
            raise AssertionError(
                f"after {timeout:.0f} s the server still holds {self.fd_count()} descriptors "
                f"(expected {fds}, as before the clients came) and children {self.children()} "
                f"(expected none); open fds: {self.describe_fds()}")

    def describe_fds(self) -> str:
        names = []
        for fd in sorted(os.listdir(f"/proc/{self.pid}/fd"), key=int):
            try:
                names.append(f"{fd}->{os.readlink(f'/proc/{self.pid}/fd/{fd}')}")
            except OSError:
                pass
        return ", ".join(names)


@contextlib.contextmanager
def rsh_server(*args, start_timeout: float = 15.0, stop_timeout: float = 15.0, uid: int = None,
               stops_itself: bool = False, env=None, stderr=None, prefix=()):
    """Start bin/rsh-server --port 0 with args, yield a Server, stop it.

    The first stdout line must be exactly 'listening on HOST:PORT'. An
    exception inside the with block comes back as an AssertionError that
    also shows the server's command line and stderr. After the block the
    server must still be running (a crash fails the test); it gets SIGTERM
    and must exit by itself, with 0 or by that signal, within stop_timeout
    seconds (else SIGKILL, and the test fails). Sanitizer reports on its
    stderr fail the test too.

    RSH_SERVER_WRAPPER in the environment is put in front of the command,
    e.g. RSH_SERVER_WRAPPER='valgrind -q --error-exitcode=1 --leak-check=full'.

    uid: run it as that user (and group; we must be root). stops_itself: the
    test ends it (a signal): it need not be running at the end, and exit
    codes are the test's to check. env: its environment. stderr: a file
    object or descriptor for its stderr instead of a temporary file (then
    stderr_text() is empty). prefix: a command that execs the rest (e.g. one
    that sets a resource limit first); given with uid, it switches to uid itself."""
    wrapper = shlex.split(os.environ.get("RSH_SERVER_WRAPPER", ""))
    command = [*prefix, *wrapper, str(BIN / "rsh-server"), "--port", "0", *args]
    if not os.access(BIN / "rsh-server", os.X_OK):
        raise AssertionError(f"{BIN / 'rsh-server'} is missing: run 'make bin/rsh-server'")
    who = {} if uid is None or prefix else {"user": uid, "group": uid, "extra_groups": []}
    if uid is not None and env is None:  # our XDG_RUNTIME_DIR is not theirs
        env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    with tempfile.TemporaryFile() as stderr_file:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=stderr_file if stderr is None else stderr, cwd=ROOT,
                                env=env, **who)
        server = Server(proc, None, None, stderr_file, command, uid)
        try:
            line = read_line(proc.stdout, start_timeout)
            m = LISTENING.fullmatch(line.decode("utf-8", "replace").rstrip("\n"))
            if not line.endswith(b"\n") or not m:
                raise AssertionError(f"expected a first stdout line 'listening on HOST:PORT', "
                                     f"got {line!r}\n{server.describe()}")
            server.host, server.port = m.group(1), int(m.group(2))
            try:
                yield server
            except Exception as e:
                what = str(e) if isinstance(e, AssertionError) else f"{type(e).__name__}: {e}"
                raise AssertionError(f"{what}\n{server.describe()}") from e
            if stops_itself:
                stop(proc, stop_timeout)
            elif not server.alive():
                raise AssertionError(f"the server died during the test\n{server.describe()}")
            problem = None if stops_itself else stop(proc, stop_timeout)
            if problem:
                raise AssertionError(f"{problem}\n{server.describe()}")
            reports = sanitizer_reports(server.stderr_text(10**7))
            if reports:
                raise AssertionError(f"the server's stderr holds sanitizer reports "
                                     f"({', '.join(reports)})\n{server.describe()}")
        finally:
            stop(proc, stop_timeout)
            proc.stdout.close()


def read_line(stream, timeout: float) -> bytes:
    """The first line of a pipe, waiting at most timeout seconds for it."""
    fd = stream.fileno()
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"no 'listening on HOST:PORT' line within {timeout:.0f} s "
                                 f"(got {line!r})")
        byte = os.read(fd, 1)  # one byte at a time: never read past the first line
        if not byte:
            break
        line += byte
    return line


def stop(proc, timeout: float):
    """SIGTERM, and SIGKILL if it is still there after timeout seconds.
    Returns None if it exited by itself with 0 or by the SIGTERM, else what
    went wrong."""
    if proc.poll() is not None:
        return None  # stopped earlier: its status was judged then
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return f"the server did not exit within {timeout:.0f} s of SIGTERM; killed"
    if code not in (0, -signal.SIGTERM):
        return f"after SIGTERM the server exited with {code}, expected 0 (or death by SIGTERM)"
    return None
