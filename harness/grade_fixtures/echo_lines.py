# A student's echo server that thinks a message ends with a newline: it
# reads until '\n' before echoing. Frames carry no newline, so it waits for
# ever - the grader must report it as hanging, within the step deadline.
# (A deliberately buggy program for harness/test_grade.py.)
import socket
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', int(sys.argv[1])))
server.listen(5)

while True:
    conn, addr = server.accept()
    data = b''
    while b'\n' not in data:
        chunk = conn.recv(1024)
        if not chunk:
            break
        data += chunk
    conn.sendall(data)
    conn.close()
