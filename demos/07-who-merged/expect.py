# Demo 7, who merged them: what the harness checks. How many segments the
# kernel sends, and so how many recvs a reader needs, may differ between
# kernels: recvs and segments are checked with relations that hold on every
# kernel (rules), never with exact counts. Every byte is checked exactly.
from demolib import run, send, message, frame, rule

TITLE = "who merged them: Nagle, TCP_CORK or the receive buffer? (TCP_NODELAY: still one recv)"
LESSON = ("Nagle, TCP_NODELAY and TCP_CORK change how bytes leave, not how they arrive: the "
          "receive buffer merges them anyway.")

WORDS = [b"hello", b"world", b"how", b"are", b"you"]
MODES = {1: "Nagle on", 2: "TCP_NODELAY", 3: "TCP_CORK", 4: "TCP_NODELAY, paced"}
WRITES = {1: WORDS, 2: WORDS, 3: WORDS, 4: WORDS[:2]}  # conn 4: "hello", then "world"


def writes(o, conn):
    return o.count("client", "send", conn)


def recvs(o, conn):
    return o.count("server", "recv", conn)


def segments(o, conn):
    """TCP segments that carried the conn's bytes (TCP_INFO, resends not counted);
    None where the system does not say."""
    value = o.fact("client", f"conn{conn}.segments")
    return value if isinstance(value, int) else None


def same_bytes(o, conn):
    """The recvs returned exactly the bytes written, in order: nothing lost, added or moved."""
    stream = b"".join(WRITES[conn])
    got = o.calls("server", "recv", conn)
    return (o.total("server", "recv", conn) == len(stream)
            and all(c.matches(stream[c.at:c.at + c.count]) for c in got))


def rules_for(conn):
    mode = f"conn {conn} ({MODES[conn]})"
    return [
        rule(f"{mode}: fewer recvs than writes",
             lambda o: recvs(o, conn) < writes(o, conn)),
        rule(f"{mode}: received == sent, byte for byte",
             lambda o: same_bytes(o, conn)),
        rule(f"{mode}: FIONREAD saw every written byte waiting before the first recv",
             lambda o: o.fact("server", f"conn{conn}.waiting") == o.total("client", "send", conn)),
        rule(f"{mode}: segments <= writes (where TCP_INFO says)",
             lambda o: segments(o, conn) is None or segments(o, conn) <= writes(o, conn)),
    ]


RUNS = [
    run("07-who-merged-server", "07-who-merged-client",
        label="broken: Nagle on, TCP_NODELAY, TCP_CORK - the receiver still gets one stream",
        ignore=["recv"],  # how many recvs: checked by the rules below
        calls=[send("client", i, word, conn=conn)
               for conn in (1, 2, 3, 4) for i, word in enumerate(WRITES[conn], 1)],
        rules=rules_for(1) + rules_for(2) + rules_for(3) + rules_for(4) + [
            rule("conn 4 (TCP_NODELAY, paced): hello had arrived alone (5 bytes waiting) "
                 "before world was written",
                 lambda o: o.fact("server", "conn4.waiting_before_world") == 5),
            rule("conn 4 (TCP_NODELAY, paced): hello and world left as at least 2 segments "
                 "(where TCP_INFO says)",
                 lambda o: segments(o, 4) is None or segments(o, 4) >= 2),
            rule("conn 4 (TCP_NODELAY, paced): one recv returned \"helloworld\"",
                 lambda o: recvs(o, 4) == 1
                 and o.calls("server", "recv", 4)[0].matches(b"helloworld")),
        ]),
    run("07-who-merged-fixed-server", "07-who-merged-fixed-client",
        label="fixed: frames, sent with TCP_NODELAY",
        ignore=["recv"],
        calls=[send("client", i, frame(word)) for i, word in enumerate(WORDS, 1)]
        + [message("server", i, word) for i, word in enumerate(WORDS, 1)],
        rules=[
            rule("fixed: fewer recvs than frames sent (still merged in the receive buffer)",
                 lambda o: recvs(o, 1) < writes(o, 1)),
            rule("fixed: received == sent, byte for byte",
                 lambda o: o.total("server", "recv", 1) == o.total("client", "send", 1)
                 and all(c.matches(b"".join(frame(w) for w in WORDS)[c.at:c.at + c.count])
                         for c in o.calls("server", "recv", 1))),
        ]),
]
