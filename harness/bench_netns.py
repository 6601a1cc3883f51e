#!/usr/bin/env python3
"""bench_netns - delayed ACKs counted in a private network namespace.

usage: bench_netns.py SCENARIO [--count N]      (run inside a namespace)

Linux counts every ACK it sent late, when its delayed-ACK timer fired, in
/proc/net/netstat (TcpExt: DelayedACKs). The counters belong to the network
namespace, so in a namespace of our own (`unshare --net`, or with
`--user --map-root-user` for a user who is not root) nothing but the
programs we start there can move them. in_namespace() re-executes this file
there; the file brings lo up, runs one scenario, and prints one JSON line:
{"scenario": ..., "count": N, "seconds": S, "delayed_acks": D, ...}.

Scenarios (N commands each, each sent after the previous answer):
  rsh          bin/rsh-server and bin/rsh-client (a terminal on its stdin), `echo x`
  course       the course's simple fix, harness/course/fix_server_000.py: header
               (struct.pack('i')), stdout, stderr in three send()s; our driver
               reads each answer exactly, `echo x`
  two-sends    bin/bench-reply --two-sends: header, then body, no command run
  one-sendmsg  bin/bench-reply: header and body in one sendmsg (send_frame)
  regression   the test's: rsh (up to 3 tries, until one counts 0), then course (a fifth as many)
"""
import argparse
import fcntl
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_run  # noqa: E402
from suite import HARNESS  # noqa: E402

COURSE_SERVER = HARNESS / "course" / "fix_server_000.py"
DELACK_SETTLE_S = 0.25     # past Linux's longest delayed-ACK timer (200 ms) before counting
RSH_TRIES = 3
NO_NAMESPACE_EXIT = 77     # the helper's exit status when it cannot set the namespace up


class NoNamespace(bench_run.BenchError):
    """No private network namespace can be made here; says why."""


# ---- the counter ----

def netstat_counters(text: str, group: str = "TcpExt") -> dict:
    """/proc/net/netstat as {name: value} for one group: its lines come in
    pairs, 'TcpExt: Name1 Name2...' then 'TcpExt: 1 2...'."""
    lines = [line.split() for line in text.splitlines() if line.startswith(group + ":")]
    if len(lines) < 2:
        raise ValueError(f"no {group} lines in /proc/net/netstat")
    return dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))


def delayed_acks() -> int:
    with open("/proc/net/netstat") as f:
        return netstat_counters(f.read())["DelayedACKs"]


# ---- the namespace ----

_PREFIX = {}


def namespace_prefix():
    """(the unshare command that makes a private network namespace here, None)
    or (None, why not). Tried once per process."""
    if "v" not in _PREFIX:
        _PREFIX["v"] = _find_prefix()
    return _PREFIX["v"]


def _find_prefix():
    unshare = shutil.which("unshare")
    if unshare is None:
        return None, "no unshare command here (util-linux)"
    tries = ([[unshare, "--net"]] if os.geteuid() == 0 else []) + \
        [[unshare, "--user", "--map-root-user", "--net"]]
    why = []
    for prefix in tries:
        try:
            p = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as e:
            why.append(f"{' '.join(prefix)}: {e}")
            continue
        if p.returncode == 0:
            return prefix, None
        why.append(f"{' '.join(prefix)}: {p.stderr.strip() or f'exit {p.returncode}'}")
    return None, "; ".join(why)


