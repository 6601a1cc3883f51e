# Demo 5, the course's own fix: what the harness checks (every send, recv and message, in order).
import struct

from demolib import run, send, recv, message, frame, rule

TITLE = "the course's own fix, ported faithfully: Nagle delays, and a loop that stops early"
LESSON = ("The course's own header fix still fails: three sends wait on delayed ACKs, and "
          "its loop counts bytes wrongly and stops early.")

SHORT = b"echo out; echo err >&2"  # 8 bytes of answer: "out\n" on stdout, "err\n" on stderr
LONG_COMMAND = (b"awk 'BEGIN { for (i = 1; i <= 100; i++) "
                b"printf \"line %03d of a long output\\n\", i }'")
LONG = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))  # 2600 bytes


def native(n):
    """struct.pack('i', n), as the course packs its header: this machine's byte order."""
    return struct.pack("i", n)


broken = []
for i in (1, 2, 3):  # three short commands: each answer is header, stdout, stderr - three sends
    broken += [send("client", i, SHORT), recv("server", i, SHORT),
               send("server", 3 * i - 2, native(8)), send("server", 3 * i - 1, b"out\n"),
               send("server", 3 * i, b"err\n"),
               recv("client", 2 * i - 1, native(8)), recv("client", 2 * i, b"out\nerr\n")]
broken += [
    send("client", 4, LONG_COMMAND), recv("server", 4, LONG_COMMAND),
    send("server", 10, native(2600)), send("server", 11, LONG),  # no stderr: nothing to send
    recv("client", 7, native(2600)),
    recv("client", 8, LONG[:1024]),       # recv_size = 1024
    recv("client", 9, LONG[1024:2048]),   # recv_size = 1024 + 2048 = 3072 >= 2600: loop ends
    send("client", 5, b"echo hi"), recv("server", 5, b"echo hi"),
    recv("client", 10, LONG[2048:2052]),  # the next "header" is old output
    send("server", 12, native(3)), send("server", 13, b"hi\n"),
    recv("server", 6, b""),
]

fixed = []
for i in (1, 2, 3):
    fixed += [send("client", i, SHORT), recv("server", i, SHORT),
              send("server", i, frame(b"out\nerr\n")),  # one send: header and body together
              recv("client", 2 * i - 1, frame(b"out\nerr\n")[:4]),
              recv("client", 2 * i, b"out\nerr\n"), message("client", i, b"out\nerr\n")]
fixed += [
    send("client", 4, LONG_COMMAND), recv("server", 4, LONG_COMMAND),
    send("server", 4, frame(LONG)),
    recv("client", 7, frame(LONG)[:4]),
    recv("client", 8, LONG[:1024]), recv("client", 9, LONG[1024:2048]),
    recv("client", 10, LONG[2048:]),      # asks only for the 552 bytes still owed
    message("client", 4, LONG),
    send("client", 5, b"echo hi"), recv("server", 5, b"echo hi"),
    send("server", 5, frame(b"hi\n")),
    recv("client", 11, frame(b"hi\n")[:4]), recv("client", 12, b"hi\n"),
    message("client", 5, b"hi\n"),
    recv("server", 6, b""),
]

RUNS = [
    run("05-course-fix-server", "05-course-fix-client", label="broken: the notes' fix", calls=broken,
        rules=[
            rule("the loop left 552 bytes of the 2600-byte answer unread",
                 lambda o: o.fact("client", "bytes_left_unread") == 552),
            rule("the next header decodes as the int in bytes 2048..2051 of the old answer",
                 lambda o: o.fact("client", "garbage_length") == struct.unpack("i", LONG[2048:2052])[0]),
            rule("struct.pack('i', 8) reads as another number in the other byte order",
                 lambda o: o.fact("client", "header_in_other_byte_order") not in (8, None)),
        ]),
    run("05-course-fix-fixed-server", "05-course-fix-fixed-client", label="fixed: one send, a correct loop",
        calls=fixed),
]
