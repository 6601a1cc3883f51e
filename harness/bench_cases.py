"""bench_cases - what make bench measures: the variants (each one measured
once per round) and the rows of the table (each a variant against its floor,
measured in the same round).

A variant returns {"value": V, ...}: V is seconds per unit for a time (a
command, a frame, a round trip) and bytes per second for a rate (bulk
output). Lower is better for a time, higher for a rate; a row's ratio is
ours / floor either way, so a time row wants a small ratio and a rate row a
large one.
"""
import dataclasses
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import bench_netns
import bench_run
from bench_run import run_tool, tool

GIB = 1 << 30


@dataclass
class Sizes:
    commands: int = 300           # per-command rows: 300 x `true`
    ns_commands: int = 100        # delayed-ACK rows: 100 x `echo x`
    bulk: int = GIB               # bytes of bulk output
    frames: int = 10_000_000      # 16-byte frames for frame_reader and raw reads
    recv_frames: int = 1_000_000  # for recv_frame: two read()s per frame, slow
    round_trips: int = 50_000     # ping-pong


FULL = Sizes()
TINY = Sizes(commands=5, ns_commands=3, bulk=4 << 20, frames=20_000, recv_frames=5_000,
             round_trips=300)


@dataclass
class Context:
    """What every variant may use: the sizes, a running rsh-server (for the
    per-command and bulk variants) and how to give it a token."""
    sizes: Sizes
    auth: bench_run.Auth
    server: bench_run.RshServer
    private_netns: bool      # False: delayed ACKs are counted machine-wide
    workdir: str


# ---- per command ----

def spawn_loop(c: Context) -> dict:
    n = c.sizes.commands
    r = run_tool([tool("bench-spawn"), "--count", str(n)])
    return {"value": r["wall"] / n, "cpu_per_command": {"bench-spawn": r["self_cpu_s"] / n}}


def sh_loop(c: Context) -> dict:
    return {"value": bench_run.shell_loop(c.sizes.commands) / c.sizes.commands}


def rsh_commands(how):
    """N x true through rsh-client, pipelined or lock-step; also the CPU
    per command of the server and the client (not the commands')."""
    def measure(c: Context) -> dict:
        n = c.sizes.commands
        before = c.server.cpu()["self"]
        seconds, client_cpu = how(c.server, c.auth, ["true"] * n)
        server_cpu = c.server.cpu()["self"] - before
        return {"value": seconds / n,
                "cpu_per_command": {"server": server_cpu / n, "client": client_cpu / n}}
    return measure


def rsh_client_each(c: Context) -> dict:
    n = c.sizes.commands
    return {"value": bench_run.one_per_command(c.server, c.auth, n) / n}


# ---- delayed ACKs, in a private network namespace ----

def netns(scenario: str):
    def measure(c: Context) -> dict:
        n = c.sizes.ns_commands
        r = bench_netns.in_namespace(scenario, n, c.private_netns)
        return {"value": r["seconds"] / n, "delayed_acks_per_100": r["delayed_acks"] * 100 / n}
    return measure


# ---- bulk output ----

def bulk_rsh(c: Context) -> dict:
    """head -c BYTES /dev/zero on the server, the client's stdout /dev/null.
    CPU per GiB: the server, the command (head, reaped by the server) and
    the client, each user+sys."""
    cmd = bench_run.client_command(c.server, c.auth, f"head -c {c.sizes.bulk} /dev/zero")
    before = c.server.cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            env=bench_run.client_env(c.auth))
    code, client_cpu = bench_run.wait_cpu(proc)
    seconds = time.perf_counter() - start
    bench_run.check_client(code, cmd, "bulk")
    after = c.server.cpu()
    gib = c.sizes.bulk / GIB
    return {"value": c.sizes.bulk / seconds,
            "cpu_s_per_gib": {"server": (after["self"] - before["self"]) / gib,
                              "command": (after["children"] - before["children"]) / gib,
                              "client": client_cpu / gib}}


def bulk_pipe(c: Context) -> dict:
    """The same command piped into bench-sink: head and the reader, no network."""
    cmd = ["sh", "-c", f'head -c {c.sizes.bulk} /dev/zero | "$0"', tool("bench-sink")]
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out)
        code, cpu = bench_run.wait_cpu(proc)
        seconds = time.perf_counter() - start
        out.seek(0)
        got = bench_run.parse_fields(out.read().decode().strip()).get("bytes")
    if code != 0 or got != c.sizes.bulk:
        raise bench_run.BenchError(f"$ {' '.join(cmd)}: exit {code}, {got} bytes read")
    return {"value": c.sizes.bulk / seconds,
            "cpu_s_per_gib": {"head and reader": cpu / (c.sizes.bulk / GIB)}}


