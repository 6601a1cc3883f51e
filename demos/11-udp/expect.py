# Demo 11, UDP keeps boundaries, and loses bytes: what the harness checks.
# Every datagram and every recv is listed exactly: on UDP they do not depend on timing.
from demolib import run, send, recv, message, rule

TITLE = "UDP keeps boundaries, and loses bytes: one recv = one datagram, cut to the buffer"
LESSON = ("UDP never merges datagrams, but a recv buffer smaller than the datagram throws "
          "the rest away: read with room for the largest and check MSG_TRUNC.")

BIG_SIZE = 65507  # the most one UDP datagram carries over IPv4: 65535 - 20 - 8
BIG = bytes(0x30 + i % 10 for i in range(BIG_SIZE))  # "0123456789" repeated
DATAGRAMS = [b"hello", b"world", b"helloworld", BIG]
SENDS = [send("client", i, d) for i, d in enumerate(DATAGRAMS, 1)]


def real_size(o, number):
    """The datagram's whole size as recv(MSG_PEEK | MSG_TRUNC) told the server;
    None where the system does not say (MSG_TRUNC's size is Linux's)."""
    value = o.fact("server", f"recv{number}.datagram_size")
    return value if isinstance(value, int) else None


RUNS = [
    run("11-udp-server", "11-udp-client", label="broken: recvfrom(1024), and recvfrom(4)", calls=[
        *SENDS,
        recv("server", 1, b"hello"),       # all four were waiting: one datagram per recv
        recv("server", 2, b"world"),
        recv("server", 3, b"hell"),        # recvfrom(4) of "helloworld": 6 bytes lost
        recv("server", 4, BIG[:1024]),     # the next datagram, not "oworld"
    ], rules=[
        rule("the 10-byte datagram was 10 bytes to the kernel (MSG_TRUNC), recv(4) got 4",
             lambda o: real_size(o, 3) in (None, 10)),
        rule("the 65507-byte datagram was 65507 bytes to the kernel, recv(1024) got 1024",
             lambda o: real_size(o, 4) in (None, BIG_SIZE)),
        rule("recv #4 started a new datagram: the 6 bytes cut from #3 never came",
             lambda o: o.calls("server", "recv")[3].at == 5 + 5 + 4
             and o.total("server", "recv") == 5 + 5 + 4 + 1024),
        rule("a datagram of 65508 bytes cannot be sent: sendto fails with EMSGSIZE",
             lambda o: o.fact("client", "sendto_65508_bytes") == "EMSGSIZE"),
    ]),
    run("11-udp-fixed-server", "11-udp-client",
        label="fixed: a 65507-byte buffer, MSG_TRUNC checked", calls=[
            *SENDS,
            *[call for i, d in enumerate(DATAGRAMS, 1)  # each recv: one whole datagram,
              for call in (recv("server", i, d), message("server", i, d))],  # one message
        ], rules=[
            rule("every recv asked for 65507 bytes, room for any IPv4 datagram",
                 lambda o: all(c.asked == BIG_SIZE for c in o.calls("server", "recv"))),
            rule("no datagram was truncated (MSG_TRUNC)",
                 lambda o: o.fact("server", "truncated") == 0),
            rule("the biggest datagram, as MSG_TRUNC measured it, was 65507 bytes (Linux)",
                 lambda o: o.all_facts.get(("server", "biggest_datagram"), BIG_SIZE) == BIG_SIZE),
        ]),
]
