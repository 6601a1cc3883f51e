"""usage: hello_client.py [PORT] [HOST]   (defaults 8081 127.0.0.1)
The course's hello/world client (lesson 000, 粘包的产生), fixed: sends "hello" and "world"
as two length-prefixed frames, then closes."""
import socket
import sys

from frames import send_frame

if sys.argv[1:2] in (['-h'], ['--help']):
    print(__doc__)
    sys.exit(0)
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

phone.connect((HOST, PORT))
# Was: phone.send('hello'.encode('utf-8')); phone.send('world'.encode('utf-8'))
# TCP keeps no boundary between two sends: the receiver may get "helloworld" in
# one recv, or "h" then "elloworld". Nagle is not the cause and TCP_NODELAY not
# the cure - the bytes also merge in the receiver's buffer. So each message
# carries its length (4 bytes, big-endian), and the reader counts.
send_frame(phone, 'hello'.encode('utf-8'))
send_frame(phone, 'world'.encode('utf-8'))

# The notes' second half (send, time.sleep(5), send) is gone: a pause is not a
# boundary either (a reader slower than the pause still gets both at once),
# and with frames the timing no longer matters.

phone.close()
