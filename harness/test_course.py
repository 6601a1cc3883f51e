"""The course's own programs (harness/course/, transcribed from the notes)
against the suite's programs, in both directions, as a class runs them in
two terminals. Each test is one pair of README's "With the course's own
programs": what you see there is what is asserted here, from the bytes each
side printed. Every process is bounded in time: a suite program that hangs
fails its test; a course program that hangs where README says it does is
killed after a few seconds, and what it printed until then is checked.
"""
import re

from procs import BIN, COURSE, PY, RUN_SCALED, c_server, course_server, report, run_bounded
from demolib import parse_call
from suite import literal

AWK = "awk 'BEGIN { for (i = 1; i <= 100; i++) printf \"line %03d of a long output\\n\", i }'"
LINES = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))  # 2600 bytes
HELLO_CLIENT = [PY, RUN_SCALED, "0.1", COURSE / "hello_client_000.py"]  # 5 s pause: 0.5 s


def calls(text: bytes, side: str, op: str, conn: int = 1):
    """The send/recv lines a suite program printed, parsed."""
    lines = text.decode("utf-8", "replace").split("\n")
    found = (parse_call(line, i) for i, line in enumerate(lines))
    return [c for c in found if c and (c.side, c.op, c.conn) == (side, op, conn)]


def printed_bytes(text: bytes):
    """What a course program printed with print(data): the b'...' lines, as bytes."""
    return [literal(line) for line in text.decode().splitlines()
            if line.startswith(("b'", 'b"'))]


def suite_server(name, client_cmd, stdin=b"", seconds=8, hangs_after=None, server_says=None):
    """A suite server, a course client against it: (client result, server exit
    code, server output, the server). A demo server must exit by itself once
    its client is gone; rsh-server serves on, and must still run: it gets SIGTERM.
    hangs_after: see run_bounded (a course client expected to wait for ever);
    server_says: the same, but the client is done once the server's stderr
    holds these bytes."""
    with c_server(name) as server:
        if server_says:
            hangs_after = lambda out: server_says in server.stderr()  # noqa: E731
        result = run_bounded([*client_cmd, server.port], stdin, seconds, hangs_after)
        if name == "rsh-server":
            return result, 0, server.stop(), server
        code, out = server.finish(12)
        return result, code, out, server


def course_server_for(script, client_cmd, first_line=True, seconds=8):
    """A course server, a suite client against it (its command line with
    "PORT" for the port): (client result, the stopped server; what it
    printed is server.last_stdout). The notes' hello server serves one
    connection and exits: it is given the time to; the others serve for ever
    and are stopped as soon as the client is done."""
    server = course_server(script, first_line)
    try:
        cmd = [server.port if a == "PORT" else a for a in client_cmd]
        result = run_bounded(cmd, b"", seconds)
        if script.startswith("hello_server"):
            server.finish(10)
        return result, server
    finally:
        server.close()


def expect(cond, what, *shown):
    if not cond:
        raise AssertionError(what + "".join(f"\n{s}" for s in shown))


# ---- hello/world: the notes' client against demos 1, 2 and 3 ----

def test_course_hello_client_to_demo1_server():
    (code, out, err), scode, sout, server = suite_server("01-coalesce-server", HELLO_CLIENT)
    recvs = calls(sout, "server", "recv")
    expect(scode == 0 and recvs and recvs[0].head.startswith(b"helloworld"),
           "expected 01-coalesce-server to exit 0 with one recv that starts 'helloworld'",
           server.describe(sout))


def test_course_hello_client_to_demo2_server():
    _, scode, sout, server = suite_server("02-residue-server", HELLO_CLIENT)
    recvs = calls(sout, "server", "recv")
    expect(scode == 0 and [r.head[:9] for r in recvs[:2]] == [b"h", b"elloworld"],
           "expected recv(1) -> 'h', then a recv that starts 'elloworld'", server.describe(sout))


def test_course_hello_client_to_demo3_server():
    _, scode, sout, server = suite_server("03-delayed-server", HELLO_CLIENT)
    got = b"".join(r.head for r in calls(sout, "server", "recv"))
    expect(scode == 0 and got == b"helloworldhelloworld" and b"No second connection" in sout,
           "expected 03-delayed-server to read all 20 bytes of the one connection the notes' "
           "client makes, say that no second one came, and exit 0", server.describe(sout))


# ---- hello/world: demos 1 and 3's clients against the notes' server ----

