# Demo 4, truncate: what the harness checks (every send and recv, in order).
from demolib import run, send, recv, message, frame, rule

TITLE = "truncate: the SSH client's recv(1024) cuts a long answer; the next answer is its rest"
LESSON = ("recv(1024) cannot know how long an answer is: the rest of a long one comes out "
          "as the next command's answer.")
LIVE = {}  # make demo-4 LIVE=40: the client reads as soon as it has sent

LONG_COMMAND = (b"awk 'BEGIN { for (i = 1; i <= 100; i++) "
                b"printf \"line %03d of a long output\\n\", i }'")
LONG = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))  # 2600 bytes
# make demo-4: the server's send and recv lines repeat the client's (VERBOSE=1
# shows them); the long command is named after its first mention
DISPLAY = {"hide_calls": {1: "server"}, "labels": {LONG_COMMAND: "the long command"}}

RUNS = [
    run("04-truncate-server", "04-truncate-client", label="broken: no boundaries", calls=[
        send("client", 1, LONG_COMMAND),
        recv("server", 1, LONG_COMMAND),
        send("server", 1, LONG),
        recv("client", 1, LONG[:1024]),       # cut at 1024 bytes
        send("client", 2, b"echo hello"),
        recv("server", 2, b"echo hello"),
        send("server", 2, b"hello\n"),
        recv("client", 2, LONG[1024:2048]),   # the answer to "echo hello": old bytes
        send("client", 3, b"echo world"),
        recv("server", 3, b"echo world"),
        send("server", 3, b"world\n"),
        recv("client", 3, LONG[2048:] + b"hello\n" + b"world\n"),
        recv("server", 4, b""),               # the client closed
    ], rules=[
        rule("after recv(1024) of the 2600-byte answer, 2600 - 1024 = 1576 bytes wait unread "
             "(the notes' '1082' for a 2826-byte answer should be 1802)",
             lambda o: o.fact("client", "unread_after_answer_1") == len(LONG) - 1024 == 1576),
    ]),
    # The fixed client reads with the same recv(1024); how many recvs the long
    # answer takes depends on timing, so recvs are not checked one by one here.
    run("rsh-server", "04-truncate-fixed-client", label="fixed: the framed remote shell",
        ignore=["recv"], server_stays=True, calls=[
            send("client", 1, frame(b"C" + LONG_COMMAND)),
            message("client", 1, LONG),  # the whole answer, and its own
            send("client", 2, frame(b"C" + b"echo hello")),
            message("client", 2, b"hello\n"),
            send("client", 3, frame(b"C" + b"echo world")),
            message("client", 3, b"world\n"),
        ]),
]
