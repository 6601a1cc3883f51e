"""End-to-end tests of the remote shell: bin/rsh-server driven by the Python
client in rshproto.py (the wire format is the contract), and bin/rsh-client
driven as a user would.

Every test starts its own server on a free port, so tests never share state
and can run in parallel with anything else. They check bytes and statuses;
times appear only as safety bounds (a socket timeout, a polling limit), so
a loaded machine makes a test slower, never wrong.
"""
import hashlib
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import closing

from rshproto import (BIN, ERROR, HEADER, MAX_COMMAND, STDERR, STDOUT, FrameReader, ServerError,
                      command_frame, connect, group_members, pack_frame, proc_stat, read_answer,
                      read_frame, reset, rsh_server, run_command, send_command, wait_until)

CLIENT = str(BIN / "rsh-client")


# ---- showing what differed ----

def show_bytes(data: bytes) -> str:
    if len(data) <= 100:
        return repr(data)
    return (f"{len(data)} bytes {data[:48]!r} ... {data[-24:]!r} "
            f"(sha256 {hashlib.sha256(data).hexdigest()[:16]})")


def first_difference(got: bytes, want: bytes) -> str:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return (f"; first difference at byte {i}: expected {want[i:i + 24]!r}, "
                    f"got {got[i:i + 24]!r}")
    return f"; one is a prefix of the other (lengths {len(want)} and {len(got)})"


def expect_answer(label: str, got, want) -> None:
    """got and want are (stdout, stderr, status)."""
    if got != want:
        parts = [f"{label}: expected stdout {show_bytes(want[0])}, stderr {show_bytes(want[1])}, "
                 f"status {want[2]}",
                 f"    got stdout {show_bytes(got[0])}, stderr {show_bytes(got[1])}, "
                 f"status {got[2]}"]
        for name, g, w in (("stdout", got[0], want[0]), ("stderr", got[1], want[1])):
            if g != w:
                parts.append(f"    {name}{first_difference(g, w)}")
        raise AssertionError("\n".join(parts))


