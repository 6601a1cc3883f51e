"""suite - what every part of the harness shares: where things are, the
lines the programs print that the harness reads, and the frame format.

Standard library only. demolib (the demos), rshproto (the remote shell) and
every test import these names from here, so that each is spelled once.
"""
import ast
import os
import re
import struct
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The programs under test: bin/, or another build of them (make sanitize sets
# BIN_DIR=build/san/bin).
BIN = Path(os.environ.get("BIN_DIR") or ROOT / "bin").resolve()
DEMOS = ROOT / "demos"
HARNESS = ROOT / "harness"


def python_children_unbuffered() -> None:
    """The Python programs the harness starts (the course's, a student's)
    print() into pipes, where Python keeps what they print in a buffer until
    they exit: unbuffered, as on a terminal, nothing a program printed is lost
    when a hung one is stopped. Each entry point calls this once."""
    os.environ["PYTHONUNBUFFERED"] = "1"


# The first line every server prints: "listening on 127.0.0.1:40123"
# (an IPv6 address is printed in brackets: "listening on [::1]:40123").
LISTENING = re.compile(r"listening on (\S+):(\d+)")

# What AddressSanitizer, LeakSanitizer, UBSan and TSan print when they find something.
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")

# The frame header: a u32 length in network byte order (big-endian).
HEADER = struct.Struct("!I")
HEADER_SIZE = HEADER.size


def pack_frame(body: bytes) -> bytes:
    """body as a frame on the wire: a 4-byte big-endian length, then body."""
    return HEADER.pack(len(body)) + body


class Skipped(Exception):
    """A test (or a demo run) that cannot run on this machine, and says why:
    counted as skipped, never as passed. A demo program says so with the fact
    line `SIDE | fact | skipped = REASON`."""


def sanitizer_reports(text: str):
    """The sanitizer markers found in text (empty if none)."""
    return [marker for marker in SANITIZER_REPORTS if marker in text]


_AST_LOCK = threading.Lock()


def parse_python(path) -> ast.Module:
    """ast.parse of a file, one thread at a time: run_tests.py runs tests in
    threads, and CPython's parser can fail when two threads parse at once
    ("AST constructor recursion depth mismatch")."""
    text = Path(path).read_text(encoding="utf-8")
    with _AST_LOCK:
        return ast.parse(text)


def literal(text: str):
    """ast.literal_eval of a string (a b'...' line a Python program printed),
    under the same lock as parse_python: it parses too."""
    with _AST_LOCK:
        return ast.literal_eval(text)


def stop_process(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM, so that it can clean up (rsh-server removes its token file);
    SIGKILL if it has not ended within grace seconds. Then it is reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
