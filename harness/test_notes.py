"""What the course notes get wrong, each checked against the kernel and the
notes' own programs (LESSONS.md, "What the notes get wrong", names these
tests). The notes are quoted in LESSONS; their programs are transcribed in
harness/course/.
"""
import ast
import os
import re
import socket
import struct
import subprocess
import sys
import time

from demolib import parse_call
from procs import BIN, COURSE, course_server
from suite import DEMOS, LISTENING, parse_python

# The system calls a demo program waits in for bytes: recvfrom, or poll/ppoll
# before it (its bounded wait), by number (/proc/PID/syscall gives numbers).
WAITING_CALLS = {"x86_64": {"45", "7", "271"}, "aarch64": {"207", "73"}}.get(os.uname().machine)


def start_server(name, *args):
    p = subprocess.Popen([str(BIN / name), "--port", "0", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    port = int(LISTENING.search(p.stdout.readline().decode()).group(2))
    return p, port


def read_until(proc, pattern, timeout=10.0):
    """Lines of proc's stdout until one matches pattern (bounded); all of them."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n" + "\n".join(lines))


def waiting_for_bytes(pid) -> bool:
    """Is the process asleep in recvfrom() (or the poll() before it) right
    now? (/proc/PID/syscall, Linux)"""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            return f.read().split()[0] in WAITING_CALLS
    except (OSError, IndexError):
        return False


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_second_recv_returns_what_is_there_not_ellowworld():
    """001: `res1 = conn.recv(1) # 'h'` then `res2 = conn.recv(1024) # 5秒后 'ellowworld'`.
    The second recv returns at once with what is there - `ello` - not 5 s
    later, and never a spelling with two w. (Demo 2 shows `elloworld` when
    both sends are in.)"""
    server, port = start_server("02-residue-server", "--live")
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.sendall(b"hello")
        lines = read_until(server, r"recv #2")
        got = [parse_call(l, i) for i, l in enumerate(lines)]
        recvs = [x.head for x in got if x and x.op == "recv"]
        c.sendall(b"world")  # only now: 'world' cannot be in recv #2
    rest = server.communicate(timeout=10)[0].decode()
    assert recvs == [b"h", b"ello"], f"expected recv(1) -> b'h', then b'ello'; got {recvs}\n{rest}"


def test_recv_returns_empty_only_when_the_peer_closes():
    """001: `res1 = conn.recv(1024) # 'helloworld'`, `res2 = conn.recv(1024) # ''`.
    After helloworld the next recv does not return '' while the client is
    connected: it waits (the server sits in poll/recvfrom), and returns b'' only
    once the client closes."""
    if WAITING_CALLS is None or not os.path.exists("/proc/self/syscall"):
        from suite import Skipped
        raise Skipped("needs /proc/PID/syscall (Linux, x86_64 or aarch64)")
    server, port = start_server("01-coalesce-server", "--live")
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"helloworld")
    lines = read_until(server, r"recv #1")
    assert wait_for(lambda: waiting_for_bytes(server.pid)), \
        "expected the server to wait for more (in poll/recvfrom) while the client is connected"
    assert not any("recv #2" in l for l in lines), f"a second recv returned early: {lines}"
    c.close()
    rest = server.communicate(timeout=10)[0].decode()
    assert "recv #2 | conn 1 | at 10 | 0 bytes | EOF" in rest, \
        f"expected the second recv to return b'' (EOF) once the client closed:\n{rest}"


def test_the_simple_fix_client_and_server_disagree():
    """000: the fix client connects to 8090 while its server binds 8081, and
    encodes commands in GBK while the server decodes UTF-8: a command with
    Chinese in it kills the server."""
    client = (COURSE / "fix_client_000.py").read_text(encoding="utf-8")
    server_src = (COURSE / "fix_server_000.py").read_text(encoding="utf-8")
    assert "else 8090" in client and "else 8081" in server_src
    assert "cmd.encode('GBK')" in client and "cmd.decode('utf-8')" in server_src
    server = course_server("fix_server_000.py", False)
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as c:
            c.sendall("echo 你好".encode("gbk"))  # what the notes' client sends
            assert c.recv(4) == b"", "expected the notes' server to die, not to answer"
        server.proc.wait(10)
    finally:
        server.close()
    assert b"UnicodeDecodeError" in server.last_stderr, server.last_stderr[-500:]


def test_send_may_take_fewer_bytes_than_given():
    """The notes always use send(), never sendall(). send() returns how much
    it took, which can be less than given: here a socket with a timeout, to a
    peer that does not read, takes part of 10 MB and returns its count."""
    listener = socket.create_server(("127.0.0.1", 0))
    c = socket.create_connection(listener.getsockname())
    peer, _ = listener.accept()  # accepted, never read
    c.settimeout(1)
    try:
        n = c.send(b"x" * 10_000_000)
    finally:
        c.close()
        peer.close()
        listener.close()
    assert 0 < n < 10_000_000, f"expected send() to take part of 10 MB, it took {n}"


def test_struct_pack_i_is_native_signed_and_limited():
    """000: `struct.pack('i',total_size)`: this machine's byte order and size,
    signed: a peer of the other byte order reads another number, and a
    length of 2**31 or more cannot be packed at all."""
    native, network = struct.pack("i", 8), struct.pack("!I", 8)
    assert (native != network) == (sys.byteorder == "little")
    try:
        struct.pack("i", 2 ** 31)
        raise AssertionError("struct.pack('i', 2**31) should fail")
    except struct.error:
        pass
    assert struct.pack("!I", 2 ** 31) == b"\x80\x00\x00\x00"


def test_the_notes_leftover_arithmetic():
    """000: 2826 bytes, recv(1024), `积压了剩下的1082个字节`: the rest is 2826 - 1024 =
    1802. Demo 4 measures the same arithmetic on its 2600-byte answer
    (rule "after recv(1024) of the 2600-byte answer, 2600 - 1024 = 1576 ...")."""
    notes_code = (COURSE / "ssh_client_000.py").read_text(encoding="utf-8")
    assert "2826" in notes_code and "1082" in notes_code, "the transcription keeps the comment"
    assert 2826 - 1024 == 1802 != 1082
    expect = parse_python(DEMOS / "04-truncate" / "expect.py")
    assert "1576" in ast.unparse(expect)
