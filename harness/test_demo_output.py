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
