# Demo 2, residue: what the harness checks (every send, recv and message, in order).
from demolib import run, send, recv, message, frame

TITLE = "residue (拆包): recv(1) returns h, the next recv gets elloworld"
LESSON = ("recv(n) returns at most n bytes; what it leaves behind comes out of the next "
          "recv, whatever that recv was for.")
LIVE = {}  # make demo-2 LIVE=40: the same pair, nothing synchronised

RUNS = [
    run("02-residue-server", "01-coalesce-client", label="broken: no boundaries", calls=[
        send("client", 1, b"hello"),      # the client of demo 1
        send("client", 2, b"world"),
        recv("server", 1, b"h"),          # recv(1)
        recv("server", 2, b"elloworld"),  # the next recv gets what was left
    ]),
    run("02-residue-fixed-server", "01-coalesce-fixed-client", label="fixed: length-prefixed frames", calls=[
        send("client", 1, frame(b"hello")),
        send("client", 2, frame(b"world")),
        recv("server", 1, b"\x00"),                                   # recv(1): a quarter of a header
        recv("server", 2, (frame(b"hello") + frame(b"world"))[1:]),  # the rest of both frames
        message("server", 1, b"hello"),
        message("server", 2, b"world"),
    ]),
]
