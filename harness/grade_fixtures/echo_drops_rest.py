# A student's framed echo server that collects bytes in a buffer until a
# whole message is there: a header cut in two, or a body that takes several
# recv() calls, is handled right - it passes the checks that cut one message
# into pieces. Its bug is subtler: after echoing a message it empties the
# buffer, as if one recv() held at most one message. When a client sends
# several messages at once (pipelining), the bytes after the first message
# of a recv() are thrown away, and the server waits for bytes it already had.
# (A deliberately buggy program for harness/test_grade.py.)
import socket
import struct
import sys

MAX_LENGTH = 16 * 1024 * 1024

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1])))
server.listen(5)

while True:
    conn, addr = server.accept()
    buffer = b''
    while True:
        data = conn.recv(4096)
        if not data:
            break
        buffer += data
        if len(buffer) < 4:
            continue                    # the header is not all here yet
        length = struct.unpack('!I', buffer[:4])[0]
        if length > MAX_LENGTH:
            print('refused: a message of %d bytes' % length, file=sys.stderr)
            break
        if len(buffer) < 4 + length:
            continue                    # the body is not all here yet
        message = buffer[4:4 + length]
        conn.sendall(struct.pack('!I', len(message)) + message)
        buffer = b''                    # this message is done: start the next one afresh
    conn.close()
