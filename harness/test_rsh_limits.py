"""Limits: idle connections, bursts over the cap, descriptors and processes
running out, a huge --max-clients, and the system calls a command costs.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from contextlib import closing

from rshproto import (FrameReader, ServerError, command_frame, group_members, read_answer,
                      rsh_server, run_command, send_command)
from rshtest import (baseline, expect_answer, expect_error_then_eof, expect_group_gone,
                     read_pid_frame, still_serving)
from suite import Skipped
from test_rsh_load import fail_if, run_clients


def test_idle_connections_are_told_why_and_closed():
    """Two connections that send nothing hold both slots of --max-clients 2, but
    only until --idle-timeout; one that never sends its token, only until
    --frame-timeout. (The slots are checked on a server whose idle timeout is
    far away, so that a slow machine cannot free a slot first.)"""
    with rsh_server("--max-clients", "2") as server:
        idle = [server.connect(10), server.connect(10)]
        with closing(server.connect(10)) as third:
            expect_error_then_eof(third, "a third client while two idle ones hold the slots",
                                  ["busy"])
        for sock in idle:
            sock.close()
    with rsh_server("--max-clients", "2", "--idle-timeout", "1", "--frame-timeout", "2") as server:
        fds = baseline(server)
        idle = [server.connect(10), server.connect(10)]
        for i, sock in enumerate(idle):
            expect_error_then_eof(sock, f"idle client {i}", ["idle", "--idle-timeout"])
            sock.close()
        # a barrier: the server has seen them go (a slot is free only then)
        server.wait_for_baseline(fds)
        with closing(server.connect(10)) as sock:
            expect_answer("a client once the idle ones are gone", run_command(sock, "echo in"),
                          (b"in\n", b"", 0))
        server.wait_for_baseline(fds)
        with closing(server.connect(10, auth=False)) as sock:
            expect_error_then_eof(sock, "a connection that never sends its token", ["token"])
        server.wait_for_baseline(fds)
        with closing(server.connect(10)) as sock:
            expect_answer("a command that runs longer than --idle-timeout",
                          run_command(sock, "sleep 1.5; echo done"), (b"done\n", b"", 0))


def test_a_burst_over_the_cap_is_told_busy_never_reset():
    with rsh_server("--max-clients", "2") as server:
        fds = baseline(server)
        held = [server.connect(10) for _ in range(2)]
        for sock in held:
            expect_answer("a client under the cap", run_command(sock, "true"), (b"", b"", 0))
        burst = []
        for _ in range(40):  # each sends a command at once, as rsh-client does
            sock = server.connect(10)
            sock.sendall(command_frame("echo over the cap"))
            burst.append(sock)
        for i, sock in enumerate(burst):
            expect_error_then_eof(sock, f"connection {i + 1} of 40 over --max-clients 2", ["busy"])
            sock.close()
        for sock in held:
            expect_answer("a client under the cap, after the burst", run_command(sock, "echo ok"),
                          (b"ok\n", b"", 0))
            sock.close()
        server.wait_for_baseline(fds)


def test_a_command_that_cannot_start_is_reported_not_timed_out():
    """No process can be made for it: an 'E' frame saying why, and status 255 -
    not 'timed out', not -9, and nothing killed. The server runs as a user of
    its own with RLIMIT_NPROC 2 (ulimit -u; root is exempt from it): itself
    and one command."""
    if os.geteuid() != 0:
        raise Skipped("needs root, to run the server as another user")
    uid = 54321  # a user id of its own: its processes are the server's alone
    with rsh_server(uid=uid, prefix=with_limit("RLIMIT_NPROC", 2, uid)) as server, \
            closing(server.connect(10)) as a, closing(server.connect(10)) as b:
        send_command(a, "echo $$; exec sleep 30")
        pid = read_pid_frame(a)  # the user's second process: no third
        out, err, status = run_command(b, "echo must-not-run")
        assert (out, status) == (b"", 255) and b"cannot start the command" in err and \
            b"timed out" not in err, \
            f"a command that cannot start: expected stderr 'cannot start the command: ...' " \
            f"and status 255; got stdout {out!r}, stderr {err!r}, status {status}"
        assert group_members(pid), "the other client's command was killed"
        a.close()
        expect_group_gone(server, pid, "after its client left")
        expect_answer("the next command", run_command(b, "echo again"), (b"again\n", b"", 0))


def with_limit(name: str, n: int, uid: int = None):
    """A prefix for rsh_server: the resource limit name set to n (soft and hard),
    as a shell's ulimit does; then, with uid, that user and group (we are root);
    then exec."""
    switch = f"os.setgroups([]); os.setgid({uid}); os.setuid({uid}); " if uid else ""
    return [sys.executable, "-c", f"import os, resource, sys; resource.setrlimit(resource."
            f"{name}, ({n}, {n})); {switch}os.execvp(sys.argv[1], sys.argv[1:])"]


def test_few_descriptors_cap_the_clients_and_every_command_starts():
    """Under ulimit -n 40, 16 clients at once: each is served or told "busy";
    none gets "cannot start the command" (the server keeps the descriptors a
    client's command needs before it takes the client)."""
    if os.environ.get("RSH_SERVER_WRAPPER"):
        raise Skipped("a wrapper (valgrind) keeps descriptors of its own under the limit")
    results = []
    with rsh_server(prefix=with_limit("RLIMIT_NOFILE", 40)) as server:
        def work(i):
            with closing(server.connect(30)) as sock:
                try:
                    results.append(run_command(sock, f"sleep 0.3; echo client-{i}"))
                except ServerError as e:
                    assert b"busy" in e.reason, f"client {i}: expected 'busy', got {e.reason!r}"
                    results.append("busy")

        fail_if(run_clients(16, work), "16 clients under ulimit -n 40")
        served = [r for r in results if r != "busy"]
        bad = [r for r in served if r[2] != 0 or not r[0].startswith(b"client-")]
        assert served and not bad, f"expected every admitted command to run; got {results}"
        log = server.stderr_text(10**6)
        assert "cannot start" not in log and "accept:" not in log, log[-2000:]
        still_serving(server)


def test_the_default_cap_serves_100_clients_at_once():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 600:
        raise Skipped(f"ulimit -n is {soft}: the default cap it gives is under 100")
    with rsh_server() as server:
        def work(i):
            with closing(server.connect(60)) as sock:
                expect_answer(f"client {i}", run_command(sock, f"sleep 1; echo {i}"),
                              (f"{i}\n".encode(), b"", 0))

        fail_if(run_clients(100, work), "100 clients at once with the default --max-clients")


def rss_after_commands(*args) -> int:
    with rsh_server("--quiet", *args) as server, closing(server.connect(10)) as sock:
        sock.sendall(b"".join(command_frame("true") for _ in range(50)))
        reader = FrameReader(sock)
        for _ in range(50):
            read_answer(reader)
        return server.rss_kib()


def test_max_clients_100000_costs_nothing_until_clients_come():
    """Memory and work follow the connections there are, not the cap: the old
    server allocated and walked 100,000 slots each poll() round."""
    base, huge = rss_after_commands(), rss_after_commands("--max-clients", "100000")
    assert huge - base < 8 * 1024, \
        f"--max-clients 100000: expected about the memory of the default, got {huge} KiB " \
        f"against {base} KiB"


def strace_calls(pid: int, work) -> int:
    """How many system calls process pid makes while work() runs (strace -c)."""
    out = f"/tmp/rsh-strace-{pid}.txt"
    tracer = subprocess.Popen(["strace", "-c", "-o", out, "-p", str(pid)],
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = tracer.stderr.readline()  # "strace: Process N attached"
        if b"attached" not in line:
            raise Skipped(f"strace cannot attach here: {line!r}")
        work()
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(30)
    with open(out) as f:
        text = f.read()
    os.unlink(out)
    m = re.search(r"^-+.*\n\s*100\.00\s+\S+\s+\S+\s+(\d+)\s+(?:\d+\s+)?total", text, re.M)
    if not m:
        raise AssertionError(f"no total line in strace's summary:\n{text}")
    return int(m.group(1))


def test_system_calls_per_command():
    """300 pipelined `true`: at most 25 system calls of the server each (it
    made 39: twelve fcntl, a wait4 that always failed, the self-pipe...)."""
    if not shutil.which("strace") or os.environ.get("RSH_SERVER_WRAPPER"):
        raise Skipped("needs strace, and the server not under a wrapper")
    count = 300
    with rsh_server("--quiet") as server, closing(server.connect(10)) as sock:
        def work():
            sock.sendall(b"".join(command_frame("true") for _ in range(count)))
            reader = FrameReader(sock)
            for n in range(count):
                expect_answer(f"true #{n}", read_answer(reader), (b"", b"", 0))

        expect_answer("a first command", run_command(sock, "true"), (b"", b"", 0))
        calls = strace_calls(server.pid, work)
    assert calls <= 25 * count, \
        f"expected at most 25 system calls per command, got {calls / count:.1f} ({calls} for {count})"