def bulk_tcp(c: Context) -> dict:
    cmd = [tool("bench-tcp"), "--bytes", str(c.sizes.bulk)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    code, cpu = bench_run.wait_cpu(proc)
    seconds = time.perf_counter() - start
    bench_run.check_client(code, cmd, "bulk TCP")
    return {"value": c.sizes.bulk / seconds,
            "cpu_s_per_gib": {"sender and receiver": cpu / (c.sizes.bulk / GIB)}}


def bulk_iperf3(c: Context) -> dict:
    """iperf3 on loopback, a second opinion on raw TCP (only if installed)."""
    port = bench_netns.free_port()
    server = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        bench_netns.wait_listening(port, server)
        p = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-n",
                            str(c.sizes.bulk), "-J"], capture_output=True, text=True, timeout=300)
        try:
            return {"value": json.loads(p.stdout)["end"]["sum_received"]["bits_per_second"] / 8}
        except (ValueError, KeyError) as e:
            raise bench_run.BenchError(f"iperf3: {e}: {p.stdout[-500:]}{p.stderr[-500:]}") from e
    finally:
        server.kill()
        server.wait()
        server.stderr.close()


# ---- small frames ----

def stream(reader: str, recv: bool = False):
    def measure(c: Context) -> dict:
        n = c.sizes.recv_frames if recv else c.sizes.frames
        r = run_tool([tool("bench-frames"), "stream", reader, "--count", str(n)])
        # the reader's own CPU time: the wall clock also counts the writer's
        # turns and the CPUs' wake-ups, which swamp a few ns a frame
        return {"value": r["cpu_seconds"] / n, "frames": n, "wall_s_per_frame": r["seconds"] / n}
    return measure


def pingpong(way: str):
    def measure(c: Context) -> dict:
        r = run_tool([tool("bench-frames"), "pingpong", way, "--count",
                      str(c.sizes.round_trips)])
        return {"value": r["p50_ns"] / 1e9, "p99_s": r["p99_ns"] / 1e9}
    return measure


VARIANTS = {
    "spawn": spawn_loop, "sh-loop": sh_loop, "rsh-pipelined": rsh_commands(bench_run.pipelined),
    "rsh-lock-step": rsh_commands(bench_run.lock_step), "rsh-client-each": rsh_client_each,
    "ns-course": netns("course"), "ns-rsh": netns("rsh"),
    "ns-two-sends": netns("two-sends"), "ns-one-sendmsg": netns("one-sendmsg"),
    "bulk-rsh": bulk_rsh, "bulk-pipe": bulk_pipe, "bulk-tcp": bulk_tcp,
    "frames-reader": stream("frame_reader"), "frames-raw": stream("raw"),
    "frames-recv": stream("recv_frame", recv=True),
    "pp-raw": pingpong("raw"), "pp-recv": pingpong("recv_frame"),
    "pp-reader": pingpong("frame_reader"),
}
if shutil.which("iperf3"):
    VARIANTS["bulk-iperf3"] = bulk_iperf3


@dataclass
class Row:
    id: str
    what: str          # the table's first column, short
    ours: str          # variant ids
    floor: str
    meaning: str       # printed under the row
    rate: bool = False  # bytes/s, higher is better (else seconds per unit)
    target: tuple = ()  # ("<=", 1.08): the project's target for the median ratio
    extra: list = field(default_factory=list)  # the variants' extra figures to print


