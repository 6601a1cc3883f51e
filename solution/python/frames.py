"""frames - the fix in three functions: a 4-byte length before every message.

TCP delivers a stream of bytes, not messages: one recv() may return two sends
glued together (粘包) or part of one (拆包). So the sender says how long each
message is, and the receiver reads exactly that many bytes, however many
recv() calls it takes.
"""
import struct

# u32, big-endian ("network order"): the same 4 bytes on every machine, unlike
# the notes' struct.pack('i'), whose size and byte order are the host's.
HEADER = struct.Struct('!I')


def send_frame(sock, body):
    # sendall, not send: send() may take only part of a buffer (it returns the
    # count); sendall() loops until all of it is in the kernel. And header + body
    # in ONE call: a small header sent alone can wait for the peer's delayed ACK
    # (Nagle), tens of ms per message - as the notes' three sends do.
    sock.sendall(HEADER.pack(len(body)) + body)


def recv_exact(sock, n):
    # recv(n) returns whatever has arrived, from 1 to n bytes: loop until all n are here.
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise ConnectionError(f'the peer closed the connection inside a frame '
                                  f'({len(buf)} of {n} bytes received)')
        buf += chunk
    return bytes(buf)


def recv_frame(sock, limit):
    """The next message's body; None if the peer closed between two frames."""
    first = sock.recv(HEADER.size)
    if not first:
        return None  # EOF at a frame boundary: a clean end
    (length,) = HEADER.unpack(first + recv_exact(sock, HEADER.size - len(first)))
    # Check before reading (and before allocating): a wrong header - garbage,
    # or another protocol talking to this port - must not make us wait for 4 GB.
    if length > limit:
        raise ValueError(f'frame length {length} is above the limit of {limit}')
    return recv_exact(sock, length)
