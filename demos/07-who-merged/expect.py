# Demo 7, who merged them: what the harness checks. How many segments the
# kernel sends may differ between kernels on conns 1-4: there, recvs and
# segments are checked with relations that hold on every kernel, never with
# exact counts. On conns 5 and 6 the client arranges the case (the server
# delays its ACK of "hi") and measures that it held (12 bytes unACKed after
# "world"), so the counts there are exact: Nagle held hello and world (10
# bytes) and sent them as 1 segment; with TCP_NODELAY, 0 bytes held and 2
# segments. Where the system cannot say (not Linux), a fact reads "not
# available on this system" and its rule accepts that. Every byte is checked
# exactly.
#
# If the ACK of "hi" came first anyway (a loaded machine), the client tried
# again on a fresh connection (up to TRIES times), which took the next number:
# the ACK-delayed rows are found by their facts (connN.nagle_held, connN.nodelay_held),
# and the sends are checked by rules, connection by connection.
import re

from demolib import run, send, message, frame, rule

TITLE = "who merged them: Nagle, TCP_CORK or the receive buffer? (TCP_NODELAY: still one recv)"
LESSON = ("Nagle merges small writes while an ACK is outstanding, TCP_CORK until uncorked, "
          "TCP_NODELAY turns Nagle off - and the receive buffer merges the bytes anyway.")
# make demo-7 leads with the table: the per-connection narration, the send
# and recv lines and the [sync] lines are details (VERBOSE=1); two pictures
DISPLAY = {"hide_calls": True, "hide_lines": [r"^client: conn \d+: "], "pictures": {1: [4, 5]}}

WORDS = [b"hello", b"world", b"how", b"are", b"you"]
AFTER_HI = [b"hi", b"hello", b"world"]  # conns 5 and 6: "hi", then hello and world
MODES = {1: "Nagle on", 2: "TCP_NODELAY", 3: "TCP_CORK", 4: "TCP_NODELAY, paced"}
WRITES = {1: WORDS, 2: WORDS, 3: WORDS, 4: WORDS[:2]}  # conn 4: "hello", then "world"
TRIES = 10  # as in words.h
ROWS = {"nagle_held": "Nagle on, ACK delayed", "nodelay_held": "TCP_NODELAY, ACK delayed"}


def writes(o, conn):
    return o.count("client", "send", conn)


def recvs(o, conn):
    return o.count("server", "recv", conn)


def measured(o, conn, name):
    """A number the client measured on conn (TCP_INFO, SIOCOUTQ, SIOCOUTQNSD); None
    where the system does not say. A missing fact line fails the rule."""
    value = o.fact("client", f"conn{conn}.{name}")
    return value if isinstance(value, int) else None


def segments(o, conn):
    """TCP segments that carried the conn's bytes (TCP_INFO, resends not counted)."""
    return measured(o, conn, "segments")


def tries(o, held):
    """The conns of one ACK-delayed row, in order: each try prints connN.<held>."""
    found = (re.fullmatch(rf"conn(\d+)\.{held}", name) for side, name in o.all_facts
             if side == "client")
    return sorted(int(m.group(1)) for m in found if m)


def row_conn(o, held):
    """The try that the table shows: the row's last."""
    return tries(o, held)[-1]


def stream_of(conn_writes):
    return b"".join(conn_writes)


def sent_exactly(o, conn, conn_writes):
    """The client's sends on conn were exactly these writes, in order."""
    got = o.calls("client", "send", conn)
    return (len(got) == len(conn_writes)
            and all(c.num == i and c.matches(w)
                    for i, (c, w) in enumerate(zip(got, conn_writes), 1)))


def same_bytes(o, conn, conn_writes):
    """The recvs returned exactly the bytes written, in order: nothing lost, added or moved."""
    stream = stream_of(conn_writes)
    got = o.calls("server", "recv", conn)
    return (o.total("server", "recv", conn) == len(stream)
            and all(c.matches(stream[c.at:c.at + c.count]) for c in got))


