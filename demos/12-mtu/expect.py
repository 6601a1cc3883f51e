# Demo 12, a real link's segment size: what the harness checks. How many
# segments and recvs carry the bytes is the kernel's and the scheduler's
# business, so they are checked with relations (rules), never exact counts;
# every byte is checked exactly. Where no network namespace can be made
# (no user namespaces, not Linux), the server says `fact | skipped = ...`
# and the run counts as skipped, never as passed.
from math import ceil

from demolib import run, send, message, frame, rule

TITLE = "a real link's segment size: 1448 bytes a segment over MTU 1500, and recv sees none of it"
LESSON = ("Over a real link TCP cuts every send into segments of at most the MSS (1448 bytes), "
          "and recv still returns whatever has arrived: only a length prefix finds the message.")

MTU = 1500
SIZE = 1024 * 1024
DATA = b"".join(b"[%06d]" % i for i in range(1, SIZE // 8 + 1))          # demo 6's 1 MiB
ANSWER = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))  # demo 4's 2600
BEHIND = 128 * 1024  # each recv waits until this much, or the rest, is in the receive buffer
SENT = {1: ANSWER, 2: DATA}


def got(o, conn):
    """The recvs that returned bytes on conn (not the final 0 that means EOF)."""
    return [c for c in o.calls("server", "recv", conn) if c.count > 0]


def in_order(o, conn, stream):
    """Each recv returned exactly the next bytes of the stream, and together all of them."""
    pieces = got(o, conn)
    return (all(c.matches(stream[c.at:c.at + c.count]) for c in pieces)
            and sum(c.count for c in pieces) == len(stream)
            and o.calls("server", "recv", conn)[-1].count == 0)


def segments_ok(o, conn, stream):
    """No segment carried more than the MSS (so at least bytes / MSS of them), and
    not many more than that: the kernel sends full segments where it can."""
    sent, mss = o.fact("client", f"conn{conn}.segments_sent"), o.fact("client", f"conn{conn}.mss")
    if not isinstance(sent, int):
        return True  # the system does not say (TCP_INFO)
    least = ceil(len(stream) / mss)
    return least <= sent <= least + least // 10 + 2


def rules(stream_of):
    out = [rule("the MSS is at most 1460: MTU 1500 less 40 bytes of IP and TCP headers",
                lambda o: o.fact("client", "conn1.mss") in range(536, MTU - 40 + 1)
                and o.fact("client", "conn2.mss") == o.fact("client", "conn1.mss"))]
    for conn, what in ((1, "the 2600-byte answer"), (2, "the 1 MiB")):
        stream = stream_of(SENT[conn])
        out += [
            rule(f"{what}: segments >= bytes / MSS, and about that many",
                 lambda o, c=conn, s=stream: segments_ok(o, c, s)),
            rule(f"{what}: the server counted every segment sent coming in (a resent one twice)",
                 lambda o, c=conn: o.fact("server", f"conn{c}.segments_received")
                 >= o.fact("client", f"conn{c}.segments_sent")),
            rule(f"{what}: fewer recvs than segments (several segments in one recv)",
                 lambda o, c=conn: len(got(o, c)) < o.fact("client", f"conn{c}.segments_sent")),
            rule(f"{what}: at most {ceil(len(stream) / BEHIND) + 2} recvs, each asked 1048576",
                 lambda o, c=conn, s=stream: len(got(o, c)) <= ceil(len(s) / BEHIND) + 2
                 and all(r.asked == SIZE for r in o.calls("server", "recv", c))),
            rule(f"{what}: received == sent, byte for byte, then EOF",
                 lambda o, c=conn, s=stream: in_order(o, c, s)),
        ]
    return out


# make demo-12: in the fixed run the picture shows the recvs (their lines: VERBOSE=1)
DISPLAY = {"hide_calls": {2: "server"}}

RUNS = [
    run("12-mtu-server", "12-mtu-client", label="broken: one send each, recv(1048576), MTU 1500",
        ignore=["recv"], calls=[
            send("client", 1, ANSWER, conn=1),  # demo 4's answer: one send of 2600 bytes
            send("client", 1, DATA, conn=2),    # demo 6's 1 MiB: one send
        ], rules=rules(lambda data: data)),
    run("12-mtu-fixed-server", "12-mtu-fixed-client", label="fixed: each as one frame, MTU 1500",
        ignore=["recv"], calls=[
            send("client", 1, frame(ANSWER), conn=1),
            message("server", 1, ANSWER, conn=1),  # one whole message per connection
            send("client", 1, frame(DATA), conn=2),
            message("server", 1, DATA, conn=2),
        ], rules=rules(frame) + [
            rule("exactly one message on each connection",
                 lambda o: o.count("server", "message", 1) == 1
                 and o.count("server", "message", 2) == 1),
        ]),
]
