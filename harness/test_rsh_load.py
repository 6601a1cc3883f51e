"""Many clients at once, the connection cap, and connect/disconnect cycles.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import threading
from contextlib import closing

from rshproto import (FrameReader, ServerError, command_frame, connect, read_answer, reset,
                      rsh_server, run_command, send_command, wait_until)
from rshtest import baseline, expect_answer, expect_error_then_eof, still_serving, yes_output


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


def concurrent_clients(clients: int) -> None:
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

        fail_if(run_clients(clients, work), f"{clients} concurrent clients")
        server.wait_for_baseline(fds)


def test_20_concurrent_clients():
    concurrent_clients(20)


def stress_50_concurrent_clients():
    concurrent_clients(50)


def load_mixed_outputs(clients: int, per_client: int) -> None:
    """clients at once, each with per_client commands: mixed small and 1 MB
    outputs on stdout and stderr (one command in ten, for one client in four),
    half of the clients pipelining all their commands at once."""

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


def test_load_20_clients_mixed_outputs():
    load_mixed_outputs(20, 10)


def stress_load_100_clients_mixed_outputs():
    """The remote shell's load requirement: 100 clients at once x 100 commands."""
    load_mixed_outputs(100, 100)


def connect_disconnect_cycles(cycles: int) -> None:
    with rsh_server() as server:
        fds = baseline(server)
        half = command_frame("echo never")[:7]
        for i in range(cycles):
            sock = connect(server.port)
            if i % 2:
                sock.sendall(half)  # half of them leave in the middle of a frame
            if i % 4 == 3:
                reset(sock)
            else:
                sock.close()
        server.wait_for_baseline(fds)
        still_serving(server)


def test_200_connect_disconnect_cycles():
    connect_disconnect_cycles(200)


def stress_1000_connect_disconnect_cycles():
    connect_disconnect_cycles(1000)


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
