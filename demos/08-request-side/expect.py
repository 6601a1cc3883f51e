# Demo 8, the request side sticks too: what the harness checks.
from demolib import run, send, recv, message, frame, rule

TITLE = "the request side sticks too: two commands written back to back run as one"
LESSON = "Requests stick too: two commands sent back to back are read, and run, as one."
LIVE = {}  # make demo-8 LIVE=40: the server reads as soon as it has accepted

ANSWER = frame(b"O" + b"a\n") + frame(b"X\x00\x00\x00\x00")  # 7 + 9 bytes; same size for "b\n"

RUNS = [
    run("08-request-side-server", "08-request-side-client", label="broken: no boundaries",
        calls=[
            send("client", 1, b"echo a"),
            send("client", 2, b"echo b"),          # right behind the first, no answer awaited
            recv("server", 1, b"echo aecho b"),    # one recv: both commands, one command line
            send("server", 1, b"aecho b\n"),       # what the shell prints for `echo aecho b`
            recv("client", 1, b"aecho b\n"),       # shown as the answer to "echo a"
            recv("server", 2, b""),                # the client's half-close: no more commands
            recv("client", 2, b""),                # and no answer to "echo b", ever
        ],
        rules=[
            rule("the client sent 2 commands, the server ran 1",
                 lambda o: o.fact("client", "commands_sent") == 2
                 and o.fact("server", "commands_run") == 1),
        ]),
    # The fixed client reads with the same recv(1024); how the answers' bytes are
    # split among recvs depends on timing, so recvs are not checked one by one.
    run("rsh-server", "08-request-side-fixed-client", label="fixed: the framed remote shell",
        ignore=["recv"], server_stays=True,
        calls=[
            send("client", 1, frame(b"C" + b"echo a")),
            send("client", 2, frame(b"C" + b"echo b")),
            message("client", 1, b"a\n"),
            message("client", 2, b"b\n"),
        ],
        rules=[
            rule("both commands were sent before the first recv (pipelined)",
                 lambda o: o.calls("client", "send")[1].line_no
                 < o.calls("client", "recv")[0].line_no),
            rule("the client's recvs returned exactly the two answers' frames: 2 x 16 bytes",
                 lambda o: o.total("client", "recv") == 2 * len(ANSWER)),
        ]),
]
