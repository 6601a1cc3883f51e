"""bin/rsh-client, as a user runs it.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import os
import pty
import socket
import subprocess
import threading
from contextlib import closing

from rshproto import BIN, HEADER, pack_frame, read_frame, rsh_server, run_command, wait_until
from rshtest import ALL_BYTES, PRINTF_ALL_BYTES, expect_answer, show_bytes, yes_output

CLIENT = str(BIN / "rsh-client")


# For the fake servers below, which want no token: rsh-client finds none here (a
# token file left by a killed server that had the same port would go first).
NO_TOKEN = {**os.environ, "XDG_RUNTIME_DIR": "/nonexistent-rsh-test-dir"}


def rsh_client(*args, stdin: bytes = b"", timeout: float = 60.0, env=None):
    """Run bin/rsh-client; returns (returncode, stdout, stderr)."""
    if not os.access(CLIENT, os.X_OK):
        raise AssertionError(f"{CLIENT} is missing: run 'make bin/rsh-client'")
    p = subprocess.run([CLIENT, *args], input=stdin, capture_output=True, timeout=timeout, env=env)
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
        code, out, err = rsh_client("--port", str(holder.getsockname()[1]), "echo hi", env=NO_TOKEN)
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
        code, out, err = rsh_client("--port", str(port), "echo hi", env=NO_TOKEN)
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
                                stdin=b"echo one\necho two\necho three\n", env=NO_TOKEN)
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


def test_client_with_a_closed_std_fd_never_writes_into_the_socket():
    """Started with fd 0, 1 or 2 closed, the client must not take it for the
    socket: its output would go to the server as a "command"."""
    # valgrind (make valgrind runs the client under it) will not start without fd 2
    fds = (0, 1) if os.environ.get("RSH_SERVER_WRAPPER") else (0, 1, 2)
    with rsh_server() as server:
        for fd in fds:
            shell = f'exec "$0" "$@" {fd}>&-'
            p = subprocess.run(["sh", "-c", shell, CLIENT, "--port", str(server.port),
                                "echo out; echo err >&2"], capture_output=True, timeout=30)
            want_out = b"" if fd == 1 else b"out\n"
            want_err = b"" if fd == 2 else b"err\n"
            expect_client(f"with fd {fd} closed", (p.returncode, p.stdout, p.stderr),
                          (0, want_out, want_err))
        code, out, err = rsh_client("--port", str(server.port), "echo after")
        expect_client("after them", (code, out, err), (0, b"after\n", b""))
        log = server.stderr_text()
        assert "protocol error" not in log, f"the server saw bytes that were not frames:\n{log}"


def test_client_skips_an_over_long_line_and_goes_on():
    """A line over the 65536-byte limit: said so, skipped; the command already
    running is not killed, and the next lines run."""
    long_line = b"echo " + b"x" * 70000
    with rsh_server() as server:
        port = str(server.port)
        stdin = b"sleep 0.3; echo first\n" + long_line + b"\necho last\n"
        code, out, err = rsh_client("--port", port, stdin=stdin)
        assert (code, out) == (0, b"first\nlast\n") and b"line 2 is longer than 65536" in err, \
            f"expected 'first' and 'last', exit 0 and a note about line 2; got exit {code}, " \
            f"stdout {out!r}, stderr {err!r}"
        code, out, err = rsh_client("--port", port, stdin=b"echo a\n" + long_line)
        assert (code, out) == (255, b"a\n") and b"line 2 is longer" in err, \
            f"the last line too long: expected 'a' and exit 255; got exit {code}, stdout {out!r}, " \
            f"stderr {err!r}"


def test_client_says_server_busy():
    """While 20 connections over --max-clients 1 are being turned away, 10 more
    clients: each prints the server's "server busy" and exits 255 (none sees
    the connection closed or reset without a reason)."""
    with rsh_server("--max-clients", "1") as server, closing(server.connect(10)) as held:
        expect_answer("the client under the cap", run_command(held, "true"), (b"", b"", 0))
        crowd = [server.connect(10) for _ in range(20)]
        try:
            procs = [subprocess.Popen([CLIENT, "--port", str(server.port), "echo over"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for _ in range(10)]
            for i, p in enumerate(procs):
                out, err = p.communicate(timeout=30)
                assert (p.returncode, out) == (255, b"") and b"server busy" in err, \
                    f"client {i} over the cap: expected exit 255 and 'server busy'; got exit " \
                    f"{p.returncode}, stdout {out!r}, stderr {err!r}"
        finally:
            for sock in crowd:
                sock.close()


def test_client_prints_why_the_server_cut_its_answer():
    """A reader too slow for --timeout 1: the client prints the server's reason
    (not "closed in the middle of a frame") and exits 255."""
    with rsh_server("--timeout", "1") as server:
        p = subprocess.Popen([CLIENT, "--port", str(server.port), "seq 1 3000000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:  # nobody reads its stdout until the server has given up on it
            assert wait_until(lambda: "too slow" in server.stderr_text(), 20), \
                "the server never gave up on a client that read nothing for 20 s"
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        want = b"".join(b"%d\n" % i for i in range(1, 3000001))
        assert p.returncode == 255 and b"too slow" in err and b"middle of a frame" not in err \
            and want.startswith(out) and out, \
            f"expected a prefix of the output, the reason and exit 255; got exit {p.returncode}, " \
            f"stdout {show_bytes(out)}, stderr {err!r}"
