"""The proxy and the grader check themselves: the proxy cuts where it says,
the same way every time; the suite's own programs pass, and so does a
student's correct one (grade_fixtures/echo_framed.py); deliberately buggy
ones - the course's among them, and a student's subtle one - fail, each on
the right check, with a transcript a student can read, in 100 columns.

Each test_* runs in a few tenths of a second to a few seconds; the runner
runs them in parallel. stress_grade_every_offset_and_seed is for `make stress`.
"""
import io
import os
import re
import socket
import struct
import subprocess
import threading
import time

import grade
import grade_scenarios as S
from demolib import unescape
from grade_report import WIDTH, columns
from suite import BIN, HARNESS, LISTENING, ROOT, Skipped

PROXY = BIN / "splitproxy"
FIXTURES = HARNESS / "grade_fixtures"
COURSE = HARNESS / "course"
TRACE = re.compile(r'^(proxy-up|proxy-down) \| send #(\d+) \| conn (\d+) \| at (\d+) \| (\d+) bytes \| (".*")$')
QUICK = 0.6  # a short step deadline: a program still waiting at it (idle, nothing on its way) hangs


def need(path):
    if not os.access(path, os.R_OK):
        raise AssertionError(f"{path} is missing: run 'make' (or see who writes it)")


# ---- the proxy on its own ----

