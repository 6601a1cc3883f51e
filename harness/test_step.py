"""Step mode (make demo-N STEP=1), tried as a teacher uses it: through a
pseudo-terminal, pressing Enter at each question. And without a terminal it
refuses (exit 2) instead of hanging on a question nobody can answer."""
import os
import pty
import re
import select
import subprocess
import sys
import time

from suite import HARNESS

QUESTION = b"What will this recv return?"


def read_until(fd, pattern: bytes, seen: bytearray, timeout=15.0) -> bool:
    """Read the terminal until pattern appears in what was read since the last match."""
    deadline, start = time.monotonic() + timeout, len(seen)
    while pattern not in seen[start:]:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end closed: the program ended
            return False
        if not chunk:
            return False
        seen += chunk
    return True


def test_step_mode_asks_before_every_recv_on_a_terminal():
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["NO_COLOR"] = "1"
        os.execv(sys.executable, [sys.executable, str(HARNESS / "rundemo.py"), "2", "--step"])
    seen, questions = bytearray(), 0
    try:
        while read_until(fd, QUESTION, seen):
            questions += 1
            os.write(fd, b"\n")
        read_until(fd, b"\x00", seen, timeout=2)  # the rest of the output
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    text = seen.decode("utf-8", "replace").replace("\r\n", "\n")
    # demo 2: recv(1), recv(1024) in the broken run, the same two in the fixed one
    assert questions == 4, f"expected 4 questions (two recvs a run), got {questions}:\n{text}"
    assert re.search(r"\[step\] recv #1 on conn 1 asks for 1 bytes; 10 bytes wait", text), text
    assert re.search(r"\[step\] recv #2 on conn 1 asks for 1024 bytes; 9 bytes wait", text), text
    first_recv = text.index('recv #1 | conn 1 | at 0 | 1 bytes | "h"')
    assert text.index("What will this recv return?") < first_recv, \
        "the recv line must come after the question, not before"
    assert "server recv" in text[first_recv:], "expected the picture so far after the recv"


def test_step_mode_refuses_without_a_terminal():
    p = subprocess.run([sys.executable, str(HARNESS / "rundemo.py"), "2", "--step"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and "terminal" in p.stderr, (p.returncode, p.stdout, p.stderr)
