# Runs a program after keeping the CPU busy for SECONDS: a program that
# starts slowly, as a Python program does on a loaded machine. It is
# running, not waiting for anything: the grader must wait for it.
# usage: python3 slow_start.py SECONDS PROGRAM [ARGS...]
# (For harness/test_grade.py.)
import os
import sys
import time

end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    pass
os.execvp(sys.argv[2], sys.argv[2:])
