"""How answers and connections end: background jobs, a client too slow, a
client that half-closes, the server's own signals, and the address it listens on.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import errno
import os
import shutil
import signal
import socket
import sys
import tempfile
from contextlib import closing

from rshproto import (ERROR, STDOUT, FrameReader, command_frame, connect, proc_stat, read_answer,
                      read_frame, rsh_server, run_command, send_command, wait_until)
from rshtest import (baseline, expect_answer, expect_group_gone, read_pid_frame, still_serving,
                     show_bytes)
from suite import Skipped


def gone(pid: int) -> bool:
    """The process has ended (a zombie waiting for init to reap it has ended)."""
    st = proc_stat(pid)
    return st is None or st[0] == "Z"


def test_background_jobs_do_not_hold_the_answer():
    with rsh_server() as server, closing(server.connect(10)) as sock:
        # A job that keeps the output open: the shell's status at once the
        # --linger time (2 s) is over, a note why, and the job killed.
        out, err, status = run_command(sock, "echo started; sleep 30 & echo $! >&2; exit 7")
        job = int(err.split(b"\n")[0])
        assert (out, status) == (b"started\n", 7) and b"background jobs" in err, \
            f"'echo started; sleep 30 &; exit 7': expected stdout 'started', status 7 (the " \
            f"shell's), an 'E' note about background jobs; got {out!r}, {err!r}, {status}"
        assert wait_until(lambda: gone(job), 10), f"the background job {job} still runs"
        # A job that lets go of the output runs on, and the answer does not wait.
        out, err, status = run_command(sock, "sleep 30 >/dev/null 2>&1 & echo $!")
        job = int(out)
        try:
            assert (err, status) == (b"", 0) and not gone(job), \
                f"a job with its output redirected: expected no note, status 0 and the job " \
                f"running; got {err!r}, {status}, job {proc_stat(job)}"
        finally:
            os.kill(job, signal.SIGKILL)


def write_to_fifo(fifo: str, data: bytes) -> None:
    """Write data to a FIFO once its reader has opened it (until then an open
    for writing that does not wait fails with ENXIO)."""
    fd = [-1]

    def opened():
        try:
            fd[0] = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            return True
        except OSError as e:
            if e.errno != errno.ENXIO:
                raise
            return False

    assert wait_until(opened, 10), f"nobody opened {fifo} for reading within 10 s"
    try:
        os.write(fd[0], data)
    finally:
        os.close(fd[0])


def test_a_job_that_ends_within_linger_gives_all_its_output():
    """A background job still holds the output when the shell exits: the answer
    waits for it (--linger), with all of its output and no note. The job
    writes only once the shell's own output has arrived (it waits on a FIFO the
    test writes then), whatever the machine's load."""
    fifo_dir = tempfile.mkdtemp(prefix="rsh-test-")
    fifo = os.path.join(fifo_dir, "go")
    os.mkfifo(fifo)
    try:
        with rsh_server("--linger", "30") as server, closing(server.connect(10)) as sock:
            send_command(sock, f"(read go < {fifo}; echo late) & echo early")
            out, err = bytearray(), bytearray()

            def take(kind, chunk):
                (out if kind == STDOUT else err).extend(chunk)
                if kind == STDOUT and out == b"early\n":
                    write_to_fifo(fifo, b"go\n")

            _, _, status = read_answer(sock, take)
            expect_answer("a job that ends within --linger", (bytes(out), bytes(err), status),
                          (b"early\nlate\n", b"", 0))
    finally:
        shutil.rmtree(fifo_dir, ignore_errors=True)


def test_a_client_too_slow_is_told_why_at_a_frame_boundary():
    """It stops reading for longer than --timeout: when it reads again it gets
    whole frames, then a '!' frame saying why - never half a frame."""
    with rsh_server("--timeout", "1") as server:
        sock = server.connect(30)
        send_command(sock, "seq 1 3000000")
        if not wait_until(lambda: "too slow" in server.stderr_text(), 20):
            raise AssertionError("the server never dropped a client that read nothing for 20 s")
        reader, out, last = FrameReader(sock), bytearray(), None
        while True:
            frame = reader.read_frame()  # Truncated if it ends inside a frame
            if frame is None:
                break
            last = frame
            if frame[0] == STDOUT:
                out += frame[1]
            elif frame[0] != ERROR:
                raise AssertionError(f"expected 'O' frames, then '!'; got {frame!r}")
        sock.close()
        want = b"".join(b"%d\n" % i for i in range(1, 3000001))
        assert last and last[0] == ERROR and b"too slow" in last[1] and want.startswith(out), \
            f"expected a prefix of the output in whole frames, then one '!' about the client " \
            f"being too slow, then EOF; got {show_bytes(bytes(out))}, then {last!r}"
        still_serving(server)


