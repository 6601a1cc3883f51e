# A student's framed echo server, written after the lesson on sticky packets.
# Every message is a 4-byte big-endian length, then that many bytes. TCP
# keeps no boundaries: one recv() may return part of a message, or the end
# of one and the start of the next. So the server never asks recv() for "a
# message": it reads exactly 4 bytes, then exactly `length` bytes, with a
# loop, and whatever is left stays in the socket for the next message. A
# length it would not buffer (garbage, or a browser's "GET ") ends the
# connection before anything is allocated for it.
# (A correct program for harness/test_grade.py: it must pass every check.
# An optional second argument, SECONDS, keeps it busy that long before each
# echo: a correct server on a slow machine, which must pass too.)
import socket
import struct
import sys
import time

MAX_LENGTH = 16 * 1024 * 1024
SLOW = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0


def busy(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def recv_exactly(conn, n):
    """Exactly n bytes, however many recv() calls they take; None if the
    client closed before all of them came."""
    parts = []
    while n > 0:
        part = conn.recv(min(n, 65536))
        if not part:
            return None
        parts.append(part)
        n -= len(part)
    return b''.join(parts)


def serve(conn):
    while True:
        header = recv_exactly(conn, 4)
        if header is None:
            return                      # the client is done (or died inside a header)
        length = struct.unpack('!I', header)[0]
        if length > MAX_LENGTH:
            print('refused: a message of %d bytes' % length, file=sys.stderr)
            return
        body = recv_exactly(conn, length)
        if body is None:
            print('the client closed inside a message', file=sys.stderr)
            return
        busy(SLOW)
        conn.sendall(struct.pack('!I', len(body)) + body)


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1])))
server.listen(5)

while True:
    conn, addr = server.accept()
    with conn:
        try:
            serve(conn)
        except ConnectionError as e:
            print('client %s:%d: %s' % (addr + (e,)), file=sys.stderr)