def proxy_run(up, data, *extra, late=0.0, reads=None, to_host="127.0.0.1"):
    """Send data in one write through `splitproxy --up up` to a server that
    records its recv()s (their sizes in reads, if given; it sleeps `late`
    seconds before each, as a program on a loaded machine wakes late), on
    127.0.0.1, which the proxy reaches as to_host;
    returns (proxy-up trace lines, bytes received, how the server's
    connection ended)."""
    need(PROXY)
    sink = socket.create_server(("127.0.0.1", 0))
    got, ending = bytearray(), []

    def serve():
        conn, _ = sink.accept()
        with conn:
            try:
                while True:
                    time.sleep(late)
                    chunk = conn.recv(65536)
                    if reads is not None:
                        reads.append(len(chunk))
                    if not chunk:
                        ending.append("eof")
                        return
                    got.extend(chunk)
            except ConnectionResetError:
                ending.append("reset")
    server = threading.Thread(target=serve)
    server.start()
    proxy = subprocess.Popen([str(PROXY), "--listen", "0", "--to", f"{to_host}:{sink.getsockname()[1]}",
                              "--up", up, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        m = LISTENING.fullmatch(proxy.stdout.readline().decode().rstrip("\n"))
        assert m, "splitproxy did not print 'listening on HOST:PORT' first"
        with socket.create_connection(("127.0.0.1", int(m.group(2))), timeout=10) as c:
            try:
                c.sendall(data)
                c.shutdown(socket.SHUT_WR)
            except OSError:  # reset-after: the proxy may have reset us already
                pass
            c.settimeout(60)  # the proxy ends the stream once every piece was read: that may take a while
            try:
                while c.recv(65536):
                    pass
            except ConnectionResetError:
                pass
        server.join(60)
        assert not server.is_alive(), "the server behind the proxy never saw the end of the stream"
    finally:
        proxy.terminate()
        try:
            out, err = proxy.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proxy.kill()
            out, err = proxy.communicate()
            raise AssertionError("splitproxy did not exit within 10 s of SIGTERM") from None
        finally:
            sink.close()
    assert proxy.returncode == 0, f"splitproxy exited with {proxy.returncode} on SIGTERM: {err!r}"
    lines = [line for line in out.decode().split("\n") if line.startswith("proxy-up |")]
    return lines, bytes(got), ending[0] if ending else "?"


def writes_of(lines, data):
    """[(at, count)] of the trace lines, after checking that each line's bytes
    (C-escaped, long ones abbreviated to head ... tail) are data's at that offset."""
    found = []
    for line in lines:
        m = TRACE.match(line)
        assert m, f"not a trace line: {line!r}"
        at, count, text = int(m.group(4)), int(m.group(5)), m.group(6)
        parts = text[1:-1].split('" ... "')
        piece = data[at:at + count]
        if len(parts) == 1:
            assert unescape(parts[0]) == piece, f"{line!r} does not show {piece!r}"
        else:
            assert count > 48 and unescape(parts[0]) == piece[:32] and unescape(parts[1]) == piece[-16:], \
                f"{line!r} does not abbreviate {piece[:32]!r} ... {piece[-16:]!r}"
        found.append((at, count))
    assert [a for a, _c in found] == [sum(c for _a, c in found[:i]) for i in range(len(found))], \
        f"the offsets do not add up: {found}"
    return found


def test_splitproxy_random_is_the_same_every_time():
    data = bytes((i * 7 + i // 256) % 256 for i in range(6000))
    first, got1, _ = proxy_run("random:7", data, "--gap", "0")
    second, got2, _ = proxy_run("random:7", data, "--gap", "0")
    assert got1 == data and got2 == data, "random:7 changed the bytes"
    assert len(writes_of(first, data)) > 5, f"random:7 cut 6000 bytes into only {len(first)} writes: {first}"
    assert first == second, "random:7 cut the same bytes differently:\n" + "\n".join(
        f"{a}\n{b}" for a, b in zip(first, second) if a != b)
    other, _, _ = proxy_run("random:8", data, "--gap", "0")
    assert other != first, "random:8 cut exactly as random:7 did: the seed is not used"


def test_splitproxy_split_at_writes_exactly_there():
    data = b"\x00\x00\x00\x05hello\x00\x00\x00\x05world"
    lines, got, ending = proxy_run("split-at:2,6", data)
    writes = writes_of(lines, data)
    assert writes == [(0, 2), (2, 4), (6, 12)], f"split-at:2,6 wrote {writes}, expected [0:2] [2:6] [6:18]"
    assert lines[1].endswith(r'| "\x00\x05he"'), lines[1]
    assert got == data and ending == "eof"


def test_splitproxy_waits_until_the_receiver_has_read_each_piece():
    """A receiver that wakes late (here: 0.3 s before each recv) still gets
    each piece on its own: the proxy writes the next only once the receiving
    program has read the last (Linux: its socket's receive queue is empty).
    Waiting for the receiver's kernel to ack the bytes, then a gap, did not:
    this receiver got all 18 bytes in one recv()."""
    if not os.path.exists("/proc/net/tcp"):
        raise Skipped("no /proc/net/tcp here: the proxy cannot see what the receiver has read")
    data = b"\x00\x00\x00\x05hello\x00\x00\x00\x05world"
    reads = []
    lines, got, _ = proxy_run("split-at:2,6", data, "--gap", "0", late=0.3, reads=reads)
    assert got == data and reads[:3] == [2, 4, 12], f"the late receiver's recv()s returned {reads} bytes"
    reads.clear()
    lines, got, _ = proxy_run("drip:0", data[:6], "--pass-first", "3", late=0.05, reads=reads)
    pieces = [n for n in reads if n]  # the 3 bytes passed first may come with the first dripped one
    assert got == data[:6] and pieces in ([3, 1, 1, 1], [4, 1, 1]), \
        f"drip after --pass-first 3: the late receiver's recv()s returned {reads} bytes"
    assert len(lines) == 4 and writes_of(lines, data[:6]) == [(0, 3), (3, 1), (4, 1), (5, 1)], lines


def test_splitproxy_sees_an_ipv4_reader_of_its_ipv6_socket():
    """The proxy reaches an IPv4 server as ::ffff:127.0.0.1, so its own socket
    is IPv6: the server, which reads late, is still found in /proc/net/tcp
    and gets each piece on its own."""
    if not os.path.exists("/proc/net/tcp") or not socket.has_ipv6:
        raise Skipped("needs /proc/net/tcp and IPv6")
    data, reads = b"\x00\x00\x00\x05hello\x00\x00\x00\x05world", []
    _, got, _ = proxy_run("split-at:2,6", data, "--gap", "0", late=0.3, reads=reads,
                          to_host="::ffff:127.0.0.1")
    assert got == data and reads[:3] == [2, 4, 12], f"the late IPv4 reader's recv()s returned {reads}"


def test_splitproxy_eof_after_and_reset_after():
    data = b"\x00\x00\x00\x05hello"
    lines, got, ending = proxy_run("eof-after:6", data)
    assert got == data[:6] and ending == "eof", f"eof-after:6 delivered {got!r}, then {ending}"
    lines, got, ending = proxy_run("reset-after:6", data)
    assert got == data[:6] and ending == "reset", f"reset-after:6 delivered {got!r}, then {ending}"


def test_splitproxy_usage():
    need(PROXY)
    ok = subprocess.run([str(PROXY), "--help"], capture_output=True, text=True, timeout=10)
    assert ok.returncode == 0 and ok.stdout.startswith("usage: "), ok
    for bad in (["--listen", "0"], ["--listen", "0", "--to", "x:1", "--up", "split-at:5,3"],
                ["--listen", "0", "--to", "x:1", "--down", "drip:x"], ["--bogus"]):
        p = subprocess.run([str(PROXY), *bad], capture_output=True, text=True, timeout=10)
        assert p.returncode == 2 and "usage: " in p.stderr, (bad, p)


# ---- the suite's own programs pass ----

def grade_it(mode, command, role="echo", proto="rsh", only=None, short=True, deadline=grade.DEADLINE):
    target = grade.Target(mode, command, role, proto)
    scenarios = grade.select_scenarios(role, only, short and not only)
    return grade.grade(target, scenarios, grade.Options(deadline=deadline, proxy=PROXY, cwd=ROOT))


def all_pass(results):
    failed = [r for r in results if not r.passed]
    assert not failed, "\n\n".join(r.transcript for r in failed)
    assert any(not r.skipped for r in results), "every scenario was skipped"


def test_c_echo_server_passes():
    need(BIN / "echo-server")
    all_pass(grade_it("server", f"{BIN / 'echo-server'} --port {{port}}"))


def test_c_echo_client_passes():
    need(BIN / "echo-client")
    all_pass(grade_it("client", f"{BIN / 'echo-client'} --port {{port}}"))


def test_python_echo_pair_passes():
    server, client = ROOT / "solution/python/echo_server.py", ROOT / "solution/python/echo_client.py"
    if not (server.exists() and client.exists()):
        print(f"skipped: {server} or {client} does not exist yet")
        return
    all_pass(grade_it("server", f"python3 {server} {{port}}"))
    all_pass(grade_it("client", f"python3 {client} {{port}}"))


def test_the_remote_shell_server_passes_as_shell_rsh():
    need(BIN / "rsh-server")
    all_pass(grade_it("server", f"{BIN / 'rsh-server'} --port {{port}}", role="shell", proto="rsh"))


# ---- buggy programs fail, each on the right check ----

def fails(results, name, *phrases):
    """The scenario `name` failed, and its transcript holds every phrase."""
    result = next(r for r in results if r.scenario.name == name)
    assert not result.passed, f"{name} passed, but the program is wrong there"
    assert result.transcript.startswith(f'The check "{result.title}" failed after these steps:'), \
        result.transcript
    for phrase in phrases:
        assert phrase in result.transcript, f"{phrase!r} is not in the transcript:\n{result.transcript}"
    return result


def passes(results, name):
    result = next(r for r in results if r.scenario.name == name)
    assert result.passed, f"{name} failed, but the program is right there:\n{result.transcript}"


def fixture(name):
    path = FIXTURES / name
    need(path)
    return f"python3 {path} {{port}}"


def test_a_server_that_never_reads_again_is_told_so():
    """One message per connection, then back to accept(): the second message
    stays in its socket, unread. The grader tells that hang from a slow
    program (asleep, with bytes it does not read: nothing can wake it) and
    says so, without waiting for its safety net."""
    if not os.path.exists("/proc/net/tcp"):
        raise Skipped("needs /proc to see what the program has not read")
    results = grade_it("server", fixture("echo_one_per_connection.py"),
                       only=["two-in-one-write", "split-second-header"])
    fails(results, "two-in-one-write", 'expected message "world"', "got nothing within 2 s",
          "It hung: asleep, with 9 bytes in its socket it had not read.")
    fails(results, "split-second-header", "It hung: asleep, with 2 bytes in its socket it had not read.")


def test_one_recv_per_message_fails_two_in_one_write():
    results = grade_it("server", fixture("echo_recv1024.py"), only=["two-in-one-write", "split-in-body"],
                       deadline=QUICK)
    fails(results, "two-in-one-write", r'client wrote "\x00\x00\x00\x05hello\x00\x00\x00\x05world"',
          '3. expected message "hello"\n', '4. expected message "world" — got nothing')
    fails(results, "split-in-body", r'client wrote "\x00\x00\x00\x05he"', 'got "he"', "read short")


def test_random_cuts_catch_a_server_that_takes_each_recv_as_a_frame():
    # random pieces are 1 to 256 bytes: a 1460-byte stream is cut about 35 times
    results = grade_it("server", fixture("echo_recv1024.py"), only=["random-1"], deadline=QUICK)
    fails(results, "random-1")


def test_header_read_with_one_recv_fails_the_header_split():
    results = grade_it("server", fixture("echo_recv4.py"), only=["split-at-2", "two-in-one-write"])
    fails(results, "split-at-2", r'client wrote "\x00\x00"', "the server closed the connection",
          "unpack requires a buffer of 4 bytes")
    passes(results, "two-in-one-write")  # whole headers: the bug does not show


def test_a_header_read_with_one_recv_fails_when_the_server_wakes_late():
    """A server that sleeps 0.2 s before each recv() - as a program on a loaded
    machine wakes late - still gets the header in two pieces: the proxy writes
    the second only once the first has been read. (It waited 40 ms after the
    receiver's kernel had the first: this server got both at once, and passed.)"""
    if not os.path.exists("/proc/net/tcp"):
        raise Skipped("no /proc/net/tcp here: the proxy cannot see what the server has read")
    results = grade_it("server", fixture("echo_recv4.py") + " 0.2", only=["split-at-1", "split-at-2", "split-at-3"])
    for name in ("split-at-1", "split-at-2", "split-at-3"):
        fails(results, name, "the server closed the connection", "unpack requires a buffer of 4 bytes")


def test_a_slow_program_is_not_taken_for_a_hung_one():
    """With a deadline of 0.6 s, a correct server busy for 0.9 s before each
    echo, and a client busy for 0.9 s before it starts (a Python program on a
    loaded machine), pass: past its deadline a step waits on while the program
    runs, and gives up only once it is idle. (They failed: 'got nothing within
    0.6 s', 'the client never connected'.)"""
    if not os.path.exists("/proc/net/tcp"):
        raise Skipped("no /proc here: the grader cannot see whether a program is running")
    all_pass(grade_it("server", fixture("echo_framed.py") + " 0.9", only=["two-in-one-write", "split-at-2"],
                      deadline=QUICK))
    slow = f"python3 {FIXTURES / 'slow_start.py'} 0.9 "
    need(BIN / "echo-client")
    all_pass(grade_it("client", slow + f"{BIN / 'echo-client'} --port {{port}}", only=["two-in-one-write", "drip"],
                      deadline=QUICK))
    results = grade_it("client", slow + fixture("echo_client_recv1024.py"), only=["two-in-one-write"],
                       deadline=QUICK)
    fails(results, "two-in-one-write", 'typed "hello", "world"', r'it printed "hello\x00\x00\x00\x05world\n"',
          "two echoes read as one")


def test_trusting_the_length_fails_on_garbage():
    results = grade_it("server", fixture("echo_trusting.py"), only=["garbage-length", "split-at-2"],
                       deadline=QUICK)
    if os.path.exists("/proc/self/status"):
        fails(results, "garbage-length", r'"\x7f\xff\xff\xff', "memory grew", "allocated for the length")
    else:
        fails(results, "garbage-length", "still open")
    passes(results, "split-at-2")


def test_a_hang_is_reported_after_the_deadline():
    """A program that never answers is reported as hung and killed, once the
    step's deadline has passed (never before it). How long the report takes
    past the deadline depends on the machine's load: it is not checked here
    (the test's own timeout bounds it)."""
    results = grade_it("server", fixture("echo_lines.py"), only=["two-in-one-write"], deadline=QUICK)
    r = fails(results, "two-in-one-write", "got nothing within 0.6 s", "still running",
              "It hung: it was killed, with its whole process group.")
    assert r.seconds >= QUICK, \
        f"the hang was reported after {r.seconds:.2f} s, before the step deadline of {QUICK} s"


def test_client_with_one_recv_per_echo_fails():
    results = grade_it("client", fixture("echo_client_recv1024.py"),
                       only=["two-in-one-write", "eof-mid-frame"], deadline=QUICK)
    fails(results, "two-in-one-write", 'typed "hello", "world"', r'server wrote "\x00\x00\x00\x05hello',
          r'it printed "hello\x00\x00\x00\x05world\n"', "two echoes read as one")
    fails(results, "eof-mid-frame", r'server wrote "\x00\x00\x00\x05he"',
          'it printed "he", the part that arrived, as if it were the whole echo')


def test_a_students_framed_server_passes_every_check():
    """Written as a student would after the lesson (read exactly n bytes in a
    loop, refuse a length too big): every scenario, not only the short set."""
    all_pass(grade_it("server", fixture("echo_framed.py"), short=False))


def test_a_server_that_empties_its_buffer_loses_pipelined_messages():
    """A buffer that copes with a header in pieces, emptied after each message:
    the cuts inside one message pass, two messages in one recv() do not."""
    results = grade_it("server", fixture("echo_drops_rest.py"),
                       only=["two-in-one-write", "pipelined", "split-at-2", "split-in-body", "drip"], deadline=QUICK)
    fails(results, "two-in-one-write", '3. expected message "hello"\n',
          '4. expected message "world" — got nothing within 0.6 s, though every byte of it had reached '
          'the server', "did it drop bytes it had read")
    fails(results, "pipelined", 'expected message "message 002 ++" — got')
    passes(results, "split-at-2")     # one message, however cut: no bug to show
    passes(results, "split-in-body")
    passes(results, "drip")           # each byte is read before the next comes: never two messages at once


def test_the_printed_report_is_short_and_fits_in_100_columns():
    """What `make grade` prints: no line wider than WIDTH columns, no quoted
    bytes cut across lines, a failure that repeats another's in one line, and
    the command that runs one check alone."""
    results = grade_it("server", fixture("echo_recv1024.py"), only=["eof-mid-frame", "http", "one-mib",
                                                                      "pipelined"], deadline=QUICK)
    out = io.StringIO()
    grade.print_results(grade.Target("server", fixture("echo_recv1024.py")), results, out)
    text = out.getvalue()
    wide = [line for line in text.split("\n") if columns(line) > WIDTH]
    assert not wide, f"lines wider than {WIDTH} columns:\n" + "\n".join(wide)
    cut = [line for line in text.split("\n") if len(re.findall(r'(?<!\\)"', line)) % 2]
    assert not cut, "quoted bytes cut across lines:\n" + "\n".join(cut)
    assert "it fails the same way as eof-mid-frame, above" in text, text
    assert text.count("The check ") == 3, text
    command = text.replace(" \\\n    ", " ")  # the command, its lines joined as a shell joins them
    assert re.search(r"Run one check alone:\n  (python3 \S*grade.py --server |make grade SERVER=)"
                     r"'python3 \S+echo_recv1024.py \{port\}'( --only |.* ONLY=)one-mib\n", command), text
    assert text.rstrip().endswith("0 passed, 4 failed, 0 skipped"), text


# ---- the course's programs fail, readably ----

def course(name):
    path = COURSE / name
    if not path.exists():
        print(f"skipped: {path} does not exist yet")
        return None
    return f"python3 {path} {{port}}"


def test_course_naive_shell_runs_two_commands_as_one():
    cmd = course("ssh_server_000.py")
    if cmd:
        results = grade_it("server", cmd, role="shell", proto="raw", only=["two-in-one-write"])
        fails(results, "two-in-one-write", 'client wrote "echo helloecho world"',
              'expected the answer "hello\\n" — got "helloecho world\\n"', "where a command ends")


def test_course_simple_fix_client_reads_short_then_garbage():
    cmd = course("fix_client_000.py")
    if cmd:
        results = grade_it("client", cmd, role="shell", proto="i", only=["long-answer"], deadline=QUICK)
        r = fails(results, "long-answer", "only its first 2048 of 2600 bytes", 'client sent command "echo hi"',
                  'expected the client to print "hi\\n" — it printed nothing', "a garbage length",
                  "It hung")
        value = struct.unpack("i", S.LONG_OUTPUT[2048:2052])[0]
        assert f"length {value}" in r.transcript, r.transcript


def test_course_simple_fix_client_reads_into_the_next_answer():
    """recv(1024) after the header takes the next answer's first bytes too:
    the grader says which, and what the rest of that header then reads as.
    (The proxy sends the rest only once the client has read those bytes: on
    a loaded machine too, it never reads the whole next answer at once.)"""
    cmd = course("fix_client_000.py")
    if cmd:
        results = grade_it("client", cmd, role="shell", proto="i", only=["split-second-header"],
                           deadline=QUICK)
        value = struct.unpack("i", b"\x00\x00wo")[0]
        fails(results, "split-second-header", 'expected the client to print "hello\\n"\n',
              r"""it printed "\x06\x00", the first 2 bytes of this answer's header""",
              r'the next 4 bytes it read as a header were "\x00\x00wo": length ' + str(value))


# ---- make stress: every offset, several seeds, and the bugs show every time ----

def stress_grade_every_offset_and_seed():
    seeds = [1, 2, 3, 4, 5]
    scenarios = grade.select_scenarios("echo", None, False, True, seeds)
    opts = grade.Options(proxy=PROXY, cwd=ROOT)
    for mode, prog in (("server", "echo-server"), ("client", "echo-client")):
        all_pass(grade.grade(grade.Target(mode, f"{BIN / prog} --port {{port}}"), scenarios, opts))
    shell = grade.select_scenarios("shell", None, False, True, seeds)
    all_pass(grade.grade(grade.Target("server", f"{BIN / 'rsh-server'} --port {{port}}", "shell", "rsh"),
                         shell, opts))
    all_pass(grade.grade(grade.Target("client", f"{BIN / 'rsh-client'} --port {{port}}", "shell", "rsh"),
                         shell, opts))
    # A header read with one recv(4) must fail at each header offset, every time.
    header_cuts = [s for s in S.all_offsets() if s.name in ("offset-1", "offset-2", "offset-3")] * 5
    results = grade.grade(grade.Target("server", fixture("echo_recv4.py")), header_cuts, opts)
    passed = [r.scenario.name for r in results if r.passed]
    assert not passed, f"echo_recv4.py passed {passed}: the cut did not reach its recv(4)"