def rules_for(conn):
    mode = f"conn {conn} ({MODES[conn]})"
    return [
        rule(f"{mode}: the client wrote {b' '.join(WRITES[conn]).decode()}, one send each",
             lambda o: sent_exactly(o, conn, WRITES[conn])),
        rule(f"{mode}: fewer recvs than writes",
             lambda o: recvs(o, conn) < writes(o, conn)),
        rule(f"{mode}: received == sent, byte for byte",
             lambda o: same_bytes(o, conn, WRITES[conn])),
        rule(f"{mode}: FIONREAD saw every written byte waiting before the first recv",
             lambda o: o.fact("server", f"conn{conn}.waiting") == o.total("client", "send", conn)),
        rule(f"{mode}: segments <= writes (where TCP_INFO says)",
             lambda o: segments(o, conn) is None or segments(o, conn) <= writes(o, conn)),
    ]


def arranged(o, conn, held):
    """On this try the ACK of "hi" was outstanding when world was written: all 12
    bytes unACKed (and, with Nagle, hello and world unsent), or the system cannot say."""
    unacked, kept = measured(o, conn, "unacked"), measured(o, conn, held)
    if unacked is None:
        return True
    return unacked == 12 and (held != "nagle_held" or kept == 10)


def tries_rules():
    def numbered(o):
        nagle, nodelay = tries(o, "nagle_held"), tries(o, "nodelay_held")
        sent_on = {c.conn for c in o.calls("client", "send")}
        return (1 <= len(nagle) <= TRIES and 1 <= len(nodelay) <= TRIES
                and nagle + nodelay == list(range(5, 5 + len(nagle) + len(nodelay)))
                and sent_on == {1, 2, 3, 4, *nagle, *nodelay})

    def retried_only_when_needed(o):
        return all(not arranged(o, c, held) for held in ROWS for c in tries(o, held)[:-1])

    def every_try_one_stream(o):
        return all(sent_exactly(o, c, AFTER_HI) and same_bytes(o, c, AFTER_HI)
                   and recvs(o, c) == 1 and o.fact("server", f"conn{c}.waiting") == 12
                   for held in ROWS for c in tries(o, held))

    return [
        rule(f"conns 5 and 6 (ACK delayed): 1 to {TRIES} tries each, the Nagle row's first, "
             "numbered from conn 5 on", numbered),
        rule("conns 5 and 6 (ACK delayed): the client tried again only when the ACK of hi "
             "had come before world was written", retried_only_when_needed),
        rule("conns 5 and 6 (ACK delayed), every try: the client wrote hi, hello, world; "
             "FIONREAD saw all 12 bytes; one recv returned \"hihelloworld\"", every_try_one_stream),
    ]


def row_rules(held, unsent, hello_world_segments):
    row = f"conn {5 if held == 'nagle_held' else 6} ({ROWS[held]}; or its last retry)"

    def value(o, name):
        return measured(o, row_conn(o, held), name)

    def hi_alone(o):
        total, after_hi = value(o, "segments"), value(o, "segs_after_hi")
        return total is None or after_hi is None or total == 1 + after_hi

    return [
        rule(f"{row}: all 12 bytes still unACKed right after world, the ACK of hi outstanding "
             "(SIOCOUTQ, where available)",
             lambda o: value(o, "unacked") in (None, 12)),
        rule(f"{row}: {unsent} bytes not yet sent right after world (SIOCOUTQNSD, "
             "where available)",
             lambda o: value(o, held) in (None, unsent)),
        rule(f"{row}: hello and world left as {hello_world_segments} segment"
             f"{'s' if hello_world_segments > 1 else ''} (TCP_INFO, where available)",
             lambda o: value(o, "segs_after_hi") in (None, hello_world_segments)),
        rule(f"{row}: hi left alone, in 1 segment, before hello was written (TCP_INFO)",
             hi_alone),
    ]


WARM_ROW = rule(
    "conn 5 (Nagle on, ACK delayed, a connection that has exchanged data): fewer segments "
    "than writes (where TCP_INFO says)",
    lambda o: segments(o, row_conn(o, "nagle_held")) is None
    or segments(o, row_conn(o, "nagle_held")) < writes(o, row_conn(o, "nagle_held")))

RUNS = [
    run("07-who-merged-server", "07-who-merged-client",
        label="broken: Nagle on and off, fresh and with an ACK outstanding, TCP_CORK - "
              "still one stream",
        ignore=["send", "recv"],  # checked by the rules below, connection by connection
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
        ] + tries_rules() + row_rules("nagle_held", 10, 1) + row_rules("nodelay_held", 0, 2)
        + [WARM_ROW]),
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