def test_demo1_client_to_course_hello_server():
    (code, out, err), server = course_server_for("hello_server_000.py",
                                                 [BIN / "01-coalesce-client", "--port", "PORT"])
    printed = printed_bytes(server.last_stdout)
    expect(code == 0 and b"".join(printed) == b"helloworld" and printed[0] in
           (b"hello", b"helloworld"), "expected the notes' server to print b'helloworld' "
           "(or b'hello', b'world') and our client to exit 0",
           f"server printed {printed!r}", report(["01-coalesce-client"], code, out, err))


def test_demo3_client_to_course_hello_server():
    (code, out, err), server = course_server_for("hello_server_000.py",
                                                 [BIN / "03-delayed-client", "--port", "PORT"])
    printed = printed_bytes(server.last_stdout)
    # conn 2 is refused, or - if it came before the server closed its socket -
    # reset when the server exits (the client waits for that, however slow the
    # server is to exit): either way the client says so and exits 0
    gone = b"no second connection" in out or b"conn 2: the peer has gone" in out
    expect(code == 0 and b"".join(printed) == b"helloworld" and gone,
           "expected the notes' server to print hello and world, and our client to say that "
           "the server took no second connection, exit 0", f"server printed {printed!r}",
           report(["03-delayed-client"], code, out, err))


# ---- the simulated SSH: recv(1024) both ways ----

def check_course_ssh_client(script):
    """The notes' SSH client, typed at: the long output is cut at 1024 bytes,
    and the answer shown for `echo hello` is the next 1024 bytes of it."""
    (code, out, err), scode, sout, server = suite_server(
        "04-truncate-server", [PY, COURSE / script], f"{AWK}\necho hello\n".encode())
    text = out.decode("utf-8", "replace")
    first, second = LINES[:1024].decode(), LINES[1024:2048].decode()
    expect(first in text and second in text and "hello\n" not in text.replace(first, ""),
           f"expected {script} to print the first 1024 bytes of the 2600-byte output, then "
           "the next 1024 as the answer to 'echo hello'", report([script], code, out, err))
    expect(scode == 0, "expected 04-truncate-server to exit 0 when the client leaves",
           server.describe(sout))


def test_course_ssh_client_000_to_demo4_server():
    check_course_ssh_client("ssh_client_000.py")


def test_course_ssh_client_001_to_demo4_server():
    check_course_ssh_client("ssh_client_001.py")


def check_demo4_client(script):
    (code, out, err), _ = course_server_for(script,
                                            [BIN / "04-truncate-client", "--port", "PORT"])
    recvs = calls(out, "client", "recv")
    expect(code == 0 and len(recvs) >= 2 and recvs[0].matches(LINES[:1024])
           and recvs[1].matches(LINES[1024:2048]),
           f"expected 04-truncate-client against {script}: the first answer cut at 1024 "
           "bytes, the second answer the next 1024 bytes of the first",
           report(["04-truncate-client"], code, out, err))


def test_demo4_client_to_course_ssh_server_000():
    check_demo4_client("ssh_server_000.py")


def test_demo4_client_to_course_ssh_server_001():
    check_demo4_client("ssh_server_001.py")


def test_demo8_client_to_course_ssh_server():
    """Without --sync nothing makes the notes' server read late: usually one
    recv gets both commands and runs 'echo aecho b'; sometimes it reads the
    first alone. Either way the answers, joined, are what sh printed."""
    (code, out, err), _ = course_server_for("ssh_server_000.py",
                                            [BIN / "08-request-side-client", "--port", "PORT"])
    got = b"".join(r.head for r in calls(out, "client", "recv"))
    expect(code == 0 and got in (b"aecho b\n", b"a\nb\n"),
           "expected the notes' server to run 'echo aecho b' (answer 'aecho b\\n'), or, if it "
           "read the first command alone, 'echo a' and 'echo b'",
           report(["08-request-side-client"], code, out, err))


# ---- the notes' "simple fix" ----

def recv_sizes(out: bytes):
    return [int(n) for n in re.findall(rb"^(?:>>>:)?(\d+)$", out, re.M)]


