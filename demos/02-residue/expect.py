# Demo 2, residue: what the harness checks (every send and recv, in order).
TITLE = "residue (拆包): recv(1) returns h, the next recv gets elloworld"

RUNS = [
    run("02-residue-server", "01-coalesce-client", [  # the client of demo 1
        send("client", 1, b"hello"),
        send("client", 2, b"world"),
        recv("server", 1, b"h"),          # recv(1)
        recv("server", 2, b"elloworld"),  # the next recv gets what was left
    ]),
]
