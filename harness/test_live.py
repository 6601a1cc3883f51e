"""Live mode (make demo-N LIVE=40): the broken pairs run with nothing
synchronised. Only what holds in every run is checked - each side's recvs,
joined, are exactly the bytes the other side sent, every run says which case
it was, and the counts add up - never how the cases are distributed."""
from demolib import Outcome, load_demo
from live import live_runs, stream_problems

RUNS = {1: 8, 2: 4, 3: 4, 4: 3, 8: 4}  # a few runs each: make test stays fast


def test_live_runs_keep_every_byte_and_name_their_case():
    for number, runs in RUNS.items():
        counts, problems = live_runs(load_demo(number), runs)
        assert not problems, f"demo {number} live: " + "\n  ".join(problems)
        assert sum(counts.values()) == runs and "(no outcome)" not in counts, \
            f"demo {number} live: {runs} runs, outcomes {dict(counts)}"


def test_demos_without_a_live_mode_say_so():
    for number in (5, 6, 7, 9, 10):
        assert load_demo(number).live is None, f"demo {number} should have no live mode"


def test_the_stream_check_can_fail():
    lines = ['client | send #1 | conn 1 | at 0 | 5 bytes | "hello"',
             'client | send #2 | conn 1 | at 5 | 5 bytes | "world"',
             'server | recv #1 | conn 1 | at 0 | 5 bytes | "hello"',
             'server | recv #2 | conn 1 | at 5 | 4 bytes | "worl"']
    assert stream_problems(Outcome([], [], lines)), "a lost byte was not noticed"
    assert not stream_problems(Outcome([], [], lines[:3] + [lines[3].replace(
        '4 bytes | "worl"', '5 bytes | "world"')])), "an intact stream was refused"
