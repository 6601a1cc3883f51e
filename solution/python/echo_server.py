"""usage: echo_server.py [PORT] [HOST]   (defaults 8081 127.0.0.1; port 0 picks a free port)
A framed echo server: every frame a client sends comes back as a frame with the same body
(empty ones too). One thread per client, so a client that hangs does not block the others."""
import socket
import sys
import threading

from frames import recv_frame, send_frame

if sys.argv[1:2] in (['-h'], ['--help']):
    print(__doc__)
    sys.exit(0)
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'
LIMIT = 16 * 1024 * 1024  # a longer frame is refused before a byte of it is read or allocated


def serve(conn, addr):
    with conn:
        try:
            while True:
                body = recv_frame(conn, LIMIT)  # the whole message, however many recvs
                if body is None:  # closed between two frames: a clean end
                    return
                send_frame(conn, body)
        except ValueError as e:  # too long: garbage, or not our protocol - close at once
            print('client %s:%d: %s; closing the connection' % (addr + (e,)), file=sys.stderr)
        except OSError as e:  # closed mid-frame, reset
            print('client %s:%d: %s' % (addr + (e,)), file=sys.stderr)


phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
phone.bind((HOST, PORT))
phone.listen(64)
print('listening on %s:%d' % phone.getsockname(), flush=True)
try:
    while True:
        conn, addr = phone.accept()
        threading.Thread(target=serve, args=(conn, addr), daemon=True).start()
except KeyboardInterrupt:
    pass
