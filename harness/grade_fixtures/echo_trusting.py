# A student's framed echo server that trusts the length in the header: it
# makes a buffer of that size before reading the body. Any 4 bytes - a
# browser's "GET ", or 0x7fffffff - make it allocate up to 4 GiB.
# (A deliberately buggy program for harness/test_grade.py.)
import socket
import struct
import sys


def recv_all(conn, n):
    data = b''
    while len(data) < n:
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
            header = conn.recv(4, socket.MSG_WAITALL)
            if len(header) < 4:
                break
            length = struct.unpack('!I', header)[0]
            body = bytearray(length)          # room for the whole message, at once
            view = memoryview(body)
            got = 0
            while got < length:
                n = conn.recv_into(view[got:])
                if n == 0:
                    raise ConnectionError('closed')
                got += n
            conn.sendall(header + body)
    except ConnectionError as e:
        print('error:', e, file=sys.stderr)
    conn.close()