def in_namespace(scenario: str, count: int, private: bool = True) -> dict:
    """Run one scenario in a new private network namespace (or, with private
    False, right here, where other traffic counts too); its JSON result."""
    prefix = []
    if private:
        prefix, why = namespace_prefix()
        if prefix is None:
            raise NoNamespace(f"no private network namespace: {why}")
    cmd = [*prefix, sys.executable, os.path.abspath(__file__), scenario, "--count", str(count)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if p.returncode == NO_NAMESPACE_EXIT:
        raise NoNamespace(p.stderr.strip())
    if p.returncode != 0 or not p.stdout.strip():
        raise bench_run.BenchError(f"$ {' '.join(cmd)}  (exit {p.returncode})\n"
                                   f"{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def lo_up() -> None:
    """A new namespace's lo is down: bring it up (SIOCSIFFLAGS, as `ip link
    set lo up` does)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    ifreq = struct.Struct("16sh22x")  # struct ifreq: the name, then ifr_flags
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        _, flags = ifreq.unpack(fcntl.ioctl(s, siocgifflags, ifreq.pack(b"lo", 0)))
        if not flags & iff_up:
            fcntl.ioctl(s, siocsifflags, ifreq.pack(b"lo", flags | iff_up))


def counted(run) -> dict:
    """run() -> dict, with the delayed ACKs it caused: the counter before,
    and after every delayed-ACK timer it may have armed has fired."""
    before = delayed_acks()
    result = run()
    time.sleep(DELACK_SETTLE_S)
    result["delayed_acks"] = delayed_acks() - before
    return result


# ---- the scenarios ----

def rsh(count: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        a = bench_run.auth(d)
        server = bench_run.RshServer(a)
        try:
            with tempfile.TemporaryFile() as out:
                result = counted(lambda: {"seconds": bench_run.lock_step(
                    server, a, ["echo x"] * count, stdout=out)[0]})
                out.seek(0)
                got = out.read()
        finally:
            server.stop()
    if got != b"x\n" * count:
        raise bench_run.BenchError(f"rsh-client printed {got[:200]!r}, expected {count} x 'x\\n'")
    return {**result, "auth": a.note}


def free_port() -> int:
    """A port that was free a moment ago (in a new namespace, all are)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def course(count: int) -> dict:
    port = free_port()
    server = subprocess.Popen([sys.executable, str(COURSE_SERVER), str(port), "127.0.0.1"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        wait_listening(port, server)
        return counted(lambda: {"seconds": course_driver(port, count)})
    finally:
        server.kill()
        server.wait()
        server.stderr.close()


def wait_listening(port: int, proc, timeout: float = 20.0) -> None:
    """Until a socket listens on 127.0.0.1:port (read from /proc/net/tcp: a
    test connection would add to the counts), or fail."""
    want = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as f:
            if any(line.split()[1] == want and line.split()[3] == "0A"
                   for line in f.readlines()[1:]):
                return
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    raise bench_run.BenchError(f"the course's server is not listening on port {port} "
                               f"(exit {proc.poll()}): "
                               f"{proc.stderr.read() if proc.poll() is not None else ''}")


def course_driver(port: int, count: int) -> float:
    """The course's client, reading correctly: each command after the whole
    previous answer; the 4-byte native 'i' header, then exactly that many
    bytes. Returns the seconds for count commands."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        start = time.perf_counter()
        for _ in range(count):
            sock.sendall(b"echo x")
            (total,) = struct.unpack("i", recv_exact(sock, 4))
            answer = recv_exact(sock, total)
            if answer != b"x\n":
                raise bench_run.BenchError(f"the course's server answered {answer!r}")
        return time.perf_counter() - start


def recv_exact(sock, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise bench_run.BenchError(f"EOF after {len(data)} of {n} bytes")
        data += chunk
    return data


def reply(count: int, two_sends: bool) -> dict:
    cmd = [bench_run.tool("bench-reply"), "--count", str(count)] + \
        (["--two-sends"] if two_sends else [])
    return counted(lambda: {"seconds": bench_run.run_tool(cmd)["seconds"]})


def regression(count: int) -> dict:
    """rsh until one try counts no delayed ACK (at most RSH_TRIES: a command
    that a loaded machine keeps from answering for 40 ms lets the server's
    ACK of it go late, once; a server that sends an answer in two small
    pieces makes about one per command, every try), then the course's fix,
    for a fifth as many commands (each costs it 40 ms; it only has to show
    that the count sees them).
    First, where allowed, a real-time priority for us and all we start, so
    that busy neighbours do not stall a command for 40 ms."""
    priority = raise_priority()
    tries = []
    while len(tries) < RSH_TRIES and (not tries or tries[-1] != 0):
        tries.append(rsh(count)["delayed_acks"])
    course_count = max(1, count // 5)
    return {"rsh_tries": tries, "course": course(course_count)["delayed_acks"],
            "course_count": course_count, "priority": priority}


def raise_priority() -> str:
    """SCHED_FIFO (inherited by every process we start) if we may, else a
    nice of -10, else nothing; says which. Our processes block in poll()
    and read() between short bursts, so they cannot starve the machine (and
    Linux keeps 5% of each second for the others anyway)."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        return "SCHED_FIFO 1"
    except (OSError, AttributeError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
        return "nice -10"
    except OSError:
        return "normal"


SCENARIOS = {
    "rsh": rsh,
    "course": course,
    "two-sends": lambda n: reply(n, True),
    "one-sendmsg": lambda n: reply(n, False),
    "regression": regression,
}


def main() -> int:
    parser = argparse.ArgumentParser(description="One delayed-ACK scenario, counted in this "
                                     "network namespace (run it in a new one).")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    try:
        lo_up()
    except OSError as e:
        print(f"bench_netns: cannot bring lo up in the new namespace: {e}", file=sys.stderr)
        return NO_NAMESPACE_EXIT
    result = SCENARIOS[args.scenario](args.count)
    print(json.dumps({"scenario": args.scenario, "count": args.count, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
