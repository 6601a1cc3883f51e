# Demo 1, coalesce: what the harness checks (every send, recv and message, in order).
from demolib import run, send, recv, message, frame

TITLE = "coalesce (粘包): two quick sends, one recv returns both"
LESSON = ("Two sends can come out of one recv: TCP carries bytes, and nothing marks where a "
          "send ended.")
LIVE = {}  # make demo-1 LIVE=40: the same pair, nothing synchronised

RUNS = [
    run("01-coalesce-server", "01-coalesce-client", label="broken: no boundaries", calls=[
        send("client", 1, b"hello"),
        send("client", 2, b"world"),
        recv("server", 1, b"helloworld"),  # one recv, the bytes of both sends
    ]),
    run("01-coalesce-fixed-server", "01-coalesce-fixed-client", label="fixed: length-prefixed frames", calls=[
        send("client", 1, frame(b"hello")),  # b"\x00\x00\x00\x05hello"
        send("client", 2, frame(b"world")),
        recv("server", 1, frame(b"hello") + frame(b"world")),  # still one recv for both
        message("server", 1, b"hello"),
        message("server", 2, b"world"),
    ]),
]
