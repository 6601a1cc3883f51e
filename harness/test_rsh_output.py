"""Exit codes, signals, and every byte of the output, small and large.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import hashlib
from contextlib import closing

from rshproto import (HEADER, MAX_COMMAND, STDERR, STDOUT, command_frame, pack_frame, read_answer,
                      rsh_server, run_command)
from rshtest import ALL_BYTES, PRINTF_ALL_BYTES, expect_answer, yes_output, yes_sha256


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
