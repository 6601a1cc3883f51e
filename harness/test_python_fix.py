"""Tests of the fix in Python (solution/python/) against the suite's C programs
and against itself, and of the course's own programs (harness/course/), run
as the notes wrote them, to show what the fix is for.

Every process has a timeout: a hang fails the test and says what hung.
Servers take a free port: --port 0 (C) and port 0 (solution/python) with the
port read from their first line; the course's servers cannot print their
port, so they get a port that was free a moment before (and a retry if it
was taken in between).
"""
import hashlib
import os
import socket
import stat
import struct
import tempfile
import threading
import time

from procs import (COURSE, PY, RUN_SCALED, SOLUTION, c_server, course_server, py_server,
                   report, run, show)
from rshproto import auth_frame, token_path
from suite import BIN, literal, pack_frame


# The 2600-byte answer of demos 4 and 5: 100 lines of 26 bytes.
AWK = "awk 'BEGIN { for (i = 1; i <= 100; i++) printf \"line %03d of a long output\\n\", i }'"
LINES = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))
assert len(LINES) == 2600
BIG = 52_428_800  # 50 MiB of 'x'
BIG_COMMAND = "head -c %d /dev/zero | tr '\\0' x" % BIG


# ---- --help ----

def test_every_python_program_answers_help():
    modules = ("frames.py", "auth.py")  # used by the programs, not programs themselves
    programs = sorted(p for p in SOLUTION.glob("*.py") if p.name not in modules) + [RUN_SCALED]
    assert len(programs) >= 7, f"expected the Python programs in {SOLUTION}, found {programs}"
    for prog in programs:
        code, out, err = run([PY, prog, "--help"], timeout=10)
        assert code == 0 and out.startswith(b"usage: "), \
            "--help must exit 0 and print a line starting 'usage: '\n" + \
            report([PY, prog, "--help"], code, out, err)


# ---- hello/world: the Python fix and the C demos, both directions ----

def check_hello_client_to_c_server(name):
    with c_server(name) as server:
        cmd = [PY, SOLUTION / "hello_client.py", server.port]
        code, out, err = run(cmd, timeout=10)
        assert code == 0, "the Python hello_client failed\n" + report(cmd, code, out, err)
        scode, sout = server.finish()
        text = sout.decode("utf-8", "replace")
        for line in ('server | message #1 | conn 1 | 5 bytes | "hello"',
                     'server | message #2 | conn 1 | 5 bytes | "world"'):
            assert line in text, f"expected the line {line!r} from {name}\n" + server.describe(sout)
        assert scode == 0, f"{name} exited with {scode}\n" + server.describe(sout)


def test_hello_client_to_c_coalesce_fixed_server():
    check_hello_client_to_c_server("01-coalesce-fixed-server")


def test_hello_client_to_c_residue_fixed_server():
    check_hello_client_to_c_server("02-residue-fixed-server")


def test_c_fixed_client_to_hello_server():
    with py_server("hello_server.py") as server:
        cmd = [BIN / "01-coalesce-fixed-client", "--port", server.port]
        code, out, err = run(cmd, timeout=10)
        assert code == 0, "the C client failed\n" + report(cmd, code, out, err)
        scode, sout = server.finish()
        assert (scode, sout) == (0, b"b'hello'\nb'world'\n"), \
            "expected hello_server.py to print b'hello' and b'world' and exit 0\n" + \
            server.describe(sout)


# ---- the remote shell: the Python fix and the C programs, every direction ----

def py_client(port):
    return [PY, SOLUTION / "ssh_client.py", port]


def c_client(port):
    return [BIN / "rsh-client", "--port", port]


# (commands on stdin, expected stdout, stderr, exit code)
SHELL_CASES = [
    ("echo out; echo err >&2; exit 3\n", b"out\n", b"err\n", 3),
    ("exit 3\n", b"", b"", 3),
    ("kill -9 $$\n", b"", b"", 137),
    (AWK + "\n", LINES, b"", 0),
    ("echo first\n" + AWK + "\necho two >&2\nprintf three\nfalse\n\necho last; exit 4\n",
     b"first\n" + LINES + b"threelast\n", b"two\n", 4),
    ("echo one\nkill -9 $$\necho after\n", b"one\nafter\n", b"", 0),
    # 200 kB of stderr before any stdout: a server that reads stdout to its end
    # first waits for a command that waits for it (the stderr pipe is full).
    ("head -c 200000 /dev/zero | tr '\\0' e >&2; echo done\n", b"done\n", b"e" * 200000, 0),
]


