# A student's framed echo server that reads the body correctly but the
# header with a single recv(4): when the 4 header bytes come in two pieces,
# struct.unpack gets 2 bytes and the connection dies.
# (A deliberately buggy program for harness/test_grade.py. An optional
# second argument, SECONDS, makes it sleep that long before each recv(): a
# program that wakes late, as on a loaded machine.)
import socket
import struct
import sys
import time

LATE = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0


def recv_all(conn, n):
    data = b''
    while len(data) < n:
        time.sleep(LATE)
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError('closed')
        data += chunk
    return data


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1])))
server.listen(5)

while True:
    conn, addr = server.accept()
    try:
        while True:
            time.sleep(LATE)
            header = conn.recv(4)
            if not header:
                break
            length = struct.unpack('!I', header)[0]
            body = recv_all(conn, length)
            conn.sendall(struct.pack('!I', length) + body)
    except (struct.error, ConnectionError) as e:
        print('error:', e, file=sys.stderr)
    conn.close()
