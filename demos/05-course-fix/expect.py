# Demo 5, the course's own fix: what the harness checks (every send, recv and message, in order).
import struct

from demolib import run, send, recv, message, frame, rule

TITLE = "the course's own fix, ported faithfully: Nagle delays, and a loop that stops early"
LESSON = ("The course's own header fix still fails: three sends wait on delayed ACKs, and "
          "its loop counts bytes wrongly and stops early.")
COMPARE = ["median_ms"]  # rundemo prints the medians of both runs side by side
# make demo-5 shows conn 1 of the broken run line by line; conn 3 (the second
# size) and the fixed run's sends and recvs only as sentences, messages and
# pictures (VERBOSE=1 shows every line; the harness checks them all).
# make demo-5: the picture shows the server's three sends (their lines: VERBOSE=1);
# the timed connection and the second size are told in sentences
DISPLAY = {"hide_calls": {1: "server", 2: True}, "hide_conns": [3], "pictures": {1: [1], 2: [1]},
           "hide_lines": [r"^server: conn 2: "]}

SHORT = b"echo out; echo err >&2"  # 8 bytes of answer: "out\n" on stdout, "err\n" on stderr
LONG_COMMAND = (b"awk 'BEGIN { for (i = 1; i <= 100; i++) "
                b"printf \"line %03d of a long output\\n\", i }'")
LONG = b"".join(b"line %03d of a long output\n" % i for i in range(1, 101))  # 2600 bytes
COMMAND_4000 = b"awk 'BEGIN { for (i = 1; i <= 160; i++) printf \"%024d\\n\", i }'"
DATA_4000 = b"".join(b"%024d\n" % i for i in range(1, 161))  # 4000 bytes
assert len(LONG) == 2600 and len(DATA_4000) == 4000


def native(n):
    """struct.pack('i', n), as the course packs its header: this machine's byte order."""
    return struct.pack("i", n)


def notes_loop_reads(total):
    """How many bytes the notes' loop reads of an answer of `total` bytes when
    every recv(1024) returns all it can: after k recvs it holds 1024*k bytes,
    but recv_size += len(recv_data) has added 1024*(1+2+...+k) = 512*k*(k+1),
    and the loop ends at the first k where that reaches total."""
    k = 1
    while 512 * k * (k + 1) < total:
        k += 1
    return min(total, 1024 * k)


SHORTS = 1  # traced on conn 1 (timing.h: TRACED_SHORT_COMMANDS); 20 more timed on conn 2

broken = []
for i in range(1, SHORTS + 1):  # each answer is header, stdout, stderr: three sends
    broken += [send("client", i, SHORT), recv("server", i, SHORT),
               send("server", 3 * i - 2, native(8)), send("server", 3 * i - 1, b"out\n"),
               send("server", 3 * i, b"err\n"),
               recv("client", 2 * i - 1, native(8)), recv("client", 2 * i, b"out\nerr\n")]
c, s, cr = SHORTS, 3 * SHORTS, 2 * SHORTS  # the calls so far: client sends, server sends, client recvs
broken += [
    send("client", c + 1, LONG_COMMAND), recv("server", c + 1, LONG_COMMAND),
    send("server", s + 1, native(2600)), send("server", s + 2, LONG),  # no stderr: nothing to send
    recv("client", cr + 1, native(2600)),
    recv("client", cr + 2, LONG[:1024]),       # recv_size = 1024
    recv("client", cr + 3, LONG[1024:2048]),   # recv_size = 1024 + 2048 = 3072 >= 2600: loop ends
    send("client", c + 2, b"echo hi"), recv("server", c + 2, b"echo hi"),
    recv("client", cr + 4, LONG[2048:2052]),   # the next "header" is old output
    send("server", s + 3, native(3)), send("server", s + 4, b"hi\n"),
    recv("server", c + 3, b""),
    # conn 2: 20 commands, timed, not traced. conn 3: a second size.
    send("client", 1, COMMAND_4000, conn=3), recv("server", 1, COMMAND_4000, conn=3),
    send("server", 1, native(4000), conn=3), send("server", 2, DATA_4000, conn=3),
    recv("client", 1, native(4000), conn=3),
    recv("client", 2, DATA_4000[:1024], conn=3),      # recv_size 1024
    recv("client", 3, DATA_4000[1024:2048], conn=3),  # recv_size 3072
    recv("client", 4, DATA_4000[2048:3072], conn=3),  # recv_size 6144 >= 4000: loop ends
    recv("server", 2, b"", conn=3),
]

fixed = []
for i in range(1, SHORTS + 1):
    fixed += [send("client", i, SHORT), recv("server", i, SHORT),
              send("server", i, frame(b"out\nerr\n")),  # one send: header and body together
              recv("client", 2 * i - 1, frame(b"out\nerr\n")[:4]),
              recv("client", 2 * i, b"out\nerr\n"), message("client", i, b"out\nerr\n")]
fixed += [
    send("client", c + 1, LONG_COMMAND), recv("server", c + 1, LONG_COMMAND),
    send("server", c + 1, frame(LONG)),
    recv("client", cr + 1, frame(LONG)[:4]),
    recv("client", cr + 2, LONG[:1024]), recv("client", cr + 3, LONG[1024:2048]),
    recv("client", cr + 4, LONG[2048:]),      # asks only for the 552 bytes still owed
    message("client", c + 1, LONG),
    send("client", c + 2, b"echo hi"), recv("server", c + 2, b"echo hi"),
    send("server", c + 2, frame(b"hi\n")),
    recv("client", cr + 5, frame(b"hi\n")[:4]), recv("client", cr + 6, b"hi\n"),
    message("client", c + 2, b"hi\n"),
    recv("server", c + 3, b""),
    send("client", 1, COMMAND_4000, conn=3), recv("server", 1, COMMAND_4000, conn=3),
    send("server", 1, frame(DATA_4000), conn=3),
    recv("client", 1, frame(DATA_4000)[:4], conn=3),
    recv("client", 2, DATA_4000[:1024], conn=3), recv("client", 3, DATA_4000[1024:2048], conn=3),
    recv("client", 4, DATA_4000[2048:3072], conn=3), recv("client", 5, DATA_4000[3072:], conn=3),
    message("client", 1, DATA_4000, conn=3),
    recv("server", 2, b"", conn=3),
]

RUNS = [
    run("05-course-fix-server", "05-course-fix-client", label="broken: the notes' fix", calls=broken,
        rules=[
            rule("the loop read 2048 of the 2600 bytes: what recv_size += len(recv_data) allows",
                 lambda o: o.fact("client", "bytes_left_unread") == 2600 - notes_loop_reads(2600)
                 == 552),
            rule("the loop read 3072 of the 4000 bytes: the same law, a second size",
                 lambda o: o.fact("client", "bytes_left_unread_4000")
                 == 4000 - notes_loop_reads(4000) == 928),
            rule("the next header decodes as the int in bytes 2048..2051 of the old answer",
                 lambda o: o.fact("client", "garbage_length") == struct.unpack("i", LONG[2048:2052])[0]),
            rule("struct.pack('i', 8) reads as another number in the other byte order",
                 lambda o: o.fact("client", "header_in_other_byte_order") not in (8, None)),
            rule("a median time per command was measured (20 commands; shown, never judged)",
                 lambda o: o.fact("client", "median_ms") > 0),
        ]),
    run("05-course-fix-fixed-server", "05-course-fix-fixed-client", label="fixed: one send, a correct loop",
        calls=fixed, rules=[
            rule("a median time per command was measured (20 commands; shown, never judged)",
                 lambda o: o.fact("client", "median_ms") > 0),
        ]),
]
