"""grade_procs - the processes of harness/grade.py: free ports, who is in a
student program's process group (Linux /proc), whether it listens, how much
memory it holds, and ending the whole group - whatever the program started.
"""
import os
import select
import signal
import socket
import subprocess
import threading


_ports_given = set()
_ports_lock = threading.Lock()


def free_port():
    """A port that was free a moment ago, and not given to another scenario of this run."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with _ports_lock:
            if port not in _ports_given:
                _ports_given.add(port)
                return port


def group_pids(pgid):
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
                if int(stat[stat.rindex(b")") + 2:].split()[2]) == pgid:
                    pids.append(int(name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def listening_on(port, pgid):
    """Whether a process of group pgid listens on port, from /proc (Linux):
    True/False; None where there is no /proc. (Another program may hold the
    port: then it is not the student's, however it answers.)"""
    inodes, seen = set(), False
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                seen = True
                for line in f.readlines()[1:]:
                    parts = line.split()
                    if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{parts[9]}]")
        except OSError:
            continue
    if not seen:
        return None
    for pid in group_pids(pgid) if inodes else []:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return True
            except OSError:
                continue
    return False


def rss_kib(pids):
    """The resident memory of these processes together, in KiB; None without /proc."""
    total, seen = 0, False
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        seen = True
        except (OSError, ValueError):
            continue
    return total if seen else None


def readable(f, seconds):
    """Whether f has something to read within seconds (poll: any descriptor number)."""
    p = select.poll()
    p.register(f.fileno(), select.POLLIN)
    return bool(p.poll(seconds * 1000))


def kill_group(pgid, sig=signal.SIGKILL):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def end_group(proc):
    """End proc (started with start_new_session) and everything in its process
    group: SIGTERM, then SIGKILL. Returns "running" if it had to be ended,
    else its exit status."""
    code = proc.poll()
    if code is None:
        for sig, wait in ((signal.SIGTERM, 0.3), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    kill_group(proc.pid)  # whatever it left behind
    return "running" if code is None else code
