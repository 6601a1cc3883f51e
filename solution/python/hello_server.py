"""usage: hello_server.py [PORT] [HOST]   (defaults 8081 127.0.0.1; port 0 picks a free port)
The course's hello/world server (lesson 000, 粘包的产生), fixed: accepts one client and
prints every message (frame) it sends, whole, until it closes."""
import socket
import sys

from frames import recv_frame

if sys.argv[1:2] in (['-h'], ['--help']):
    print(__doc__)
    sys.exit(0)
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once (TIME_WAIT)

phone.bind((HOST, PORT))

phone.listen(5)

# Was: print('starting'). The real address, so that port 0 (a free port) is usable.
print('listening on %s:%d' % phone.getsockname(), flush=True)
conn, caddr = phone.accept()

# Was: cmd1 = conn.recv(1024) ... conn.recv(1) ... conn.recv(1024).
# A recv returns whatever bytes have arrived - part of a message, or two of
# them - so no size passed to recv can find where a message ends. The header
# can: read its 4 bytes, then exactly that many bytes (recv_exact loops).
while True:
    msg = recv_frame(conn, 1024 * 1024)  # refuse absurd lengths before reading
    if msg is None:  # the client closed between two messages: done
        break
    print(msg)

conn.close()

phone.close()
