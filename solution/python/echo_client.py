"""usage: echo_client.py [PORT] [HOST]   (defaults 8081 127.0.0.1)
Sends each line of stdin (without its newline; an empty line is an empty message) as a frame,
prints each echo followed by a newline, in order, and exits 0 once every echo is back."""
import queue
import socket
import sys
import threading

from frames import recv_frame, send_frame

if sys.argv[1:2] in (['-h'], ['--help']):
    print(__doc__)
    sys.exit(0)
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'
sent = queue.Queue()  # one item per message sent, then None (all sent) or the error


def send_lines(sock):
    # A thread of its own: a client that sent everything before reading could
    # deadlock - the server blocks sending echoes we do not read yet, so it stops
    # reading, so our sends block too. Reading while sending avoids that.
    try:
        for line in sys.stdin.buffer:
            send_frame(sock, line[:-1] if line.endswith(b'\n') else line)
            sent.put(True)
        sent.put(None)
    except OSError as e:
        sent.put(e)


phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    phone.connect((HOST, PORT))
    threading.Thread(target=send_lines, args=(phone,), daemon=True).start()
    while True:
        item = sent.get()
        if item is None:
            break
        if isinstance(item, Exception):
            raise item
        echo = recv_frame(phone, 16 * 1024 * 1024)
        if echo is None:
            raise ConnectionError('the server closed the connection before echoing everything')
        sys.stdout.buffer.write(echo + b'\n')
        sys.stdout.buffer.flush()
except (OSError, ValueError) as e:
    print('echo_client.py:', e, file=sys.stderr)
    sys.exit(1)
phone.close()
