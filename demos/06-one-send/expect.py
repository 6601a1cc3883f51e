# Demo 6, one send, many recvs: what the harness checks.
# How many recvs the 1 MiB takes depends on the kernel and on timing, so recvs
# are not listed one by one; the rules below hold on every kernel.
from demolib import run, send, message, frame, rule

TITLE = "one send, many recvs (拆包): 1 MiB sent at once comes out in pieces"
COMPARE = ["rcvbuf", "recvs"]  # rundemo prints both runs' buffer and recv count side by side
LESSON = ("One send can take many recvs, however big the buffer: recv returns what has "
          "arrived, not what was sent.")

SIZE = 1024 * 1024
DATA = b"".join(b"one send() of 1 MiB: line %05d\n" % i for i in range(1, 32769))
assert len(DATA) == SIZE
FRAME = frame(DATA)


def pieces(o):
    """The recvs that returned bytes (not the final 0 that means EOF)."""
    return [c for c in o.calls("server", "recv") if c.count > 0]


def in_order(o, stream):
    """Each recv returned exactly the next bytes of the stream, and together all of them."""
    got = pieces(o)
    return (all(c.matches(stream[c.at:c.at + c.count]) for c in got)
            and sum(c.count for c in got) == len(stream))


# make demo-6: the third run's recv lines say it all; its picture only under VERBOSE=1
DISPLAY = {"pictures": {3: []}}

RUNS = [
    run("06-one-send-server", "06-one-send-client", label="broken: no boundaries",
        ignore=["recv"], calls=[
            send("client", 1, DATA),  # one send of 1048576 bytes
        ], rules=[
            rule("one send arrived in more than one recv",
                 lambda o: len(pieces(o)) > 1 and o.fact("server", "recvs") == len(pieces(o))),
            rule("every recv asked for 1048576 bytes and returned fewer",
                 lambda o: all(c.asked == SIZE and c.count < SIZE
                               for c in o.calls("server", "recv"))),
            rule("the recvs returned the sent bytes, in order, all of them",
                 lambda o: in_order(o, DATA) and o.fact("server", "bytes") == SIZE),
            rule("the server's summary facts match its recv lines",
                 lambda o: o.fact("server", "largest") == max(c.count for c in pieces(o))
                 and o.fact("server", "asked") == SIZE),
            rule("the receive buffer (SO_RCVBUF) is smaller than the send",
                 lambda o: 0 < o.fact("server", "rcvbuf") < SIZE),
            rule("the last recv returned 0: the client closed",
                 lambda o: o.calls("server", "recv")[-1].count == 0),
        ]),
    run("06-one-send-fixed-server", "06-one-send-fixed-client", label="fixed: length-prefixed frames",
        ignore=["recv"], calls=[
            send("client", 1, FRAME),      # 00 10 00 00, then the same 1 MiB, in one send
            message("server", 1, DATA),    # reassembled: one message, byte for byte
        ], rules=[
            rule("the frame still arrived in more than one recv",
                 lambda o: len(pieces(o)) > 1 and o.fact("server", "recvs") == len(pieces(o))),
            rule("every recv asked for 1048576 bytes and returned fewer",
                 lambda o: all(c.asked == SIZE and c.count < SIZE
                               for c in o.calls("server", "recv"))),
            rule("the recvs returned the frame's bytes, in order, all of them",
                 lambda o: in_order(o, FRAME)),
            rule("exactly one message was delivered",
                 lambda o: o.count("server", "message") == 1),
        ]),
    run("06-one-send-server", "06-one-send-client", label="broken, with the system's own buffer",
        server_args=["--rcvbuf", "0"], ignore=["recv"], calls=[
            send("client", 1, DATA),
        ], rules=[
            # no rule on how many recvs: with a buffer that grows, it may be one
            rule("every recv asked for 1048576 bytes and returned at most that",
                 lambda o: all(c.asked == SIZE and c.count <= SIZE
                               for c in o.calls("server", "recv"))),
            rule("the recvs returned the sent bytes, in order, all of them",
                 lambda o: in_order(o, DATA) and o.fact("server", "bytes") == SIZE),
            rule("the server's summary facts match its recv lines",
                 lambda o: o.fact("server", "recvs") == len(pieces(o))),
            rule("the system's buffer is bigger than the 32 KiB the first run asked for",
                 lambda o: o.fact("server", "rcvbuf") > 65536),
        ]),
]