def check_shell(client, port):
    for script, want_out, want_err, want_code in SHELL_CASES:
        cmd = client(port)
        code, out, err = run(cmd, script.encode(), timeout=20)
        assert (out, err, code) == (want_out, want_err, want_code), \
            f"expected stdout {show(want_out)}, stderr {show(want_err)}, exit {want_code}\n" + \
            report(cmd, code, out, err, script.encode())


def check_50mb(client, port):
    cmd = client(port)
    with tempfile.TemporaryFile() as out_file:
        code, _, err = run(cmd, (BIG_COMMAND + "\n").encode(), timeout=60, stdout=out_file)
        out_file.seek(0)
        got, size = hashlib.sha256(), 0
        for block in iter(lambda: out_file.read(1 << 20), b""):
            got.update(block)
            size += len(block)
    want = hashlib.sha256(b"x" * BIG).hexdigest()
    assert (code, err, size, got.hexdigest()) == (0, b"", BIG, want), \
        f"{BIG_COMMAND!r}: expected exit 0, no stderr and {BIG} bytes of x (sha256 {want[:16]}); " \
        f"got exit {code}, stderr {show(err)}, {size} bytes (sha256 {got.hexdigest()[:16]})\n" + \
        report(cmd, code, f"<{size} bytes>".encode(), err)


def test_ssh_client_to_c_rsh_server():
    with c_server("rsh-server") as server:
        check_shell(py_client, server.port)
        # one command from the command line
        cmd = py_client(server.port) + ["--", "echo", "once;", "exit", "9"]
        code, out, err = run(cmd, timeout=10)
        assert (out, err, code) == (b"once\n", b"", 9), report(cmd, code, out, err)
        server.stop()


def test_ssh_client_to_c_rsh_server_50mb():
    with c_server("rsh-server") as server:
        check_50mb(py_client, server.port)
        server.stop()


def test_c_rsh_client_to_ssh_server():
    with py_server("ssh_server.py") as server:
        check_shell(c_client, server.port)
        cmd = c_client(server.port) + ["echo once; exit 9"]
        code, out, err = run(cmd, timeout=10)
        assert (out, err, code) == (b"once\n", b"", 9), report(cmd, code, out, err)
        server.stop(codes=(0,))


def test_c_rsh_client_to_ssh_server_50mb():
    with py_server("ssh_server.py") as server:
        check_50mb(c_client, server.port)
        server.stop(codes=(0,))


def test_ssh_client_to_ssh_server():
    with py_server("ssh_server.py") as server:
        check_shell(py_client, server.port)
        check_50mb(py_client, server.port)
        server.stop(codes=(0,))


def test_ssh_client_reports_a_server_error():
    # rsh-server --max-clients 1 answers a second client with a '!' frame.
    with c_server("rsh-server", "--max-clients", "1") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as first:
            first.sendall(auth_frame(server.port) + pack_frame(b"Ctrue"))
            answer = b""
            while not answer.endswith(pack_frame(b"X\0\0\0\0")):
                chunk = first.recv(100)
                assert chunk, f"the first client got no answer to 'true': {answer!r}"
                answer += chunk
            cmd = py_client(server.port)
            code, out, err = run(cmd, b"echo hi\n", timeout=10)
        assert code == 255 and out == b"" and err.startswith(b"server error: "), \
            "expected exit 255 and 'server error: ...' on stderr\n" + report(cmd, code, out, err)
        server.stop()


