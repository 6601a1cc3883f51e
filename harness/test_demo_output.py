"""The two programs of a demo share one pipe (PairRun); a long --full line
is more than one atomic write, so each program takes the lock file named by
DEMO_OUTPUT_LOCK around each line. Checked from outside: while we hold the
lock, no line may come; once we let go, the lines come, whole."""
import fcntl
import os
import select
import subprocess
import tempfile
import time

from suite import BIN, LISTENING

HELD = 0.5  # seconds we hold the lock: no line may come meanwhile


def lines_from(fd, deadline):
    """Whatever comes on fd until EOF or the deadline, split into lines."""
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", "replace").splitlines()


def test_a_demo_program_waits_for_the_output_lock():
    lock_fd, lock_path = tempfile.mkstemp(prefix="demo-output-", suffix=".lock")
    rfd, wfd = os.pipe()
    p = None
    try:
        fcntl.lockf(lock_fd, fcntl.LOCK_EX)
        p = subprocess.Popen([str(BIN / "01-coalesce-server"), "--port", "0", "--patience", "1"],
                             stdout=wfd, stderr=wfd, stdin=subprocess.DEVNULL,
                             env={**os.environ, "DEMO_OUTPUT_LOCK": lock_path})
        os.close(wfd)
        wfd = -1
        early = lines_from(rfd, time.monotonic() + HELD)
        assert early == [], f"lines written while the lock was held: {early!r}"
        fcntl.lockf(lock_fd, fcntl.LOCK_UN)
        later = lines_from(rfd, time.monotonic() + 10)
        assert later and LISTENING.search(later[0]), f"after the lock was let go: {later!r}"
    finally:
        if p:
            p.kill()
            p.wait()
        for fd in (rfd, wfd, lock_fd):
            if fd >= 0:
                os.close(fd)
        os.unlink(lock_path)


COMMAND_SERVERS = ["04-truncate-server", "05-course-fix-server", "05-course-fix-fixed-server",
                   "08-request-side-server", "10-pipe-deadlock-server"]


def first_lines(name, *args):
    """What a demo server prints before it gives up waiting for a client."""
    p = subprocess.run([str(BIN / name), "--port", "0", "--patience", "1", *args],
                       capture_output=True, text=True, timeout=20)
    return (p.stdout + p.stderr).splitlines()


def test_the_demo_servers_that_run_commands_say_who_may_use_them():
    """The course's servers run any command for anyone who connects, on purpose:
    their listening line says so, and off loopback they warn."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(COMMAND_SERVERS) * 2) as pool:
        here = list(pool.map(first_lines, COMMAND_SERVERS))
        wide = list(pool.map(lambda n: first_lines(n, "--host", "0.0.0.0"), COMMAND_SERVERS))
    for name, lines, open_lines in zip(COMMAND_SERVERS, here, wide):
        assert lines and LISTENING.search(lines[0]) and "for any user of this machine" in lines[0], \
            f"{name}: its listening line must say who may run commands: {lines[:2]}"
        assert not any("not loopback" in l for l in lines), f"{name}: warned on 127.0.0.1: {lines}"
        assert any("0.0.0.0" in l and "not loopback" in l for l in open_lines), \
            f"{name} --host 0.0.0.0: expected a warning that it is not loopback: {open_lines[:3]}"
    plain = first_lines("01-coalesce-server")
    assert "for any user" not in plain[0], f"01-coalesce-server runs no command: {plain[0]}"
