# Demo 3, delayed: what the harness checks (every send, recv and message, in order).
from demolib import run, send, recv, message, frame

TITLE = "delayed: a pause between sends; a slow reader still gets helloworld"
LESSON = ("A pause between sends is not a boundary: what one recv returns depends on when "
          "the reader reads.")
LIVE = {}  # make demo-3 LIVE=40: a pause of 0 to 2 ms, nothing synchronised

RUNS = [
    run("03-delayed-server", "03-delayed-client", label="broken: no boundaries", calls=[
        # conn 1: the server reads during the client's pause
        send("client", 1, b"hello", conn=1),
        recv("server", 1, b"hello", conn=1),
        send("client", 2, b"world", conn=1),
        recv("server", 2, b"world", conn=1),
        recv("server", 3, b"", conn=1),          # the client closed conn 1
        # conn 2: same sends and pause, but the server reads after both
        send("client", 1, b"hello", conn=2),
        send("client", 2, b"world", conn=2),
        recv("server", 1, b"helloworld", conn=2),
    ]),
    run("03-delayed-fixed-server", "03-delayed-fixed-client", label="fixed: length-prefixed frames", calls=[
        send("client", 1, frame(b"hello"), conn=1),
        recv("server", 1, frame(b"hello"), conn=1),
        message("server", 1, b"hello", conn=1),
        send("client", 2, frame(b"world"), conn=1),
        recv("server", 2, frame(b"world"), conn=1),
        message("server", 2, b"world", conn=1),
        recv("server", 3, b"", conn=1),
        send("client", 1, frame(b"hello"), conn=2),
        send("client", 2, frame(b"world"), conn=2),
        recv("server", 1, frame(b"hello") + frame(b"world"), conn=2),  # one recv ...
        message("server", 1, b"hello", conn=2),                         # ... two messages
        message("server", 2, b"world", conn=2),
    ]),
]