def test_ssh_server_refuses_bad_frames_and_survives_clients_that_leave():
    with py_server("ssh_server.py") as server:
        address = ("127.0.0.1", server.port)
        for bad, why in ((b"GET / HTTP/1.0\r\n\r\n", b"above the limit"),
                         (pack_frame(b"Xabc"), b"expected a C frame"),
                         (pack_frame(b""), b"expected a C frame")):
            with socket.create_connection(address, timeout=10) as sock:
                sock.sendall(auth_frame(server.port) + bad)
                reply = b""
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
            assert reply[4:5] == b"!" and why in reply and \
                struct.unpack("!I", reply[:4])[0] == len(reply) - 4, \
                f"sent {bad!r}: expected one '!' frame saying {why!r}, then EOF; got {reply!r}\n" \
                + server.describe()
        # A client that leaves mid-frame, and one that leaves before its answer.
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(auth_frame(server.port) + b"\0\0\0\x10Cecho")
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(auth_frame(server.port) +
                         pack_frame(b"C" + BIG_COMMAND.replace(str(BIG), "5000000").encode()))
        cmd = py_client(server.port)
        code, out, err = run(cmd, b"echo still serving\n", timeout=10)
        assert (out, code) == (b"still serving\n", 0), \
            "the server must keep serving after bad clients\n" + report(cmd, code, out, err) + \
            "\n" + server.describe()
        server.stop(codes=(0,))


