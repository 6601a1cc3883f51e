"""grade_procs - the processes of harness/grade.py: free ports, who is in a
student program's process group (Linux /proc), whether it listens, how much
memory it holds, what its threads and sockets are doing (for grade_wait.py),
and ending the whole group - whatever the program started.
"""
import array
import fcntl
import os
import select
import signal
import socket
import subprocess
import termios
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


def proc_table():
    """{pid: (parent pid, process group)} of every process here, from /proc
    (Linux; OSError without it)."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
                fields = stat[stat.rindex(b")") + 2:].split()  # after the name, which may hold anything
                found[int(name)] = (int(fields[1]), int(fields[2]))
            except (OSError, ValueError, IndexError):
                continue
    return found


def group_pids(pgid):
    return [pid for pid, (_ppid, group) in proc_table().items() if group == pgid]


def family_pids(pgid):
    """The processes of group pgid and all their descendants, whatever their
    group (a server may run each command in a group of its own)."""
    table = proc_table()
    parent = {pid: ppid for pid, (ppid, _group) in table.items()}
    found = {pid for pid, (_ppid, group) in table.items() if group == pgid}
    grew = True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    return sorted(found)


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


def tcp_queues():
    """Every TCP socket here, from /proc/net/tcp and tcp6: inode -> (state,
    bytes in its send queue (not yet acknowledged), bytes in its receive queue
    (not yet read); for a listening socket (state "0A"), connections not yet
    accepted). None where there is no such table."""
    found, seen = {}, False
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        seen = True
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and ":" in parts[4]:
                tx, rx = parts[4].split(":")
                found[parts[9]] = (parts[3], int(tx, 16), int(rx, 16))
    return found if seen else None


def socket_inodes(pid):
    """The inodes of the sockets process pid holds, as /proc/net/tcp names them."""
    found = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            found.add(link[8:-1])
    return found


def threads_of(pid):
    """[(tid, busy, progress)] for each thread of process pid: busy if it runs
    or may run soon (R, D, or a timed sleep: it wakes by itself); progress, a
    number that grows whenever it runs (its CPU time in ns, or its context
    switches)."""
    found = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        base = f"/proc/{pid}/task/{tid}"
        try:
            with open(base + "/stat", "rb") as f:
                stat = f.read()
            state = stat[stat.rindex(b")") + 2:][:1].decode()
        except (OSError, ValueError, IndexError):
            continue
        busy = not state or state in "RDW" or timed_sleep(base)
        found.append((int(tid), busy, progress(base)))
    return found


def timed_sleep(base):
    """Whether the thread at /proc/.../task/TID sleeps for a time (sleep(), nanosleep())."""
    try:
        with open(base + "/wchan") as f:
            return "nanosleep" in f.read()
    except OSError:
        return False


def progress(base):
    """A number that grows whenever the thread runs: CPU time (ns), else its context switches."""
    try:
        with open(base + "/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(base + "/status") as f:
            return sum(int(line.split()[1]) for line in f if "ctxt_switches:" in line)
    except (OSError, ValueError, IndexError):
        return None


def unread(fd):
    """Bytes waiting to be read on the pipe or socket fd (FIONREAD); 0 if it cannot be said."""
    n = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.FIONREAD, n, True)
    except OSError:
        return 0
    return n[0]


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
