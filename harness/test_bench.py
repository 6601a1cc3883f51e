"""make bench's machinery, and the one speed property that can be tested
without a clock.

The regression test counts, in a private network namespace, the ACKs that
the kernel sent late because its delayed-ACK timer fired (TcpExt
DelayedACKs): 100 `echo x` through rsh-server must cause none, and 20
through the course's three-send fix cause some - which shows the count can
fail. It is a count of kernel events, not a time.

Everything else here checks that the benchmark measures what it says: the
tools agree on what they count, the ratios pair the rounds, the table fits in
100 columns, and a tiny run of bench.py measures every row. No figure of
speed is asserted.
"""
import json
import subprocess
import sys
import tempfile

import bench
import bench_cases
import bench_netns
import bench_run
from suite import HARNESS, Skipped

TOOLS_TIMEOUT = 120


def in_namespace_or_skip(scenario: str, count: int) -> dict:
    prefix, why = bench_netns.namespace_prefix()
    if prefix is None:
        raise Skipped(f"no private network namespace can be made here ({why}): delayed ACKs "
                      f"would count every connection of the machine")
    try:
        return bench_netns.in_namespace(scenario, count)
    except bench_netns.NoNamespace as e:
        raise Skipped(f"cannot set up a private network namespace: {e}") from e


def test_rsh_server_answers_100_commands_without_a_delayed_ack():
    r = in_namespace_or_skip("regression", 100)
    tries, course = r["rsh_tries"], r["course"]
    # With a real-time priority nothing else can stall a command for 40 ms:
    # a try without any delayed ACK. Without it, a busy machine can cost a few
    # (a command kept from answering for 40 ms): far fewer than the one per
    # command, every try, of a server that sends an answer in pieces.
    realtime = r["priority"].startswith("SCHED_FIFO")
    assert (tries[-1] == 0 if realtime else min(tries) < 25), (
        f"100 x `echo x` through rsh-server (lock-step, rsh-client on a terminal) made the "
        f"kernel send {tries} delayed ACKs in {len(tries)} tries (expected "
        f"{'0' if realtime else 'fewer than 25'} in one of them; priority {r['priority']}). "
        f"An answer that leaves in pieces, a small piece waiting for the ACK of the one "
        f"before (Nagle), costs a delayed ACK - 40 ms - per command: send each answer's "
        f"frames with one call, or set TCP_NODELAY.")
    assert course > 0, (
        f"the course's three-send fix made {course} delayed ACKs for {r['course_count']} "
        f"commands; it should make some (Nagle holds stdout until the header's ACK, which the client delays): "
        f"if it does not, this test cannot fail either (kernel {bench.machine()['kernel']})")


def test_netstat_counters_read_the_pairs_of_lines():
    text = ("TcpExt: SyncookiesSent DelayedACKs DelayedACKLocked\n"
            "TcpExt: 0 42 1\n"
            "IpExt: InNoRoutes DelayedACKs\n"
            "IpExt: 5 7\n")
    assert bench_netns.netstat_counters(text) == {"SyncookiesSent": 0, "DelayedACKs": 42,
                                                   "DelayedACKLocked": 1}
    with open("/proc/net/netstat") as f:
        assert "DelayedACKs" in bench_netns.netstat_counters(f.read())


def test_each_round_runs_every_variant_once_in_its_own_order():
    calls = []
    variants = {name: (lambda c, n=name: calls.append(n) or {"value": 1.0}) for name in "abcdef"}
    run = bench.run_rounds(None, list(variants), 6, bench.random.Random(7), lambda _: None,
                           variants)
    assert all(sorted(order) == list("abcdef") for order in run["orders"]), run["orders"]
    assert len({tuple(o) for o in run["orders"]}) > 1, f"never shuffled: {run['orders']}"
    assert calls == [n for order in run["orders"] for n in order]
    assert all(len(v) == 6 for v in run["results"].values())


def test_a_failing_variant_is_reported_and_the_others_still_measured():
    def broken(ctx):
        raise bench_run.BenchError("it broke")
    variants = {"ok": lambda c: {"value": 2.0}, "broken": broken}
    run = bench.run_rounds(None, list(variants), 2, bench.random.Random(1), lambda _: None,
                           variants)
    assert run["errors"] == {"broken": "BenchError: it broke"}
    assert run["results"]["broken"] == [None, None]
    row = bench_cases.Row("r", "ok vs broken", "ok", "broken", "m")
    s = bench.summarize(row, run["results"], {})
    assert s["rounds"] == 0
    assert any("not measured" in line for line in bench.table([s]))


def test_ratios_pair_each_round_and_give_min_and_median():
    results = {"ours": [{"value": 3.0}, {"value": 2.0}, {"value": 9.0}, None],
               "floor": [{"value": 2.0}, {"value": 2.0}, {"value": 3.0}, {"value": 1.0}]}
    row = bench_cases.Row("r", "ours vs floor", "ours", "floor", "means {commands}",
                          target=("<=", 1.5))
    s = bench.summarize(row, results, {"commands": "300"})
    assert s["rounds"] == 3  # the round without ours is left out, not paired with another
    assert s["ratios"] == [1.5, 1.0, 3.0]
    assert (s["ratio_min"], s["ratio_median"]) == (1.0, 1.5)
    assert (s["ours_median"], s["floor_median"]) == (3.0, 2.0)
    assert s["target"]["holds"] is True and s["meaning"] == "means 300"
    rate = bench_cases.Row("q", "rate", "ours", "floor", "", rate=True, target=(">=", 1.6))
    assert bench.summarize(rate, results, {})["target"]["holds"] is False


