"""Slow, stalled and signalled: the server never waits without a bound.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import hashlib
import os
import select
import signal
import socket
import threading
import time
from contextlib import closing

from rshproto import (ERROR, MAX_COMMAND, STDERR, STDOUT, FrameReader, command_frame, group_members,
                      read_answer, read_frame, reset, rsh_server, run_command, send_command,
                      wait_until)
from rshtest import (show_bytes, expect_answer, yes_sha256, baseline, still_serving,
                     expect_group_gone)


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
    memory is watched for 1.5 s (without backpressure `yes` fills 64 MiB in a
    fraction of that); the command must still be there, blocked."""
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
        peak, deadline = 0, time.monotonic() + 1.5
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


def eintr_storm_on_the_server(count: int, big: int) -> None:
    """SIGCHLD (which the server handles) every millisecond or so while count
    commands of 64 KiB go in and big bytes of output come out: every byte
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
            commands = []
            for n in range(count):
                text = f"echo {n} #".encode()
                commands.append(command_frame(text + b"x" * (MAX_COMMAND - len(text))))
            commands.append(command_frame(f"yes storm | head -c {big}"))

            def signal_in_between():
                # a barrier, not a sleep: the transfer waits here (the server
                # blocked mid-transfer) until the storm has sent one more
                # signal, so the storm lands during the transfer even when a
                # loaded machine starves the storm's thread
                mark = sent[0]
                assert wait_until(lambda: sent[0] > mark, 10, 0.001), \
                    "the signal storm stopped sending"

            sender = threading.Thread(target=sock.sendall, args=(b"".join(commands),), daemon=True)
            sender.start()  # a thread: the server stops reading while answers are not taken
            reader = FrameReader(sock)
            for n in range(count):
                signal_in_between()
                expect_answer(f"64 KiB command #{n} during the signal storm", read_answer(reader),
                              (f"{n}\n".encode(), b"", 0))
            h, stderr, taken = hashlib.sha256(), bytearray(), [0]

            def take(kind, chunk):
                if kind == STDOUT:
                    h.update(chunk)
                    taken[0] += len(chunk)
                    if taken[0] // 262144 != (taken[0] - len(chunk)) // 262144:
                        signal_in_between()  # once every 256 KiB of output
                else:
                    stderr.extend(chunk)

            _, _, status = read_answer(reader, take)
            want = yes_sha256("storm", big)
            assert (h.hexdigest(), bytes(stderr), status) == (want, b"", 0), \
                f"{big} bytes during the storm: expected stdout sha256 {want}, no stderr, status 0; " \
                f"got {h.hexdigest()}, stderr {show_bytes(bytes(stderr))}, status {status}"
            during = sent[0] - before
            sender.join(10)
        finally:
            stop.set()
            stormer.join(5)
        assert during >= count, \
            f"expected a signal between every two answers of the transfer, only {during} were sent"


def test_eintr_storm_on_the_server():
    eintr_storm_on_the_server(40, 3_000_000)


def stress_eintr_storm_on_the_server():
    """More than 10 MB in (170 commands of 64 KiB), 12 MB out."""
    eintr_storm_on_the_server(170, 12_000_000)
