"""The server's log never stops it: a stderr that takes nothing (a terminal
stopped with Ctrl-S, a pipe nobody reads) costs log lines, counted, and no
client waits for it, and every deadline still holds.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import os
import pty
import termios
import threading
from contextlib import closing

from rshproto import connect, rsh_server, run_command, wait_until
from rshtest import expect_answer
from suite import Skipped

DROPPED = b"log lines dropped: stderr was full"


def no_wrapper():
    """Valgrind writes its own warnings to the server's stderr, blocking: under
    a wrapper, a stuck stderr stops the wrapper, not the server."""
    if os.environ.get("RSH_SERVER_WRAPPER"):
        raise Skipped("under RSH_SERVER_WRAPPER (valgrind), whose own stderr writes block")


def serve_while_stderr_is_stuck(server) -> None:
    """With stderr taking nothing: --timeout (3 s) still kills a command, another
    client is served meanwhile, and enough connections come and go to log more
    than the server can keep (its lines are then dropped, and counted)."""
    with closing(server.connect(10)) as a, closing(server.connect(10)) as b:
        out, err, status = run_command(a, "sleep 30")
        assert (out, status) == (b"", -9) and b"timed out" in err, \
            f"--timeout while stderr is stuck: expected the kill (status -9, an 'E' frame " \
            f"saying why), got stdout {out!r}, stderr {err!r}, status {status}"
        expect_answer("another client while stderr is stuck", run_command(b, "echo served"),
                      (b"served\n", b"", 0))
    for _ in range(300):  # two log lines each: more than the server's buffer holds
        connect(server.port, timeout=10).close()
    with closing(server.connect(10)) as c:
        expect_answer("a client after 300 more", run_command(c, "echo still"), (b"still\n", b"", 0))


class Collector:
    """Read fd in a thread until stopped; .data is what came."""

    def __init__(self, fd):
        self.fd, self.data, self.stop = fd, bytearray(), False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # a pty master reads EIO once the last slave is closed
                return
            if not chunk:
                return
            self.data += chunk


def expect_the_count(server, seen: Collector, label: str) -> None:
    """Once stderr takes lines again, a line says how many were dropped (with a
    new line to log too, in case the server is slower to see the room)."""
    connect(server.port, timeout=10).close()  # a new line to log
    if not wait_until(lambda: DROPPED in seen.data, 10):
        raise AssertionError(f"{label}: expected a line '(N {DROPPED.decode()})' once stderr "
                             f"took lines again; it got {bytes(seen.data[-600:])!r}")


def fill(fd: int) -> None:
    """Fill the pipe whose write end is fd, through a second open file description
    of it (/proc/self/fd): non-blocking for this alone, so the server's copy of fd
    stays blocking, as a terminal's is."""
    other = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
    try:
        while True:
            os.write(other, b"x" * 4096)
    except BlockingIOError:
        pass
    finally:
        os.close(other)


def test_a_stderr_pipe_nobody_reads_does_not_stop_the_server():
    no_wrapper()
    if not os.path.isdir("/proc/self/fd"):
        raise Skipped("filling the pipe as the test does needs /proc/self/fd (Linux)")
    r, w = os.pipe()
    try:
        fill(w)
        with rsh_server("--timeout", "3", stderr=w) as server:
            serve_while_stderr_is_stuck(server)
            seen = Collector(r)
            expect_the_count(server, seen, "a pipe read again")
            seen.stop = True
    finally:
        os.close(w)
        os.close(r)


def test_ctrl_s_on_the_server_terminal_does_not_stop_it():
    no_wrapper()
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[0] |= termios.IXON  # ^S stops the terminal's output, ^Q starts it again
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    probe = os.open(os.ttyname(slave), os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        with rsh_server("--timeout", "3", stderr=slave) as server:
            os.write(master, b"\x13")  # Ctrl-S, typed in the server's terminal

            def stopped():
                try:
                    os.write(probe, b".")
                    return False
                except BlockingIOError:
                    return True

            seen = Collector(master)  # what the terminal shows, once it shows it
            assert wait_until(stopped, 10), "the terminal did not stop on ^S"
            serve_while_stderr_is_stuck(server)
            os.write(master, b"\x11")  # Ctrl-Q
            expect_the_count(server, seen, "the terminal after ^Q")
            seen.stop = True
    finally:
        os.close(probe)
        os.close(slave)
        os.close(master)
