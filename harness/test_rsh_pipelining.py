"""Pipelined commands and frames split anywhere: the stream has no boundaries.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import select
import time
from contextlib import closing

from rshproto import FrameReader, command_frame, read_answer, rsh_server
from rshtest import expect_answer


def pipelined_commands(count: int) -> None:
    with rsh_server() as server, closing(server.connect()) as sock:
        sock.sendall(b"".join(command_frame(f"echo {n}; exit {n % 256}") for n in range(count)))
        reader = FrameReader(sock)
        for n in range(count):
            expect_answer(f"pipelined command #{n} of {count}", read_answer(reader),
                          (f"{n}\n".encode(), b"", n % 256))


def test_200_pipelined_commands():
    pipelined_commands(200)


def stress_1000_pipelined_commands():
    pipelined_commands(1000)


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