def one_reply(port, data):
    """Send data on a new connection; everything that comes back until EOF."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        reply = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return reply
            reply += chunk


def test_ssh_server_runs_commands_only_for_its_user():
    """ssh_server.py writes a token only its user can read and serves only a client
    that sends it first: without it, or with a wrong one, one '!' frame and nothing runs."""
    marker = tempfile.mktemp(prefix="ssh-server-test-")
    with py_server("ssh_server.py") as server:
        path = token_path(server.port)
        st, folder = os.stat(path), os.stat(os.path.dirname(path))
        assert (stat.S_IMODE(st.st_mode), stat.S_IMODE(folder.st_mode)) == (0o600, 0o700), \
            f"expected the token file mode 0600 in a directory of mode 0700, got " \
            f"{stat.S_IMODE(st.st_mode):o} in {stat.S_IMODE(folder.st_mode):o}\n" + server.describe()
        touch = pack_frame(b"Ctouch " + marker.encode())
        for first, label in ((b"", "no token"), (pack_frame(b"A" + b"0" * 64), "a wrong token")):
            reply = one_reply(server.port, first + touch)
            assert reply[4:5] == b"!" and b"token" in reply and not os.path.exists(marker), \
                f"{label}: expected one '!' frame about the token and nothing run; got " \
                f"{reply!r}\n" + server.describe()
        server.stop(codes=(0,))
    assert not os.path.exists(path), f"{path} is still there after the server stopped"


# ---- the course's own "simple fix" reads a long answer short ----

def test_course_fix_client_reads_the_2600_byte_answer_short():
    server = course_server("fix_server_000.py", first_line=False)
    with server:
        cmd = [PY, "-u", COURSE / "fix_client_000.py", server.port]
        stdin = (AWK + "\n").encode()
        code, out, err = run(cmd, stdin, timeout=15)
    what = report(cmd, code, out, err, stdin)
    # At EOF its input() raises EOFError: the program's own way to end.
    assert code == 1 and b"EOFError" in err, \
        "expected the course client to end with EOFError\n" + what
    assert out.startswith(b">>>:") and out.endswith(b"\n>>>:"), "expected two prompts\n" + what
    lines = out[len(b">>>:"):-len(b"\n>>>:")].split(b"\n")
    sizes = []
    while lines and lines[0].isdigit():
        sizes.append(int(lines.pop(0)))
    text = b"\n".join(lines)
    # `recv_size += len(recv_data)` adds the running total, not the bytes of this
    # recv: the differences between the printed numbers are the running totals.
    totals = [b - a for a, b in zip([0] + sizes, sizes)]
    assert sizes and sizes[-1] >= 2600 and all(t > 0 for t in totals), \
        "expected the printed recv_size numbers, rising to 2600 or more\n" + what
    assert totals[-1] == len(text) < 2600 and LINES.startswith(text), \
        f"expected a short answer: the first {totals[-1]} of the 2600 bytes, " \
        f"recv_size {sizes} counting running totals {totals}\n" + what


# ---- the course's own programs run as written (the notes' 5 s pause scaled to 0.5 s) ----

def test_course_hello_pair_runs_as_written():
    server = course_server("hello_server_000.py", first_line=True)
    with server:
        cmd = [PY, RUN_SCALED, "0.1", COURSE / "hello_client_000.py", server.port]
        start = time.monotonic()
        code, out, err = run(cmd, timeout=15)
        took = time.monotonic() - start
        assert code == 0 and took >= 0.45, \
            f"expected exit 0 after the 5 s pause scaled to 0.5 s (took {took:.2f} s)\n" + \
            report(cmd, code, out, err)
        scode, sout = server.finish()
    lines = sout.decode().splitlines()
    received = [literal(line) for line in lines]
    assert server.first == b"starting\n" and scode == 0 and len(received) == 5 and \
        b"".join(received) == b"helloworldhelloworld", \
        "expected five recvs that hold helloworldhelloworld between them\n" + \
        server.describe(sout)


def check_course_1024_trap(server_script, client_script, prompt):
    server = course_server(server_script, first_line=True)
    with server:
        cmd = [PY, "-u", COURSE / client_script, server.port]
        stdin = (AWK + "\necho next\n").encode()
        code, out, err = run(cmd, stdin, timeout=15)
    what = report(cmd, code, out, err, stdin)
    answers = out.split(prompt)
    assert code == 1 and b"EOFError" in err and len(answers) == 4, \
        "expected two answers, then EOFError\n" + what
    first, second = answers[1][:-1], answers[2][:-1]  # print() added a newline
    assert len(first) <= 1024 and LINES.startswith(first) and b"next" not in second and \
        LINES[len(first):].startswith(second), \
        "expected the answer to 'echo next' to be the rest of the long answer\n" + what


def test_course_000_ssh_pair_shows_the_1024_trap():
    check_course_1024_trap("ssh_server_000.py", "ssh_client_000.py", b">>>:")


def test_course_001_ssh_pair_shows_the_1024_trap():
    check_course_1024_trap("ssh_server_001.py", "ssh_client_001.py", b">>:")


# ---- the framed echo pair ----

def test_echo_client_to_echo_server():
    lines = [b"", b"x" * (1 << 20)] + [b"line %d" % i for i in range(1000)] + [b""]
    stdin = b"\n".join(lines) + b"\n"
    with py_server("echo_server.py") as server:
        cmd = [PY, SOLUTION / "echo_client.py", server.port]
        code, out, err = run(cmd, stdin, timeout=20)
        assert (code, out, err) == (0, stdin, b""), \
            "expected every line echoed, in order\n" + report(cmd, code, out, err, stdin)
        # A length above 16 MiB: the connection is closed at once, the server goes on.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(struct.pack("!I", 16 * 1024 * 1024 + 1))
            try:
                reply = sock.recv(100)
            except ConnectionResetError:
                reply = b""
            assert reply == b"", f"expected the connection closed, got {reply!r}"
        code, out, err = run(cmd, b"still here\n", timeout=10)
        assert (code, out) == (0, b"still here\n"), report(cmd, code, out, err)
        stderr = server.stderr()
        assert b"above the limit" in stderr, \
            "expected a line on the server's stderr about the 16 MiB limit\n" + server.describe()
        server.stop()


def test_echo_client_when_the_server_closes_early():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def one_echo_then_close():
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            header = conn.recv(4)
            conn.sendall(header + conn.recv(struct.unpack("!I", header)[0]))

    thread = threading.Thread(target=one_echo_then_close, daemon=True)
    thread.start()
    with listener:
        cmd = [PY, SOLUTION / "echo_client.py", listener.getsockname()[1]]
        code, out, err = run(cmd, b"a\nb\nc\n", timeout=10)
        thread.join(10)
    assert code == 1 and out.startswith(b"a\n") and len(err.strip().splitlines()) == 1, \
        "expected the first echo, one line on stderr and exit 1\n" + report(cmd, code, out, err)
