"""The harness checks itself: a check that cannot fail proves nothing."""
import demolib
from demolib import Outcome, parse_call, recv, run, send


def test_parse_escaped_bytes():
    line = r'server | recv #2 | conn 3 | at 7 | 6 bytes | "a\n\x00\"\\\xe4" | asked 1024'
    c = parse_call(line, 0)
    assert (c.side, c.op, c.num, c.conn, c.at, c.count, c.asked) == ("server", "recv", 2, 3, 7, 6, 1024)
    assert c.head == b'a\n\x00"\\\xe4' and c.tail is None


def test_parse_abbreviated_and_eof():
    c = parse_call(r'client | send #1 | conn 1 | at 0 | 100 bytes | "ab" ... "yz"', 0)
    assert c.head == b"ab" and c.tail == b"yz"
    assert c.matches(b"ab" + b"-" * 96 + b"yz")
    assert not c.matches(b"ab" + b"-" * 95 + b"yz")  # wrong length
    assert not c.matches(b"ax" + b"-" * 96 + b"yz")  # wrong head
    eof = parse_call("server | recv #4 | conn 1 | at 103 | 0 bytes | EOF | asked 1024", 0)
    assert eof.count == 0 and eof.matches(b"")
    assert parse_call("server: listening on 127.0.0.1:80", 0) is None


def fake(lines):
    return Outcome([["server"], ["client"]], [0, 0], lines)


def test_check_catches_wrong_bytes_and_missing_calls():
    spec = run("s", "c", [send("client", 1, b"hello"), recv("server", 1, b"hello")])
    problems = demolib.check(spec, fake([
        'client | send #1 | conn 1 | at 0 | 5 bytes | "hello"',
        'server | recv #1 | conn 1 | at 0 | 4 bytes | "hell" | asked 1024',
    ]))
    assert any("expected server recv #1" in p for p in problems), problems
    problems = demolib.check(spec, fake(['client | send #1 | conn 1 | at 0 | 5 bytes | "hello"']))
    assert any(p.startswith("missing: server recv #1") for p in problems), problems


def test_check_catches_recv_before_send_and_bad_offsets():
    spec = run("s", "c", [send("client", 1, b"hi"), recv("server", 1, b"hi")])
    problems = demolib.check(spec, fake([
        'server | recv #1 | conn 1 | at 0 | 2 bytes | "hi" | asked 1024',
        'client | send #1 | conn 1 | at 0 | 2 bytes | "hi"',
    ]))
    assert any("before the send" in p for p in problems), problems
    problems = demolib.check(spec, fake([
        'client | send #1 | conn 1 | at 3 | 2 bytes | "hi"',
        'server | recv #1 | conn 1 | at 0 | 2 bytes | "hi" | asked 1024',
    ]))
    assert any("offset 3" in p for p in problems), problems


def test_check_fails_a_real_run_against_a_wrong_lesson():
    # Demo 1 for real, checked against the claim "one send = one recv".
    wrong = run("01-coalesce-server", "01-coalesce-client", [
        send("client", 1, b"hello"), send("client", 2, b"world"),
        recv("server", 1, b"hello"), recv("server", 2, b"world"),
    ])
    outcome = demolib.run_pair(wrong, ["--full"])
    problems = demolib.check(wrong, outcome)
    assert any("expected server recv #1" in p for p in problems), problems
    assert any(p.startswith("missing: server recv #2") for p in problems), problems


def test_rules_and_facts():
    spec = run("s", "c", [send("client", 1, b"ab")], ignore=["recv"], rules=[
        demolib.rule("more recvs than sends", lambda o: o.count("server", "recv") > o.count("client", "send")),
        demolib.rule("two segments", lambda o: o.fact("client", "segments") == 2),
    ])
    lines = [
        'client | send #1 | conn 1 | at 0 | 2 bytes | "ab"',
        'server | recv #1 | conn 1 | at 0 | 1 bytes | "a" | asked 1',
        'server | recv #2 | conn 1 | at 1 | 1 bytes | "b" | asked 1',
        'client | fact | segments = 2',
    ]
    assert demolib.check(spec, fake(lines)) == []
    problems = demolib.check(spec, fake(lines[:2] + ['client | fact | segments = 3']))
    assert "rule does not hold: more recvs than sends" in problems, problems
    assert "rule does not hold: two segments" in problems, problems
    problems = demolib.check(spec, fake(lines[:3]))
    assert any("two segments (KeyError" in p for p in problems), problems