def test_a_half_closed_client_gets_every_answer():
    """shutdown(SHUT_WR) after the last command: every answer still comes. A
    client that closes altogether is still found gone at once, and its silent
    command killed."""
    with rsh_server() as server:
        fds = baseline(server)
        with closing(server.connect(10)) as sock:
            sock.sendall(command_frame("echo one") + command_frame("sleep 0.5; echo two") +
                         command_frame("exit 3"))
            sock.shutdown(socket.SHUT_WR)
            reader = FrameReader(sock)
            for n, want in enumerate([(b"one\n", b"", 0), (b"two\n", b"", 0), (b"", b"", 3)]):
                expect_answer(f"answer {n + 1} after the half-close", read_answer(reader), want)
            assert reader.read_frame() is None, "expected EOF after the last answer"
        sock = server.connect(10)
        send_command(sock, "echo $$; exec sleep 30")
        pid = read_pid_frame(sock)
        sock.shutdown(socket.SHUT_WR)
        assert wait_until(lambda: "half-closed" in server.stderr_text(), 10)
        sock.close()  # now gone for good: the server finds out at its next probe
        expect_group_gone(server, pid, "after the half-closed client closed")
        server.wait_for_baseline(fds)
        still_serving(server)


def check_stop_signal(sig) -> None:
    with rsh_server(stops_itself=True) as server, closing(server.connect(10)) as sock:
        send_command(sock, "echo $$; exec sleep 30")
        pid = read_pid_frame(sock)
        token = server.token_path()
        os.kill(server.pid, sig)
        code = server.proc.wait(10)
        assert code == 0 and f"caught signal {int(sig)}" in server.stderr_text(), \
            f"{sig.name}: expected the server to stop cleanly (exit 0), got {code}"
        frame = read_frame(sock)
        assert frame and frame[0] == ERROR and b"server stopping" in frame[1], \
            f"{sig.name}: expected a '!' frame saying the server stops, got {frame!r}"
        assert wait_until(lambda: gone(pid), 10), f"{sig.name}: the command {pid} outlived the server"
        assert not os.path.exists(token), f"{sig.name}: the token file {token} is still there"


def test_sighup_and_sigquit_stop_the_server_cleanly():
    check_stop_signal(signal.SIGHUP)
    check_stop_signal(signal.SIGQUIT)


def test_a_server_killed_with_sigkill_takes_its_shells_along():
    if not sys.platform.startswith("linux"):
        raise Skipped("PR_SET_PDEATHSIG is Linux's: elsewhere the shells outlive a SIGKILLed server")
    with rsh_server(stops_itself=True) as server, closing(server.connect(10)) as sock:
        send_command(sock, "echo $$; exec sleep 30")
        pid = read_pid_frame(sock)
        token = server.token_path()
        os.kill(server.pid, signal.SIGKILL)
        server.proc.wait(10)
        try:
            assert wait_until(lambda: gone(pid), 10), f"the shell {pid} outlived its server"
        finally:
            if os.path.exists(token):
                os.unlink(token)  # a SIGKILLed server cannot take its token away


def test_ipv4_mapped_loopback_is_loopback():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::ffff:127.0.0.1", 0))
    except OSError as e:
        raise Skipped(f"cannot bind ::ffff:127.0.0.1 here: {e}")
    with rsh_server("--host", "::ffff:127.0.0.1") as server:
        assert "warning" not in server.stderr_text().lower(), \
            f"::ffff:127.0.0.1 is loopback: expected no warning, got {server.stderr_text()!r}"
        with closing(connect(server.port, "127.0.0.1", 10)) as sock:
            expect_answer("a client on 127.0.0.1", run_command(sock, "echo mapped"),
                          (b"mapped\n", b"", 0))
