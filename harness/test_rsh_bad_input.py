"""Bad input: one '!' frame, then EOF - and nobody else notices.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import socket
import threading
import time
from contextlib import closing

from rshproto import (HEADER, MAX_COMMAND, command_frame, pack_frame, read_answer, read_frame,
                      reset, rsh_server, run_command, send_command)
from rshtest import baseline, expect_answer, expect_error_then_eof, still_serving


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
