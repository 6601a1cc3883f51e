# Demo 9, split characters: what the harness checks. Python's own codecs judge
# every recv and every message independently of the C checks in the server.
import codecs

from demolib import run, send, recv, message, frame, rule

# make demo-9 shows the sentences and the byte pictures (each recv in hex, each
# cut character marked); VERBOSE=1 shows the send and recv lines too.
DISPLAY = {"hide_calls": True, "pictures": {2: [1]}}
TITLE = "split characters: recv cuts a UTF-8 or GBK character; whole messages decode"
LESSON = "A recv can end inside a character: decode whole messages, never single recvs."

TEXT = "你好，世界"
UTF8 = TEXT.encode("utf-8")  # e4 bd a0 e5 a5 bd ef bc 8c e4 b8 96 e7 95 8c
GBK = TEXT.encode("gbk")     # c4 e3 ba c3 a3 ac ca c0 bd e7
assert GBK == b"\xc4\xe3\xba\xc3\xa3\xac\xca\xc0\xbd\xe7"  # the bytes written in client.c
ASK = 7                      # the servers' recv(7)
CODECS = {1: ("utf-8", "utf8"), 2: ("gbk", "gbk")}  # conn -> Python codec, fact name


def cut(data):
    """data as recv(7) returns it once all of it has arrived."""
    return [data[i:i + ASK] for i in range(0, len(data), ASK)]


def python_bad_at(data, codec):
    """None if Python decodes data; else the position its UnicodeDecodeError names."""
    try:
        data.decode(codec)
        return None
    except UnicodeDecodeError as e:
        return e.start


def pieces(o, conn):
    """Bytes of each recv on conn that returned data (short: each line shows every byte)."""
    return [c.head for c in o.calls("server", "recv", conn) if c.count]


def incremental(data_pieces, codec):
    """What an incremental decoder makes of the pieces: it keeps a cut character for later."""
    d = codecs.getincrementaldecoder(codec)()
    return "".join(d.decode(p) for p in data_pieces) + d.decode(b"", final=True)


def utf8_fails_on(data_pieces):
    try:
        incremental(data_pieces, "utf-8")
        return False
    except UnicodeDecodeError:
        return True


def each_recv_fails(o):
    return all(python_bad_at(p, CODECS[conn][0]) is not None
               for conn in (1, 2) for p in pieces(o, conn))


def server_agrees(o, what, conn, data):
    """The server's fact lines say what Python says about data."""
    codec, name = CODECS[conn]
    bad = python_bad_at(data, codec)
    if bad is None:
        return o.fact("server", f"{what}_{name}") == "valid"
    return (o.fact("server", f"{what}_{name}") == "invalid"
            and o.fact("server", f"{what}_{name}_bad_at") == bad)


def all_recvs_agree(o):
    return all(server_agrees(o, f"recv{i}", conn, p)
               for conn in (1, 2) for i, p in enumerate(pieces(o, conn), 1))


RUNS = [
    run("09-split-chars-server", "09-split-chars-client", label="broken: decode every recv", calls=[
        send("client", 1, UTF8, conn=1),
        recv("server", 1, UTF8[0:7], conn=1),    # 你 好 and the 1st of the 3 bytes of ，
        recv("server", 2, UTF8[7:14], conn=1),   # the rest of ， , 世, 2 bytes of 界
        recv("server", 3, UTF8[14:15], conn=1),  # the last byte of 界
        recv("server", 4, b"", conn=1),
        send("client", 1, GBK, conn=2),
        recv("server", 1, GBK[0:7], conn=2),     # 你 好 ， and the 1st of the 2 bytes of 世
        recv("server", 2, GBK[7:10], conn=2),    # the 2nd byte of 世, then 界
        recv("server", 3, b"", conn=2),
    ], rules=[
        rule("every recv, decoded on its own, raises UnicodeDecodeError in Python "
             "(utf-8 on conn 1, gbk on conn 2)", each_recv_fails),
        rule("decoded with errors='replace', every UTF-8 recv shows U+FFFD",
             lambda o: all("\ufffd" in p.decode("utf-8", "replace") for p in pieces(o, 1))),
        rule("GBK recv #2 starts with c0 bd, which Python reads as 澜: a character never sent",
             lambda o: pieces(o, 2)[1].decode("gbk", "replace") == "澜\ufffd" and "澜" not in TEXT),
        rule("errors='ignore' is no fix: per recv it makes 你好世 of the UTF-8 text "
             "(， and 界 lost) and 你好，澜 of the GBK text (世界 lost, 澜 never sent)",
             lambda o: "".join(p.decode("utf-8", "ignore") for p in pieces(o, 1)) == "你好世"
             and "".join(p.decode("gbk", "ignore") for p in pieces(o, 2)) == "你好，澜"),
        rule("an incremental decoder for the text's own encoding, fed recv by recv, gets "
             "你好，世界 back (utf-8 on conn 1, gbk on conn 2)",
             lambda o: incremental(pieces(o, 1), "utf-8") == TEXT
             and incremental(pieces(o, 2), "gbk") == TEXT),
        rule("the UTF-8 decoder, fed the GBK recvs, fails: no decoder fixes the wrong encoding",
             lambda o: utf8_fails_on(pieces(o, 2))),
        rule("the server's valid/invalid facts and break positions match Python's codecs",
             all_recvs_agree),
        rule("joined, the recvs are the whole text and decode to 你好，世界 in both encodings",
             lambda o: b"".join(pieces(o, 1)).decode("utf-8") == TEXT
             and b"".join(pieces(o, 2)).decode("gbk") == TEXT
             and server_agrees(o, "joined", 1, UTF8) and server_agrees(o, "joined", 2, GBK)),
    ]),
    run("09-split-chars-fixed-server", "09-split-chars-fixed-client", label="fixed: decode whole messages", calls=[
        send("client", 1, frame(UTF8), conn=1),
        recv("server", 1, frame(UTF8)[0:7], conn=1),    # the length, then 你
        recv("server", 2, frame(UTF8)[7:14], conn=1),   # 好 ， and the 1st byte of 世
        recv("server", 3, frame(UTF8)[14:19], conn=1),  # the rest of 世, then 界
        message("server", 1, UTF8, conn=1),
        send("client", 1, frame(GBK), conn=2),
        recv("server", 1, frame(GBK)[0:7], conn=2),     # the length, 你 and the 1st byte of 好
        recv("server", 2, frame(GBK)[7:14], conn=2),
        message("server", 1, GBK, conn=2),
    ], rules=[
        rule("the same recv(7) still cuts a character: recv #2 on conn 1 and recv #1 on "
             "conn 2 end inside one",
             lambda o: python_bad_at(frame(UTF8)[7:14], "utf-8") is not None
             and python_bad_at(frame(GBK)[4:7], "gbk") is not None),
        rule("each message decodes whole in Python, to 你好，世界",
             lambda o: [c.head.decode(CODECS[c.conn][0]) for c in o.calls("server", "message")]
             == [TEXT, TEXT]),
        rule("the server's facts say both messages are valid",
             lambda o: server_agrees(o, "message", 1, UTF8) and server_agrees(o, "message", 2, GBK)),
    ]),
]
