"""rshtest - what the remote-shell tests (test_rsh_*.py) share: checks that
say exactly what differed, expected outputs, and the server's state before
and after a test. Not a test file itself.
"""
import hashlib
from contextlib import closing

from rshproto import (ERROR, STDERR, STDOUT, group_members, proc_stat, read_frame, run_command,
                      wait_until)


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


ALL_BYTES = bytes(range(256))


PRINTF_ALL_BYTES = "printf '" + "".join(f"\\{b:03o}" for b in range(256)) + "'"


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
