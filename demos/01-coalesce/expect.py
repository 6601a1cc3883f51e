# Demo 1, coalesce: what the harness checks (every send and recv, in order).
TITLE = "coalesce (粘包): two quick sends, one recv returns both"

RUNS = [
    run("01-coalesce-server", "01-coalesce-client", [
        send("client", 1, b"hello"),
        send("client", 2, b"world"),
        recv("server", 1, b"helloworld"),  # one recv, the bytes of both sends
    ]),
]