def yes_output(word: str, size: int) -> bytes:
    """What `yes WORD | head -c SIZE` prints."""
    line = (word + "\n").encode()
    return (line * (size // len(line) + 1))[:size]


def yes_sha256(word: str, size: int) -> str:
    """sha256 of `yes WORD | head -c SIZE`, without holding it all in memory."""
    line = (word + "\n").encode()
    block = line * ((1 << 20) // len(line) + 1)
    h, left = hashlib.sha256(), size
    while left > 0:
        h.update(block[:left])
        left -= min(left, len(block))
    return h.hexdigest()


def baseline(server, *connected) -> int:
    """The server's descriptor count once each connected client has surely been
    accepted (it got an answer) and no command runs: what wait_for_baseline
    expects again after the test."""
    for sock in connected:
        expect_answer("a client connected before the test", run_command(sock, "true"), (b"", b"", 0))
    if not wait_until(lambda: not server.children(), 10):
        raise AssertionError(f"the server still has children {server.children()} before the test")
    return server.fd_count()


def still_serving(server, label: str = "after the test") -> None:
    """A new client gets its command answered: the server is alive and well."""
    with closing(server.connect()) as sock:
        expect_answer(f"a new client {label}", run_command(sock, "echo still serving"),
                      (b"still serving\n", b"", 0))


# ---- exit codes, signals, bytes ----

def test_exit_codes():
    with rsh_server() as server, closing(server.connect()) as sock:
        for command, status in [("true", 0), ("exit 0", 0), ("false", 1), ("exit 3", 3),
                                ("exit 255", 255), ("exit 256", 0)]:
            out, err, got = run_command(sock, command)
            if got != status:
                raise AssertionError(f"{command!r}: expected status {status}, got {got} "
                                     f"(stdout {out!r}, stderr {err!r})")
        expect_answer("'echo out; echo err >&2; exit 42'",
                      run_command(sock, "echo out; echo err >&2; exit 42"), (b"out\n", b"err\n", 42))
        out, err, status = run_command(sock, "no-such-command-rsh-test")
        assert (out, status) == (b"", 127) and err, \
            f"a missing command: expected status 127, a message on stderr and no stdout; " \
            f"got status {status}, stdout {out!r}, stderr {err!r}"


def test_killed_by_signal():
    with rsh_server() as server, closing(server.connect()) as sock:
        expect_answer("'kill -9 $$'", run_command(sock, "kill -9 $$"), (b"", b"", -9))
        expect_answer("'kill -TERM $$'", run_command(sock, "kill -TERM $$"), (b"", b"", -15))
        expect_answer("'echo before; kill -KILL $$'", run_command(sock, "echo before; kill -KILL $$"),
                      (b"before\n", b"", -9))
        expect_answer("the next command on the same connection", run_command(sock, "echo next"),
                      (b"next\n", b"", 0))


ALL_BYTES = bytes(range(256))
PRINTF_ALL_BYTES = "printf '" + "".join(f"\\{b:03o}" for b in range(256)) + "'"


def test_binary_output_all_byte_values():
    with rsh_server() as server, closing(server.connect()) as sock:
        command = f"{PRINTF_ALL_BYTES}; {PRINTF_ALL_BYTES} >&2; {PRINTF_ALL_BYTES}"
        expect_answer("every byte value on stdout and stderr", run_command(sock, command),
                      (ALL_BYTES * 2, ALL_BYTES, 0))
        # The same bytes in the command text (all but NUL, which sh -c cannot take).
        text = bytes(range(1, 256)).replace(b"'", b"")
        expect_answer("every byte value in the command text",
                      run_command(sock, b"printf '%s' '" + text + b"'"), (text, b"", 0))


def test_50mb_stdout_checked_by_hash():
    size = 50_000_000
    with rsh_server() as server, closing(server.connect()) as sock:
        h, counts = hashlib.sha256(), {STDOUT: 0, STDERR: 0}

        def take(kind, chunk):
            counts[kind] += len(chunk)
            if kind == STDOUT:
                h.update(chunk)

        _, _, status = run_command(sock, f"yes 0123456789abcdef | head -c {size}", take)
        assert (counts[STDOUT], counts[STDERR], status) == (size, 0, 0), \
            f"expected {size} bytes of stdout, 0 of stderr, status 0; " \
            f"got {counts[STDOUT]}, {counts[STDERR]}, status {status}"
        want = yes_sha256("0123456789abcdef", size)
        assert h.hexdigest() == want, f"stdout sha256: expected {want}, got {h.hexdigest()}"


def test_5mb_stderr():
    size = 5_000_000
    with rsh_server() as server, closing(server.connect()) as sock:
        expect_answer("5 MB on stderr, then a line on stdout",
                      run_command(sock, f"yes to-stderr | head -c {size} >&2; echo done"),
                      (b"done\n", yes_output("to-stderr", size), 0))


def test_big_stdout_and_stderr_at_once():
    # A server that read one pipe to the end before the other would deadlock
    # here: the command blocks on the full pipe nobody reads.
    size = 3_000_000
    with rsh_server() as server, closing(server.connect()) as sock:
        command = (f"yes out | head -c {size} & yes err | head -c {size} >&2 & wait; "
                   f"echo end >&2")
        expect_answer("3 MB on each stream, written at the same time", run_command(sock, command),
                      (yes_output("out", size), yes_output("err", size) + b"end\n", 0))


def test_empty_command_and_command_at_the_size_limit():
    with rsh_server() as server, closing(server.connect()) as sock:
        sock.sendall(pack_frame(b"C"))  # L = 1: the type byte and no text
        expect_answer("an empty command (frame length 1)", read_answer(sock), (b"", b"", 0))
        command = b"echo at-the-limit #"
        command += b"x" * (MAX_COMMAND - len(command))
        assert len(command_frame(command)) == HEADER.size + 65537
        expect_answer("a command of 65536 bytes (frame length 65537)", run_command(sock, command),
                      (b"at-the-limit\n", b"", 0))


# ---- pipelining and splitting: the stream has no boundaries ----

def test_1000_pipelined_commands():
    count = 1000
    with rsh_server() as server, closing(server.connect()) as sock:
        sock.sendall(b"".join(command_frame(f"echo {n}; exit {n % 256}") for n in range(count)))
        reader = FrameReader(sock)
        for n in range(count):
            expect_answer(f"pipelined command #{n} of {count}", read_answer(reader),
                          (f"{n}\n".encode(), b"", n % 256))


def test_demo4_commands_pipelined():
    lines = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))
    commands = [("awk 'BEGIN { for (i = 1; i <= 100; i++) printf \"line %03d of a long output\\n\", i }'",
                 lines), ("echo hello", b"hello\n"), ("echo world", b"world\n")]
    with rsh_server() as server, closing(server.connect()) as sock:
        sock.sendall(b"".join(command_frame(c) for c, _ in commands))
        for command, out in commands:
            expect_answer(command, read_answer(sock), (out, b"", 0))


def nothing_arrives(sock, seconds: float) -> bool:
    return not select.select([sock], [], [], seconds)[0]


def test_command_trickled_one_byte_at_a_time():
    with rsh_server() as server, closing(server.connect()) as sock:
        stream = command_frame("echo trickled") + command_frame("printf 'a\\nb'; exit 5")
        for i in range(len(stream) - 1):
            sock.sendall(stream[i:i + 1])  # TCP_NODELAY is on: one segment per byte
            time.sleep(0.002)
        # One byte short of the second frame: only the first command may be answered.
        expect_answer("the first trickled command", read_answer(sock), (b"trickled\n", b"", 0))
        if not nothing_arrives(sock, 0.2):
            raise AssertionError(f"the server answered a frame that is one byte short: "
                                 f"{sock.recv(100)!r}")
        sock.sendall(stream[-1:])
        expect_answer("the second trickled command", read_answer(sock), (b"a\nb", b"", 5))


def test_two_frames_split_at_every_offset():
    with rsh_server() as server, closing(server.connect()) as sock:
        stream = command_frame("echo one") + command_frame("echo two >&2")
        for k in range(1, len(stream)):
            sock.sendall(stream[:k])
            time.sleep(0.005)
            sock.sendall(stream[k:])
            expect_answer(f"split after byte {k}: first", read_answer(sock), (b"one\n", b"", 0))
            expect_answer(f"split after byte {k}: second", read_answer(sock), (b"", b"two\n", 0))


# ---- timeouts and disconnects kill the whole process group ----

def read_pid_frame(sock):
    """The first frame of an answer that starts with `echo $$`: the shell's pid."""
    frame = read_frame(sock)
    if frame is None or frame[0] not in (STDOUT, STDERR) or not frame[1].strip().isdigit():
        raise AssertionError(f"expected an 'O' or 'E' frame holding the shell's pid, got {frame!r}")
    return int(frame[1])


def check_own_group(pid: int) -> None:
    st = proc_stat(pid)
    if st is None or st[2] != pid:
        raise AssertionError(f"expected the command's shell (pid {pid}) to lead its own process "
                             f"group; /proc/{pid}/stat gives (state, ppid, pgrp) = {st}")


def expect_group_gone(server, pgid: int, label: str, timeout: float = 10.0) -> None:
    if not wait_until(lambda: not group_members(pgid), timeout):
        raise AssertionError(f"{label}: process group {pgid} still has processes "
                             f"{group_members(pgid)} after {timeout:.0f} s")
    if not wait_until(lambda: not server.children(), timeout):
        raise AssertionError(f"{label}: the server still has children {server.children()} "
                             f"(zombies not reaped?) after {timeout:.0f} s")


def test_timeout_kills_the_process_group():
    with rsh_server("--timeout", "1") as server, closing(server.connect()) as sock:
        # A background sleep too: it is in the group, not a child of the server.
        send_command(sock, "echo $$; sleep 30 & sleep 30; echo not-reached")
        pid = read_pid_frame(sock)
        check_own_group(pid)
        out, err, status = read_answer(sock)
        assert (out, status) == (b"", -9) and b"time" in err.lower(), \
            f"a command past --timeout: expected no more stdout, an 'E' frame about the " \
            f"timeout, then status -9; got stdout {out!r}, stderr {err!r}, status {status}"
        expect_group_gone(server, pid, "after the timeout")
        expect_answer("the next command on the same connection", run_command(sock, "echo after"),
                      (b"after\n", b"", 0))


def test_disconnect_mid_command_kills_the_process_group():
    with rsh_server() as server:
        fds = baseline(server)
        sock = server.connect()
        send_command(sock, "sleep 30 & echo $$; exec sleep 30")
        pid = read_pid_frame(sock)
        check_own_group(pid)
        assert len(group_members(pid)) >= 2, f"expected the shell and a background sleep in " \
                                              f"group {pid}, got {group_members(pid)}"
        sock.close()
        expect_group_gone(server, pid, "after the client closed")
        server.wait_for_baseline(fds)
        still_serving(server)


def test_reset_mid_command_kills_the_process_group():
    with rsh_server() as server:
        fds = baseline(server)
        sock = server.connect()
        send_command(sock, "echo $$; exec sleep 30")
        pid = read_pid_frame(sock)
        reset(sock)
        expect_group_gone(server, pid, "after the client reset the connection")
        server.wait_for_baseline(fds)
        still_serving(server)


def test_disconnect_drops_queued_commands():
    marker_dir = tempfile.mkdtemp(prefix="rsh-test-")
    marker = os.path.join(marker_dir, "ran")
    try:
        with rsh_server() as server:
            sock = server.connect()
            sock.sendall(command_frame("echo $$; exec sleep 30") +
                         command_frame(f"echo ran > {marker}") * 3)
            pid = read_pid_frame(sock)
            sock.close()
            expect_group_gone(server, pid, "after the client closed")
            time.sleep(0.3)  # the server had its chance to start a queued command
            assert not os.path.exists(marker), \
                "expected the commands queued behind the running one to be dropped when the " \
                "client went away; one of them ran"
    finally:
        shutil.rmtree(marker_dir, ignore_errors=True)


# ---- bad input: one '!' frame, then EOF - and nobody else notices ----

def expect_error_then_eof(sock, label: str, must_mention=()) -> bytes:
    """Exactly one frame, a '!' with a one-line readable reason, then a clean
    EOF - not an RST, which would mean the '!' frame could have been lost.
    Returns the reason."""
    try:
        frame = read_frame(sock)
    except ConnectionResetError:
        raise AssertionError(f"{label}: expected a '!' frame, got a connection reset") from None
    if frame is None or frame[0] != ERROR:
        raise AssertionError(f"{label}: expected one '!' frame, got {frame!r}")
    reason = frame[1]
    text = reason.decode("utf-8", "replace").rstrip("\n")
    if not text or "\n" in text or not text.isprintable():
        raise AssertionError(f"{label}: expected a one-line readable reason, got {reason!r}")
    for word in must_mention:
        if word.lower() not in text.lower():
            raise AssertionError(f"{label}: expected the reason to name {word!r}, got {text!r}")
    try:
        rest = sock.recv(65536)
    except ConnectionResetError:
        raise AssertionError(f"{label}: after the '!' frame {reason!r}, expected EOF, got a "
                             f"connection reset (close() with unread input sends an RST)") from None
    if rest:
        raise AssertionError(f"{label}: after the '!' frame {reason!r}, expected EOF, "
                             f"got more bytes {rest[:64]!r}")
    return reason


TRAILING_JUNK = b"junk" * 65536  # more than one recv() takes: some is unread at the error


def check_bad_input(data: bytes, label: str, must_mention=(), valid_first: bool = False) -> None:
    """Send data (after a valid command if valid_first) on a new connection,
    followed by 256 KiB of junk: the answer to the valid command, one '!'
    frame, EOF. The junk makes sure input is still unread when the server
    gives up, so a plain close() would send an RST. Meanwhile another client,
    connected before, keeps being served, and afterwards a new one is; the
    server's descriptors and children go back to where they were."""
    with rsh_server() as server, closing(server.connect()) as bystander:
        fds = baseline(server, bystander)
        with closing(server.connect()) as sock:
            if valid_first:
                data = command_frame("echo first") + data
            try:
                sock.sendall(data + TRAILING_JUNK)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may refuse the rest: what it sent back is checked below
            if valid_first:
                expect_answer(f"{label}: the valid command before it", read_answer(sock),
                              (b"first\n", b"", 0))
            expect_error_then_eof(sock, label, must_mention)
        expect_answer(f"{label}: a client connected before", run_command(bystander, "echo bystander"),
                      (b"bystander\n", b"", 0))
        still_serving(server, f"after {label}")
        server.wait_for_baseline(fds)


def test_bad_frame_length_zero():
    check_bad_input(HEADER.pack(0) + command_frame("echo must-not-run"), "a frame of length 0")


def test_bad_frame_command_over_the_limit():
    # One byte over, with its whole body behind it: the server must not read
    # the body as frames, and its close must not turn into an RST.
    body = b"C" + b"x" * (MAX_COMMAND + 1)
    check_bad_input(pack_frame(body), "a command frame of length 65538", ["65538"])


def test_bad_frame_length_ffffffff():
    check_bad_input(HEADER.pack(0xFFFFFFFF) + b"C" + bytes(1000), "a frame of length 0xFFFFFFFF",
                    ["4294967295"])


def test_bad_frame_unknown_types():
    for kind in (b"Z", b"O", b"X", b"!", b"c", b"\x00"):
        check_bad_input(pack_frame(kind + b"payload") + command_frame("echo must-not-run"),
                        f"a frame of unknown type {kind!r}", [f"{kind[0]:02x}"])


HTTP_GET = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"
TLS_CLIENT_HELLO = (bytes.fromhex("16 03 01 00 c8 01 00 00 c4 03 03") + bytes(range(32)) +
                    bytes.fromhex("00 00 04 13 01 13 02 01 00 00 97 00 00 00 0e"))


def test_bad_frame_http_get():
    check_bad_input(HTTP_GET, "an HTTP request", [str(HEADER.unpack(b"GET ")[0])])


def test_bad_frame_tls_client_hello():
    check_bad_input(TLS_CLIENT_HELLO, "a TLS ClientHello", [str(HEADER.unpack(TLS_CLIENT_HELLO[:4])[0])])


def test_garbage_after_a_valid_frame():
    for data, label in [(HTTP_GET, "an HTTP request"), (TLS_CLIENT_HELLO, "a TLS ClientHello"),
                        (bytes(4096), "4096 zero bytes")]:
        check_bad_input(data, f"{label} after a valid command", valid_first=True)


def test_endless_zeros_closed_in_bounded_time():
    """A peer that keeps sending zeros: one '!' frame (length 0), EOF, and the
    server stops taking bytes (the connection is closed) within a bound."""
    with rsh_server() as server:
        fds = baseline(server)
        sock = server.connect()
        outcome = {}

        def flood():
            zeros, deadline = bytes(65536), time.monotonic() + 15
            try:
                while time.monotonic() < deadline:
                    sock.sendall(zeros)
                    time.sleep(0.001)
                outcome["result"] = "still accepting zeros after 15 s"
            except OSError as e:
                outcome["result"] = type(e).__name__

        sender = threading.Thread(target=flood, daemon=True)
        sender.start()
        expect_error_then_eof(sock, "an endless stream of zeros")
        sender.join(20)
        sock.close()
        assert outcome.get("result") in ("BrokenPipeError", "ConnectionResetError"), \
            f"expected the server to close the connection while zeros keep coming (the sender " \
            f"then fails with EPIPE or ECONNRESET); got {outcome.get('result')!r}"
        server.wait_for_baseline(fds)
        still_serving(server)


def test_half_frame_then_vanish():
    with rsh_server() as server, closing(server.connect()) as bystander:
        fds = baseline(server, bystander)
        whole = command_frame("echo should-not-run")
        for cut in (2, HEADER.size, HEADER.size + 3):
            sock = server.connect()
            sock.sendall(whole[:cut])
            sock.close()
        # A client that sends half a frame and then just sits there delays nobody.
        with closing(server.connect()) as stalled:
            stalled.sendall(whole[:HEADER.size + 3])
            for n in range(5):
                expect_answer(f"bystander command #{n} while another client sits on half a frame",
                              run_command(bystander, f"echo {n}"), (f"{n}\n".encode(), b"", 0))
        server.wait_for_baseline(fds)
        still_serving(server)


def test_peer_vanishes_at_every_offset():
    """Close (FIN) or reset (RST) after every prefix of a command frame, and in
    the middle of a big answer: no crash, no hang, no leak, next client served."""
    with rsh_server() as server:
        fds = baseline(server)
        whole = command_frame("echo vanish")
        for cut in range(len(whole) + 1):
            for vanish in (socket.socket.close, reset):
                sock = server.connect()
                if cut:
                    sock.sendall(whole[:cut])
                vanish(sock)
        for vanish in (socket.socket.close, reset):
            sock = server.connect()
            send_command(sock, "yes mid-response | head -c 20000000")
            for _ in range(3):
                read_frame(sock)
            vanish(sock)
        server.wait_for_baseline(fds)
        still_serving(server)
        # ... and the error is reported: each close inside a frame, with how much came.
        log = server.stderr_text(10**7)
        for cut in range(1, len(whole)):
            line = f"disconnected inside a frame ({cut} bytes of it arrived)"
            assert line in log, f"the server's log has no line {line!r}:\n{log[-2000:]}"
        assert "killed its command" in log, f"no disconnect mid-response logged:\n{log[-2000:]}"


# ---- many clients ----

def run_clients(count: int, work, timeout: float = 90.0):
    """Run work(i) in count threads that start together; returns the errors."""
    errors, start = [], threading.Barrier(count)

    def one(i):
        try:
            start.wait(timeout)
            work(i)
        except Exception as e:  # collected, reported together
            errors.append(f"client {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    hung = [i for i, t in enumerate(threads) if t.is_alive()]
    if hung:
        errors.append(f"clients {hung} still running after {timeout:.0f} s")
    return errors


def fail_if(errors, label: str) -> None:
    if errors:
        shown = "\n    ".join(sorted(errors)[:10])
        raise AssertionError(f"{label}: {len(errors)} of the clients failed:\n    {shown}")


def test_50_concurrent_clients():
    with rsh_server() as server:
        fds = baseline(server)

        def work(i):
            with closing(server.connect(60)) as sock:
                expect_answer("echo", run_command(sock, f"echo client-{i}"),
                              (f"client-{i}\n".encode(), b"", 0))
                expect_answer("stderr and status", run_command(sock, f"printf 'e{i}' >&2; exit {i}"),
                              (b"", f"e{i}".encode(), i))
                expect_answer("100 kB", run_command(sock, f"yes c{i} | head -c 100000"),
                              (yes_output(f"c{i}", 100000), b"", 0))
                sock.sendall(command_frame(f"echo a{i}") + command_frame(f"echo b{i} >&2"))
                expect_answer("pipelined 1", read_answer(sock), (f"a{i}\n".encode(), b"", 0))
                expect_answer("pipelined 2", read_answer(sock), (b"", f"b{i}\n".encode(), 0))

        fail_if(run_clients(50, work), "50 concurrent clients")
        server.wait_for_baseline(fds)


def test_load_100_clients_mixed_outputs():
    """issue 5's load case: 100 clients at once, each with RSH_LOAD_COMMANDS
    commands (default 100; make sanitize and make valgrind use fewer), mixed
    small and 1 MB outputs on stdout and stderr, half of them pipelined."""
    clients, per_client = 100, int(os.environ.get("RSH_LOAD_COMMANDS", "100"))

    def command(i, n):
        if n % 10 == 9 and i % 4 == 0:
            stream = "" if i % 8 == 0 else " >&2"
            return f"yes big-{i}-{n} | head -c 1000000{stream}", yes_output(f"big-{i}-{n}", 1000000), stream
        if n % 3 == 0:
            return f"echo err-{i}-{n} >&2", f"err-{i}-{n}\n".encode(), " >&2"
        return f"echo out-{i}-{n}", f"out-{i}-{n}\n".encode(), ""

    with rsh_server("--max-clients", "200") as server:
        fds = baseline(server)

        def work(i):
            with closing(server.connect(60)) as sock:
                plan = [command(i, n) for n in range(per_client)]
                if i % 2:
                    sock.sendall(b"".join(command_frame(c) for c, _, _ in plan))
                reader = FrameReader(sock)
                for n, (text, data, stream) in enumerate(plan):
                    if not i % 2:
                        send_command(sock, text)
                    want = (b"", data, 0) if stream else (data, b"", 0)
                    expect_answer(f"command #{n} {text!r}", read_answer(reader), want)

        fail_if(run_clients(clients, work), f"{clients} clients x {per_client} commands")
        server.wait_for_baseline(fds)


def test_1000_connect_disconnect_cycles():
    with rsh_server() as server:
        fds = baseline(server)
        half = command_frame("echo never")[:7]
        for i in range(1000):
            sock = connect(server.port)
            if i % 2:
                sock.sendall(half)  # half of them leave in the middle of a frame
            if i % 4 == 3:
                reset(sock)
            else:
                sock.close()
        server.wait_for_baseline(fds)
        still_serving(server)


def test_max_clients_cap():
    with rsh_server("--max-clients", "3") as server:
        fds = baseline(server)
        admitted = [server.connect() for _ in range(3)]
        for i, sock in enumerate(admitted):
            expect_answer(f"client {i} under the cap", run_command(sock, f"echo in-{i}"),
                          (f"in-{i}\n".encode(), b"", 0))
        with closing(server.connect()) as over:
            expect_error_then_eof(over, "a fourth client with --max-clients 3")
        for i, sock in enumerate(admitted):
            expect_answer(f"client {i} after the refusal", run_command(sock, f"echo again-{i}"),
                          (f"again-{i}\n".encode(), b"", 0))
        admitted.pop().close()

        def a_slot_is_free():  # the close is noticed asynchronously: retry, bounded
            with closing(server.connect()) as sock:
                try:
                    return run_command(sock, "echo freed") == (b"freed\n", b"", 0)
                except ServerError:
                    return False

        assert wait_until(a_slot_is_free, 10, 0.1), \
            "expected a new client to be served once one of the 3 had left; it got '!' for 10 s"
        for sock in admitted:
            sock.close()
        server.wait_for_baseline(fds)


# ---- issue 5: slow, stalled and signalled ----

def test_slowloris_header_dropped_by_frame_deadline():
    """A header trickled one byte per 0.2 s - never idle for long, but the frame
    never completes within --frame-timeout 0.5 - is dropped; meanwhile another
    client is served."""
    with rsh_server("--frame-timeout", "0.5") as server, closing(server.connect()) as other:
        fds = baseline(server, other)
        slow = server.connect()
        stream = command_frame("echo slow-answer")
        got, dropped = b"", None
        for i in range(len(stream)):
            try:
                slow.sendall(stream[i:i + 1])
            except (BrokenPipeError, ConnectionResetError) as e:
                dropped = type(e).__name__
                break
            expect_answer(f"the other client, while byte {i} trickles in", run_command(other, f"echo {i}"),
                          (f"{i}\n".encode(), b"", 0))
            if select.select([slow], [], [], 0.2)[0]:
                try:
                    chunk = slow.recv(65536)
                except ConnectionResetError:
                    dropped = "reset"
                    break
                got += chunk
                if not chunk:
                    dropped = "EOF"
                    break
        slow.close()
        assert dropped and b"slow-answer" not in got, \
            f"expected the server to drop a client whose frame takes {len(stream) * 0.2:.1f} s " \
            f"with --frame-timeout 0.5; it was never dropped (received {got!r})"
        if got:
            try:
                frame = read_frame_from_bytes(got)
            except Exception as e:
                raise AssertionError(f"the dropped client received {got!r}, not one '!' frame: {e}")
            assert frame[0] == ERROR, f"the dropped client received {frame!r}, expected a '!' frame"
        server.wait_for_baseline(fds)


def read_frame_from_bytes(data: bytes):
    a, b = socket.socketpair()
    with closing(a), closing(b):
        a.sendall(data)
        a.shutdown(socket.SHUT_WR)
        frame = read_frame(b)
        if b.recv(1):
            raise AssertionError(f"more than one frame in {data!r}")
        return frame


def test_stalled_reader_keeps_server_memory_bounded():
    """The client stops reading while its command writes up to 1 GB: the server
    must stop reading the pipes (backpressure), not buffer the output. Its
    memory is watched for 3 s; the command must still be there, blocked."""
    limit_kib = 64 * 1024
    with rsh_server() as server:
        fds = baseline(server)
        start_kib = server.rss_kib()  # relative: a sanitizer build starts bigger
        sock = server.connect()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        send_command(sock, "echo $$ >&2; yes 0123456789abcdef | head -c 1000000000")
        pid = None
        for _ in range(100):  # read until the 'E' frame with the pid, then stop reading
            frame = read_frame(sock)
            if frame and frame[0] == STDERR:
                pid = int(frame[1])
                break
        assert pid, "expected an 'E' frame with the shell's pid among the first 100 frames"
        peak, deadline = 0, time.monotonic() + 3
        while time.monotonic() < deadline:
            peak = max(peak, server.rss_kib())
            assert peak - start_kib < limit_kib, \
                f"server memory: expected VmRSS to grow by less than {limit_kib} KiB while a " \
                f"client does not read, it grew from {start_kib} to {peak} KiB"
            time.sleep(0.05)
        assert group_members(pid), "expected the command to be blocked on its full pipe, " \
                                   "still running; it has ended"
        reset(sock)
        expect_group_gone(server, pid, "after the stalled client went away")
        server.wait_for_baseline(fds)
        still_serving(server)


def test_eintr_storm_on_the_server():
    """SIGCHLD (which the server handles) every millisecond or so while more
    than 10 MB of commands go in and 12 MB of output comes out: every byte
    arrives intact. Each signal interrupts whatever system call is running."""
    with rsh_server() as server, closing(server.connect()) as sock:
        assert signal.SIGCHLD in server.caught_signals(), \
            f"expected the server to handle SIGCHLD (SigCgt), it handles {server.caught_signals()}"
        stop = threading.Event()
        sent = [0]

        def storm():
            while not stop.is_set():
                os.kill(server.pid, signal.SIGCHLD)
                sent[0] += 1
                time.sleep(0.001)

        stormer = threading.Thread(target=storm, daemon=True)
        stormer.start()
        try:
            wait_until(lambda: sent[0] >= 10, 10)
            before = sent[0]
            count = 170  # 170 commands of 64 KiB: more than 10 MB in
            commands = []
            for n in range(count):
                text = f"echo {n} #".encode()
                commands.append(command_frame(text + b"x" * (MAX_COMMAND - len(text))))
            big = 12_000_000
            commands.append(command_frame(f"yes storm | head -c {big}"))

            sender = threading.Thread(target=sock.sendall, args=(b"".join(commands),), daemon=True)
            sender.start()  # a thread: the server stops reading while answers are not taken
            reader = FrameReader(sock)
            for n in range(count):
                expect_answer(f"64 KiB command #{n} during the signal storm", read_answer(reader),
                              (f"{n}\n".encode(), b"", 0))
            h, stderr = hashlib.sha256(), bytearray()

            def take(kind, chunk):
                if kind == STDOUT:
                    h.update(chunk)
                else:
                    stderr.extend(chunk)

            _, _, status = read_answer(reader, take)
            want = yes_sha256("storm", big)
            assert (h.hexdigest(), bytes(stderr), status) == (want, b"", 0), \
                f"12 MB during the storm: expected stdout sha256 {want}, no stderr, status 0; " \
                f"got {h.hexdigest()}, stderr {show_bytes(bytes(stderr))}, status {status}"
            during = sent[0] - before
            sender.join(10)
        finally:
            stop.set()
            stormer.join(5)
        assert during >= 10, f"expected a storm of signals during the transfer, only {during} were sent"


# ---- bin/rsh-client, as a user runs it ----

def rsh_client(*args, stdin: bytes = b"", timeout: float = 60.0):
    """Run bin/rsh-client; returns (returncode, stdout, stderr)."""
    if not os.access(CLIENT, os.X_OK):
        raise AssertionError(f"{CLIENT} is missing: run 'make bin/rsh-client'")
    p = subprocess.run([CLIENT, *args], input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def expect_client(label: str, got, want) -> None:
    """got and want are (returncode, stdout, stderr); a want of None is not checked."""
    bad = [name for name, g, w in zip(("exit code", "stdout", "stderr"), got, want)
           if w is not None and g != w]
    if bad:
        raise AssertionError(
            f"rsh-client {label}: {', '.join(bad)} differ\n"
            f"    expected exit {want[0]}, stdout {show_bytes(want[1]) if want[1] is not None else '(any)'}, "
            f"stderr {show_bytes(want[2]) if want[2] is not None else '(any)'}\n"
            f"    got exit {got[0]}, stdout {show_bytes(got[1])}, stderr {show_bytes(got[2])}")


def test_client_stdout_stderr_and_exit_status():
    with rsh_server() as server:
        port = str(server.port)
        expect_client("with binary stdout and stderr",
                      rsh_client("--port", port, f"{PRINTF_ALL_BYTES}; printf 'err\\000\\377' >&2; exit 7"),
                      (7, ALL_BYTES, b"err\x00\xff"))
        expect_client("echo", rsh_client("--port", port, "echo hello"), (0, b"hello\n", b""))
        expect_client("exit 255", rsh_client("--port", port, "exit 255"), (255, b"", b""))
        size = 10_000_000
        code, out, err = rsh_client("--port", port, f"yes client-big | head -c {size}")
        expect_client("10 MB of output", (code, out, err), (0, yes_output("client-big", size), b""))


def test_client_killed_by_signal_exits_128_plus_n():
    with rsh_server() as server:
        port = str(server.port)
        expect_client("'kill -9 $$'", rsh_client("--port", port, "kill -9 $$"), (137, b"", None))
        expect_client("'kill -TERM $$'", rsh_client("--port", port, "echo x; kill -TERM $$"),
                      (143, b"x\n", None))


def test_client_connection_refused_exits_255():
    # A socket bound but not listening: connecting gets RST, and no other test
    # can take the port while it is held.
    with closing(socket.socket()) as holder:
        holder.bind(("127.0.0.1", 0))
        code, out, err = rsh_client("--port", str(holder.getsockname()[1]), "echo hi")
    assert (code, out) == (255, b"") and err.strip(), \
        f"rsh-client against a closed port: expected exit 255, no stdout and a message on " \
        f"stderr; got exit {code}, stdout {out!r}, stderr {err!r}"


def fake_server(reply: bytes):
    """A one-connection server that reads one command frame and sends reply,
    then closes. Returns (port, thread)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)

    def serve():
        with closing(listener):
            conn, _ = listener.accept()
            with closing(conn):
                conn.settimeout(30)
                read_frame(conn, limit=1 << 20)
                conn.sendall(reply)
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(65536):
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return listener.getsockname()[1], t


def test_client_protocol_errors_exit_255():
    cases = [(pack_frame(b"!bad length"), "a '!' frame"),
             (pack_frame(b"Ohello")[:7], "EOF inside a frame"),
             (pack_frame(b"Ohello"), "EOF before the 'X' frame"),
             (pack_frame(b"Zwhat"), "an unknown message type"),
             (HEADER.pack(0xFFFFFFFF) + b"O", "a frame length of 0xFFFFFFFF"),
             (pack_frame(b"X\x00\x00"), "an 'X' frame with a 2-byte status")]
    for reply, label in cases:
        port, t = fake_server(reply)
        code, out, err = rsh_client("--port", str(port), "echo hi")
        t.join(30)
        if code != 255 or not err.strip():
            raise AssertionError(f"rsh-client given {label} ({reply[:16]!r}): expected exit 255 "
                                 f"and a message on stderr; got exit {code}, stdout {out!r}, "
                                 f"stderr {err!r}")


def test_client_pipelines_commands_from_stdin():
    with rsh_server() as server:
        commands = b"".join(f"echo line-{n}\n".encode() for n in range(50))
        commands += b"printf 'no newline'\necho err >&2\necho last\n"
        want = b"".join(f"line-{n}\n".encode() for n in range(50)) + b"no newlinelast\n"
        expect_client("with 53 commands on stdin", rsh_client("--port", str(server.port),
                                                              stdin=commands),
                      (0, want, b"err\n"))


def test_client_demo4_commands():
    """The demo-4 commands sent through rsh-client come back complete, each
    answer its own."""
    lines = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))
    stdin = (b"awk 'BEGIN { for (i = 1; i <= 100; i++) printf \"line %03d of a long output\\n\", i }'\n"
             b"echo hello\necho world\n")
    with rsh_server() as server:
        expect_client("with the demo-4 commands on stdin",
                      rsh_client("--port", str(server.port), stdin=stdin),
                      (0, lines + b"hello\nworld\n", b""))


def test_client_pipelines_without_waiting_for_answers():
    """With stdin not a terminal, the client sends the next commands before the
    first answer: a fake server answers nothing until it has read all three."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)
    seen, problems = [], []

    def serve():
        try:
            with closing(listener):
                conn, _ = listener.accept()
                with closing(conn):
                    conn.settimeout(10)  # a client that waits for answers never sends the rest
                    for _ in range(3):
                        seen.append(read_frame(conn, limit=1 << 20))
                    for kind, text in seen:
                        conn.sendall(pack_frame(b"O" + text[5:] + b"\n") + pack_frame(b"X" + bytes(4)))
                    while conn.recv(65536):
                        pass
        except Exception as e:
            problems.append(f"{type(e).__name__}: {e}")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    code, out, err = rsh_client("--port", str(listener.getsockname()[1]),
                                stdin=b"echo one\necho two\necho three\n")
    t.join(30)
    assert not problems and seen == [(b"C", b"echo one"), (b"C", b"echo two"), (b"C", b"echo three")], \
        f"expected the client to send all 3 commands before reading any answer; the fake " \
        f"server read {seen} and then: {problems}"
    expect_client("against a server that answers after the third command", (code, out, err),
                  (0, b"one\ntwo\nthree\n", b""))


def test_client_pipelining_big_commands_and_outputs_does_not_deadlock():
    """Megabytes of commands one way and of answers the other: a client that
    blocked in send() while the server blocked sending answers would hang."""
    count, size = 60, 500_000
    pad = "x" * 60_000
    stdin = b"".join(f": {pad}; yes line-{n} | head -c {size}\n".encode() for n in range(count))
    with rsh_server() as server:
        code, out, err = rsh_client("--port", str(server.port), stdin=stdin, timeout=60)
    want = b"".join(yes_output(f"line-{n}", size) for n in range(count))
    expect_client(f"with {len(stdin)} bytes of commands and {len(want)} bytes of answers",
                  (code, out, err), (0, want, b""))


def test_client_prompts_only_on_a_terminal():
    master, slave = pty.openpty()
    with rsh_server() as server:
        try:
            p = subprocess.Popen([CLIENT, "--port", str(server.port)], stdin=slave,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            os.close(slave)
            slave = -1
            os.write(master, b"echo on-a-tty\n\x04")  # a line, then ^D: end of input
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                raise AssertionError(f"rsh-client on a terminal did not end after ^D; "
                                     f"stdout {out!r}, stderr {err!r}")
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)
    assert p.returncode == 0 and b"on-a-tty\n" in out and b">>: " in out + err, \
        f"rsh-client with stdin on a terminal: expected the '>>: ' prompt and the answer " \
        f"'on-a-tty'; got exit {p.returncode}, stdout {out!r}, stderr {err!r}"
