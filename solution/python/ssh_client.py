"""usage: ssh_client.py [PORT] [HOST] [-- COMMAND...]   (defaults 8081 127.0.0.1)
The course's simulated SSH client (lessons 000/001), fixed. Reads commands from stdin, one a
line (or runs the one after --), prints their output whole, stdout and stderr apart, and
exits with the last command's status, like ssh. Works with bin/rsh-server: the first frame
is the server's token (auth.py), read by port, and sent only to a server on this machine."""
import ipaddress
import socket
import struct
import sys

from auth import read_token
from frames import recv_frame, send_frame

args, once = sys.argv[1:], None
if '--' in args:
    args, once = args[:args.index('--')], ' '.join(args[args.index('--') + 1:])
if args[:1] in (['-h'], ['--help']):
    print(__doc__)
    sys.exit(0)
PORT = int(args[0]) if len(args) > 0 else 8081
HOST = args[1] if len(args) > 1 else '127.0.0.1'


def run(phone, cmd):
    # Was: phone.send(cmd.encode(...)) - send() may send only part, and two
    # commands sent quickly can reach the server in one recv. One frame each.
    send_frame(phone, b'C' + cmd.encode('utf-8'))
    # Was: data = phone.recv(1024) - "1024的坑": the rest of a long answer stayed
    # in the socket and came out as the next command's answer. Now: read frames
    # until the 'X' that ends this answer, however many bytes and recvs it takes.
    while True:
        body = recv_frame(phone, 1024 * 1024 + 1)
        if body is None:
            raise ConnectionError('the server closed the connection before the exit status')
        kind, payload = body[:1], body[1:]
        if kind in (b'O', b'E'):  # stdout and stderr stay apart, bytes as they are
            out = sys.stdout.buffer if kind == b'O' else sys.stderr.buffer
            out.write(payload)
            out.flush()
        elif kind == b'X' and len(payload) == 4:
            status = struct.unpack('!i', payload)[0]
            return status if status >= 0 else 128 - status  # killed by signal N: 128+N, like ssh
        elif kind == b'!':
            print('server error:', payload.decode('utf-8', 'replace'), file=sys.stderr)
            sys.exit(255)
        else:
            raise ValueError('unexpected frame %r' % body[:16])


phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
status = 0
try:
    phone.connect((HOST, PORT))
    # New: prove we are the server's user. Never send a token of this machine elsewhere.
    if ipaddress.ip_address(phone.getpeername()[0]).is_loopback:
        token = read_token(PORT)
        if token is not None:
            send_frame(phone, b'A' + token)
    if once is not None:
        status = run(phone, once)
    while once is None:
        if sys.stdin.isatty():  # the prompt only for a person, and on stderr
            print('>>:', end='', file=sys.stderr, flush=True)
        try:
            cmd = input().strip()
        except EOFError:
            break
        if not cmd:  # was: an empty send, then recv(1024) waiting forever
            continue
        status = run(phone, cmd)
except (OSError, ValueError) as e:  # refused, reset, closed mid-frame, a bad frame
    print('ssh_client.py:', e, file=sys.stderr)
    sys.exit(255)
phone.close()
sys.exit(status)