def test_course_fix_client_to_demo5_server():
    """The notes' fix client, typed at: the 2600-byte answer is read short
    (recv_size 1024, then 3072: 2048 bytes shown), then the next header is old
    output and the client waits for ever (killed here once it has printed
    a recv_size for the garbage answer, and half a second more went by)."""
    (code, out, err), scode, sout, server = suite_server(
        "05-course-fix-server", [PY, COURSE / "fix_client_000.py"], f"{AWK}\necho hi\n".encode(), 8,
        hangs_after=lambda out: len(recv_sizes(out)) >= 3)  # 1024, 3072, then the garbage loop
    text = out.decode("utf-8", "replace")
    expect(recv_sizes(out)[:2] == [1024, 3072] and LINES[:2048].decode() in text
           and LINES[2048:].decode() not in text and code is None,
           "expected the notes' fix client to print recv_size 1024 and 3072, show 2048 of the "
           "2600 bytes, and then hang on a header read from old output",
           report(["fix_client_000.py"], code, out, err))
    expect(scode == 0, "expected 05-course-fix-server to exit 0 when the client is gone",
           server.describe(sout))


def test_demo5_client_to_course_fix_server():
    (code, out, err), _ = course_server_for("fix_server_000.py",
                                            [BIN / "05-course-fix-client", "--port", "PORT"],
                                            first_line=False)
    expect(code == 0 and b"bytes_left_unread = 552" in out
           and b"garbage_length = 1970304117" in out,
           "expected 05-course-fix-client against the notes' server: 552 bytes left unread, "
           "then the garbage length 1970304117", report(["05-course-fix-client"], code, out, err))


# ---- the wrong protocol: one line that says so, never a silent hang ----

def test_course_ssh_client_to_rsh_server_sees_why():
    (code, out, err), _, _, server = suite_server("rsh-server", [PY, COURSE / "ssh_client_000.py"],
                                                  b"echo hi\n")
    expect(b"looks like text, not a frame header" in out and
           b"looks like text" in server.stderr(),
           "expected rsh-server to refuse the notes' raw command at once with a '!' frame the "
           "course client prints, and to log why", report(["ssh_client_000.py"], code, out, err),
           server.describe())


def test_course_fix_client_to_rsh_server_is_refused_at_once():
    (code, out, err), _, _, server = suite_server("rsh-server", [PY, COURSE / "fix_client_000.py"],
                                                  f"{AWK}\n".encode(), 10,
                                                  server_says=b"protocol error: length")
    expect(b"protocol error: length" in server.stderr(),
           "expected rsh-server to log the notes' fix client's raw command as not a frame",
           server.describe())


def test_course_fix_client_hangs_on_the_suite_big_endian_header():
    """README: the notes' fix client reads our struct.pack('!I') header as
    struct.unpack('i') and waits for 671744000 bytes; the suite's server is not
    the one that hangs: it exits once the client is gone."""
    (code, out, err), scode, sout, server = suite_server(
        "05-course-fix-fixed-server", [PY, COURSE / "fix_client_000.py"], f"{AWK}\n".encode(), 8,
        hangs_after=lambda out: len(recv_sizes(out)) >= 1)
    expect(code is None and recv_sizes(out)[:1] == [1024] and scode == 0,
           "expected the notes' fix client to hang reading the big-endian header 00 00 0a 28 "
           "as 671744000, and 05-course-fix-fixed-server to exit 0 once it is gone",
           report(["fix_client_000.py"], code, out, err), server.describe(sout))


def test_demo5_fixed_client_names_the_notes_header():
    (code, out, err), _ = course_server_for(
        "fix_server_000.py", [BIN / "05-course-fix-fixed-client", "--port", "PORT"],
        first_line=False)
    expect(code == 1 and b"struct.pack('i', n)" in err and b"134217728" in err,
           "expected 05-course-fix-fixed-client to stop at the notes' native-order header and "
           "name it", report(["05-course-fix-fixed-client"], code, out, err))


def test_rsh_client_to_course_ssh_server_ends_with_a_reason():
    (code, out, err), _ = course_server_for("ssh_server_000.py",
                                            [BIN / "rsh-client", "--port", "PORT", "echo hi"])
    expect(code == 255 and b"before command 1 finished" in err,
           "expected rsh-client to exit 255 saying the server closed before answering",
           report(["rsh-client"], code, out, err))


def test_demo1_fixed_server_names_raw_text():
    (code, out, err), scode, sout, server = suite_server("01-coalesce-fixed-server", HELLO_CLIENT)
    expect(scode == 1 and b"looks like text, not a frame header" in server.stderr(),
           "expected 01-coalesce-fixed-server to refuse the notes' raw hello at once",
           server.describe(sout))
