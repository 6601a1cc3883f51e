"""usage: ssh_server.py [PORT] [HOST]   (defaults 8081 127.0.0.1; port 0 picks a free port)
The course's simulated SSH server, fixed; speaks the remote-shell protocol of bin/rsh-client.
It runs what clients send, as you: only for a client that first sends the token it writes
to /tmp/rsh-UID/token-PORT (or $XDG_RUNTIME_DIR/rsh/token-PORT), which only you can read."""
import os
import signal
import socket
import struct
import subprocess
import sys

from auth import make_token, same
from frames import recv_frame, send_frame

if sys.argv[1:2] in (['-h'], ['--help']):
    print(__doc__)
    sys.exit(0)
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'
CHUNK = 1024 * 1024      # at most 1 MiB of output per frame: what a client must accept
MAX_COMMAND = 1 + 65536  # 'C' + the command text


def goodbye(conn, reason):
    # '!' then close. A close() with unread input sends RST, which can destroy the
    # '!' before the client reads it: send FIN (shutdown), then drain what comes.
    print('client error:', reason, file=sys.stderr)
    send_frame(conn, b'!' + reason.encode())
    conn.shutdown(socket.SHUT_WR)
    conn.settimeout(1)
    while conn.recv(65536):
        pass


def serve(conn):
    # New: 127.0.0.1 lets in every user of this machine. The first frame must be the token.
    try:
        first = recv_frame(conn, MAX_COMMAND)
    except ValueError as e:
        return goodbye(conn, str(e))
    if first is None:
        return
    if first[:1] != b'A' or not same(first[1:], TOKEN):
        return goodbye(conn, 'authentication required: the first frame must be A and the '
                             'token in %s' % TOKEN_PATH)
    while True:
        # Was: conn.recv(1024): a long command came in pieces, two quick ones as one.
        try:
            cmd = recv_frame(conn, MAX_COMMAND)
        except ValueError as e:  # a length above the limit: not one of our clients
            return goodbye(conn, str(e))
        if cmd is None:  # the client closed between two commands
            return
        if cmd[:1] != b'C' or b'\0' in cmd:
            return goodbye(conn, 'expected a C frame without NUL bytes, got %r' % cmd[:16])
        # The command's bytes as they came: no decode('utf-8') or ('gbk') to fail.
        obj = subprocess.Popen(cmd[1:], shell=True, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Was: stdout.read() then stderr.read(): a command that fills the stderr pipe
        # (64 KiB) waits for us, we wait for its stdout to end. communicate() reads both.
        stdout, stderr = obj.communicate()
        # Was: conn.send(stdout+stderr): send() may take only part, and the client could
        # not tell where the answer ends. Now: typed frames, each whole, then the status.
        for i in range(0, len(stdout), CHUNK):
            send_frame(conn, b'O' + stdout[i:i + CHUNK])
        for i in range(0, len(stderr), CHUNK):
            send_frame(conn, b'E' + stderr[i:i + CHUNK])
        send_frame(conn, b'X' + struct.pack('!i', obj.returncode))  # -N: killed by signal N


signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))  # kill PID: exit 0, like ^C
phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
phone.bind((HOST, PORT))
phone.listen(5)
TOKEN, TOKEN_PATH = make_token(phone.getsockname()[1])  # before clients can come
print('listening on %s:%d' % phone.getsockname(), flush=True)  # was print('starting')
try:
    while True:  # one client at a time, as in the notes
        conn, client_addr = phone.accept()
        try:
            serve(conn)
        except (ConnectionError, socket.timeout) as e:  # it left mid-frame or mid-answer
            print('client %s:%d: %s' % (client_addr + (e,)), file=sys.stderr)
        conn.close()
except KeyboardInterrupt:  # Ctrl-C
    pass
finally:
    os.unlink(TOKEN_PATH)  # the token is good only while this server runs
