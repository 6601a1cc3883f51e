# A student's framed echo client: it frames what it sends correctly, but
# reads each echo with one recv(1024). Two echoes in one recv come out as
# one line, header bytes and all.
# (A deliberately buggy program for harness/test_grade.py.)
import socket
import struct
import sys

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect(('127.0.0.1', int(sys.argv[1])))

for line in sys.stdin.buffer:
    msg = line.rstrip(b'\n')
    client.sendall(struct.pack('!I', len(msg)) + msg)
    data = client.recv(1024)
    length = struct.unpack('!I', data[:4])[0]
    sys.stdout.buffer.write(data[4:] + b'\n')
    sys.stdout.buffer.flush()
client.close()
