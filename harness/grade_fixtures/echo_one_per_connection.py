# A student's framed echo server that reads a whole frame correctly, echoes
# it, and then goes back to accept() for the next client: one message per
# connection. A second message on the same connection is never read.
# (A deliberately buggy program for harness/test_grade.py.)
import socket
import struct
import sys


def recv_all(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1])))
server.listen(5)
clients = []
while True:
    conn, addr = server.accept()
    clients.append(conn)  # kept open: the bug is not reading it, not closing it
    header = recv_all(conn, 4)
    if header is None:
        continue
    body = recv_all(conn, struct.unpack('!I', header)[0])
    if body is not None:
        conn.sendall(header + body)