def test_the_report_fits_in_100_columns():
    results = {"o": [{"value": 123456.0, "delayed_acks_per_100": 99.0,
                      "cpu_s_per_gib": {"server": 1.0, "client": 0.5}, "p99_s": 1e-5}],
               "f": [{"value": 1e-6, "delayed_acks_per_100": 0.0,
                      "cpu_s_per_gib": {"head and reader": 0.3}, "p99_s": 1e-5}]}
    summaries = [bench.summarize(r, results, bench_cases.size_words(bench_cases.FULL))
                 for r in [*(bench_cases.dataclasses.replace(r, ours="o", floor="f",
                                                             extra=["delayed_acks_per_100",
                                                                    "cpu_s_per_gib", "p99_s"])
                             for r in bench_cases.ROWS)]]
    lines = bench.table(summaries)
    too_wide = [line for line in lines if len(line) > bench.WIDTH]
    assert not too_wide, "\n".join(too_wide)
    assert any("123456 s" in line for line in lines) and any(" 1 us " in line for line in lines)


def test_auth_takes_the_token_option_that_help_names():
    path, token = "/tmp/t", "abc"
    assert bench_run.token_option("  --token-file FILE  read it", path, token) == \
        ["--token-file", path]
    assert bench_run.token_option("  --token TOKEN   the secret", path, token) == \
        ["--token", token]
    assert bench_run.token_option("  --port N", path, token) == []
    assert bench_run.writes_token("  --token-file PATH        write the token there instead")
    assert not bench_run.writes_token("  --token-file FILE   read the token from FILE")


def run_tool(*args) -> dict:
    return bench_run.run_tool([bench_run.tool(args[0]), *args[1:]], timeout=TOOLS_TIMEOUT)


def test_the_three_frame_readers_read_the_same_frames():
    count = 3 * 4096 + 7  # more than one writer batch, and not a whole number of them
    got = {how: run_tool("bench-frames", "stream", how, "--count", str(count))
           for how in ("frame_reader", "recv_frame", "raw")}
    assert {r["frames"] for r in got.values()} == {count}, got
    assert len({r["sum"] for r in got.values()}) == 1, got


def test_ping_pong_runs_each_way():
    for way in ("raw", "recv_frame", "frame_reader"):
        r = run_tool("bench-frames", "pingpong", way, "--count", "50")
        assert r["round_trips"] == 50 and 0 < r["p50_ns"] <= r["p99_ns"], r


def test_spawn_loop_reads_both_pipes_to_the_end():
    r = run_tool("bench-spawn", "--count", "3", "echo out; echo err >&2")
    assert (r["count"], r["output_bytes"]) == (3, 3 * len("out\nerr\n")), r


def test_bulk_tools_move_every_byte():
    assert run_tool("bench-tcp", "--bytes", "3000001", "--chunk", "4096")["bytes"] == 3000001
    sink = bench_run.tool("bench-sink")
    p = subprocess.run(["sh", "-c", 'head -c 1000003 /dev/zero | "$0"', sink],
                       capture_output=True, text=True, timeout=TOOLS_TIMEOUT)
    assert bench_run.parse_fields(p.stdout.strip())["bytes"] == 1000003, p.stdout + p.stderr


def test_reply_answers_every_request_either_way():
    for extra in ([], ["--two-sends"]):
        assert run_tool("bench-reply", "--count", "3", *extra)["count"] == 3


def test_rsh_client_lock_step_and_pipelined_run_every_command_in_order():
    """Through a real rsh-server: more than a terminal's 4 KiB of typed-ahead
    lines (the writer must wait for the client), each answer in its place."""
    lines = [f"echo {i}" for i in range(700)]
    want = "".join(f"{i}\n" for i in range(700)).encode()
    with tempfile.TemporaryDirectory() as d:
        a = bench_run.auth(d)
        server = bench_run.RshServer(a)
        try:
            for how in (bench_run.lock_step, bench_run.pipelined):
                with tempfile.TemporaryFile() as out:
                    how(server, a, lines, stdout=out)
                    out.seek(0)
                    got = out.read()
                assert got == want, f"{how.__name__}: got {len(got)} bytes: {got[:80]!r}..."
        finally:
            server.stop()


def stress_a_tiny_run_of_bench_py_measures_every_row():
    with tempfile.TemporaryDirectory() as d:
        out = f"{d}/bench.json"
        p = subprocess.run([sys.executable, str(HARNESS / "bench.py"), "--tiny", "--rounds", "2",
                            "--json", out], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        with open(out) as f:
            report = json.load(f)
    assert report["machine"]["kernel"] and report["machine"]["cores"], report["machine"]
    unmeasured = [s["id"] for s in report["rows"] if s["rounds"] != 2]
    assert not unmeasured, f"rows not measured in both rounds: {unmeasured}\n{p.stdout}"
    assert max(len(line) for line in p.stdout.splitlines()) <= bench.WIDTH, p.stdout