ROWS = [
    Row("rsh-pipelined", "rsh pipelined, per command", "rsh-pipelined", "spawn",
        "{commands} x true in one connection, sent without waiting for answers, against "
        "bench-spawn starting the same {commands} with the same pipes and process group and no "
        "network: what the network, the frames and the server's loop add to a command.",
        target=("<=", 1.08), extra=["cpu_per_command"]),
    Row("rsh-lock-step", "rsh lock-step, per command", "rsh-lock-step", "spawn",
        "each command sent only after the previous answer (rsh-client on a terminal): "
        "one loopback round trip more per command than pipelined.",
        extra=["cpu_per_command"]),
    Row("rsh-client-each", "rsh, one client per command", "rsh-client-each", "spawn",
        "a shell loop starting rsh-client once per command: a process, a TCP "
        "connection and a command each time - what `rsh-client cmd` in a script costs."),
    Row("rsh-client-each-sh", "  the same, vs a sh -c loop", "rsh-client-each", "sh-loop",
        "the same loop against the same shell loop running sh -c true locally: the "
        "remote shell's price when a script calls it once per command."),
    Row("sh-loop", "shell loop of sh -c true", "sh-loop", "spawn",
        "the shell's own loop against bench-spawn: how far a shell loop is from the "
        "floor (a fork of the shell and an exec of sh per command)."),
    Row("course-fix", "course fix (3 sends), echo x", "ns-course", "ns-rsh",
        "the course's simple fix (Python; header, stdout, stderr in three send()s), "
        "against rsh lock-step, each {ns_commands} x echo x: Nagle holds stdout until the header's "
        "ACK, which the client delays (about 40 ms on Linux).",
        extra=["delayed_acks_per_100"]),
    Row("two-sends", "C header+body in two send()s", "ns-two-sends", "ns-one-sendmsg",
        "the same request/answer loop in C, no command run: header and body in two "
        "send()s against one sendmsg (send_frame). Only the network's share is left.",
        extra=["delayed_acks_per_100"]),
    Row("bulk-rsh", "bulk output through rsh", "bulk-rsh", "bulk-pipe",
        "head -c {bulk} on the server, the client's stdout /dev/null, against the same "
        "command piped into a reader (bench-sink): throughput, so higher is better.",
        rate=True, target=(">=", 0.55), extra=["cpu_s_per_gib"]),
    Row("bulk-rsh-tcp", "  the same, vs raw TCP", "bulk-rsh", "bulk-tcp",
        "against raw TCP on loopback (bench-tcp: one sender, one reader, no framing, "
        "no pipe): the share of the path that the pipes and the framing take.", rate=True),
    Row("bulk-tcp", "raw TCP vs the local pipe", "bulk-tcp", "bulk-pipe",
        "bench-tcp against the local pipe: what TCP itself costs next to a pipe.",
        rate=True, extra=["cpu_s_per_gib"]),
    Row("bulk-iperf3", "iperf3 vs bench-tcp", "bulk-iperf3", "bulk-tcp",
        "iperf3 (installed here) as a second opinion on raw TCP.", rate=True),
    Row("frame-reader", "frame_reader, 16-byte frames", "frames-reader", "frames-raw",
        "{frames} frames of 16 bytes through a socketpair, cut out of 64 KiB reads by "
        "frame_reader, against raw 64 KiB reads counting 16-byte records: the reader's CPU "
        "time per frame.",
        target=("<=", 1.2)),
    Row("recv-frame", "recv_frame, 16-byte frames", "frames-recv", "frames-raw",
        "the same stream ({recv_frames} frames) read with recv_frame (2 read()s per frame), "
        "the reader's CPU per frame: a system call costs far more than a frame, so it is "
        "wrong for a stream of them."),
    Row("pingpong", "ping-pong framed, p50", "pp-recv", "pp-raw",
        "one frame each way over TCP (send_frame, recv_frame) against one raw byte each "
        "way, {round_trips} times: median round trip. One frame at a time, recv_frame's "
        "2nd read is cheap.",
        target=("<=", 1.05), extra=["p99_s"]),
    Row("pingpong-reader", "  the same with frame_reader", "pp-reader", "pp-raw",
        "the same, reading with a frame_reader (one read() per frame).", extra=["p99_s"]),
]


def size_words(sizes: Sizes) -> dict:
    """The sizes as a row's meaning names them: {bulk} is "1 GiB", {frames} "10 M"."""
    def count(n):
        return f"{n // 1_000_000} M" if n >= 1_000_000 and n % 1_000_000 == 0 else str(n)
    bulk = sizes.bulk
    return {**{k: count(v) for k, v in dataclasses.asdict(sizes).items()},
            "bulk": f"{bulk // GIB} GiB" if bulk % GIB == 0 else f"{bulk >> 20} MiB"}


def rows_here():
    """The rows whose variants exist here (iperf3 only where it is installed)."""
    return [r for r in ROWS if r.ours in VARIANTS and r.floor in VARIANTS]


def variants_for(rows):
    return sorted({v for r in rows for v in (r.ours, r.floor)})


def make_context(sizes: Sizes, workdir: str) -> Context:
    a = bench_run.auth(workdir)
    prefix, _ = bench_netns.namespace_prefix()
    return Context(sizes, a, bench_run.RshServer(a), prefix is not None, workdir)
