# A student's framed echo server, with the classic bug: one recv(1024) per
# message. It works on localhost, where each send arrives as one recv; two
# frames in one recv lose the second, and a frame cut in two is read short.
# (A deliberately buggy program for harness/test_grade.py.)
import socket
import struct
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1])))
server.listen(5)

while True:
    conn, addr = server.accept()
    while True:
        data = conn.recv(1024)
        if not data:
            break
        length = struct.unpack('!I', data[:4])[0]
        body = data[4:4 + length]
        conn.send(struct.pack('!I', len(body)) + body)
    conn.close()
