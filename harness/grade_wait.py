"""grade_wait - how harness/grade.py waits: patient with a slow machine, quick
with a program that hangs.

Each step has a deadline (--deadline). A program that is merely slow - a
loaded machine, a Python that takes a second to start, a proxy that drips
bytes - must never fail it, and one that hangs must be told so soon after
it. So at the deadline a wait gives up only if nothing is happening
(idle()): every thread of the program and of the proxy sleeps, and not in a
timed sleep (it would wake by itself); none has run since the last look; and
no byte is on its way anywhere - in the grader's buffer, the proxy's
schedule, a socket's queues (sent but not acknowledged, arrived but not
read), a pipe. Then nothing can ever happen: the program waits for bytes
that will not come. One that keeps busy is given up on after a safety net
(PATIENCE, at least 10 s). Where /proc cannot say (not Linux), the deadline
alone decides.
"""
import os
import time

from grade_procs import family_pids, socket_inodes, tcp_queues, threads_of, unread

PATIENCE = 10.0     # seconds: the longest a wait goes on past its deadline (a program busy forever)
LOOK_EVERY = 0.05   # seconds between two looks at whether anything happens
LISTEN = "0A"       # a listening socket's state in /proc/net/tcp


def asleep(pid):
    """[(tid, how far it has run)] of the threads of process pid if every one
    sleeps, and not in a timed sleep; None if one runs or will wake by itself."""
    mine = threads_of(pid)
    return None if any(busy for _tid, busy, _ran in mine) else [(tid, ran) for tid, _busy, ran in mine]


class Waits:
    """The waits of a grade_session.Run (a mixin: it uses the run's state)."""

    looked = None   # (when, what the last look saw)
    unread_when_stuck = None  # bytes the student had not read when a wait last gave up on it

    def patience(self):
        return max(PATIENCE, 5 * self.o.deadline)

    def wait(self, done, seconds, bound=None, blind=None):
        """Pump until done(), and return done(). Past `seconds`, give up as
        soon as nothing is happening (idle()); past `bound` seconds (default:
        patience()), give up anyway. Where idle() cannot say, give up past
        `blind` seconds (default: `seconds`)."""
        start = time.monotonic()
        end, blind_end = start + seconds, start + (seconds if blind is None else blind)
        last = start + max(seconds, self.patience() if bound is None else bound)
        self.looked = None
        while not done():
            now = time.monotonic()
            quiet = self.idle() if now >= end else False
            if now >= last or quiet or (quiet is None and now >= blind_end):
                stuck = quiet and self.looked and self.looked[1][0] == "stuck"
                self.unread_when_stuck = self.looked[1][1] if stuck else None
                return done()
            self.check_memory()
            self.pump(min(end - now, LOOK_EVERY) if now < end else LOOK_EVERY)
        return True

    def idle(self, trace=True):
        """Whether nothing is happening, and nothing happened since the last
        look (see the module's doc). With trace, the proxy must also have passed
        on every byte written toward the student. None where /proc cannot say."""
        now = time.monotonic()
        if self.looked is not None and now - self.looked[0] < LOOK_EVERY / 2:
            return False
        seen = self.look(trace)
        if seen is None:
            return None
        before, self.looked = self.looked, (now, seen)
        return seen is not False and before is not None and before[1] == seen

    def look(self, trace):
        """What is happening now: False if something is (or may be about to);
        else a tuple that changes whenever anything runs or moves; None if
        /proc cannot say."""
        table = tcp_queues()
        if table is None:
            return None
        # one look at every process: (is it the proxy, its threads if asleep, its sockets' queues)
        procs = [(is_proxy, asleep(pid), [table.get(inode) for inode in socket_inodes(pid)])
                 for pid, is_proxy in self.processes()]
        stuck = self.student_stuck(procs)
        if stuck is not None:
            return stuck
        if trace and self.via_proxy and self.proxy is not None and not self.proxy_accounted():
            return False
        pipes = [self.proxy.stdout] if self.proxy is not None else []
        if not self.server_mode and self.student is not None and not self.stdout_eof:
            pipes.append(self.student.stdout)
        if any(not p.closed and unread(p.fileno()) for p in pipes):
            return False
        threads = []
        for is_proxy, sleeping, sockets in procs:
            if sleeping is None or any(self.queued(e, listening_counts=is_proxy) for e in sockets):
                return False
            threads += sleeping
        for s in (self.sock, self.listener):
            if s is not None and s.fileno() >= 0 and self.queued(table.get(str(os.fstat(s.fileno()).st_ino)), True):
                return False
        return (self.bytes_in, len(self.outbuf), len(self.stdin_buf), self.sock_eof, self.stdout_eof,
                tuple(sorted(threads)))

    def student_stuck(self, procs):
        """The student alone, when nothing can wake it: every thread asleep
        (not in a timed sleep), no byte of its own on its way, nothing more for
        it from us, and bytes it has not read in one of its sockets - a thread
        waiting in recv() or poll() there would have been woken by them. (The
        proxy may then be waiting for it to read them: it is not looked at.)
        ("stuck", those bytes, its threads and how far each has run: changes
        whenever the student runs); None if not so."""
        if self.student is None or self.outbuf or self.stdin_buf:
            return None
        threads, unread_bytes = [], 0
        for is_proxy, sleeping, sockets in procs:
            if is_proxy:
                continue
            if sleeping is None:
                return None
            threads += sleeping
            for state, tx, rx in filter(None, sockets):
                if state != LISTEN and tx > 0:
                    return None
                unread_bytes += rx if state != LISTEN else 0
        return ("stuck", unread_bytes, tuple(sorted(threads))) if threads and unread_bytes else None

    @staticmethod
    def queued(entry, listening_counts):
        """Whether a socket's queues hold bytes (or, if listening_counts, a
        listening socket holds connections not yet accepted)."""
        if entry is None:
            return False
        state, tx, rx = entry
        if state == LISTEN:
            return listening_counts and rx > 0
        return tx > 0 or rx > 0

    def processes(self):
        """(pid, is_proxy) of the student's processes (its group, and their
        children) and of the proxy."""
        found = []
        if self.student is not None:
            try:
                found = [(pid, False) for pid in family_pids(self.student.pid)]
            except OSError:
                pass
        if self.proxy is not None and self.proxy.poll() is None:
            found.append((self.proxy.pid, True))
        return found

    def proxy_look(self):
        """The proxy alone: False if it runs (or is about to); else a tuple
        that changes whenever it runs, or prints."""
        if self.proxy.poll() is not None:
            return ()
        sleeping = asleep(self.proxy.pid)
        if sleeping is None or unread(self.proxy.stdout.fileno()):
            return False
        return tuple(sorted(sleeping))

    def proxy_accounted(self):
        """Whether the proxy's lines account for every byte written toward the
        student (or say that the connection ended, or was cut on purpose)."""
        if sum(count for _at, count, _text in self.proxy_writes()) >= len(self.toward):
            return True
        return any(line.startswith(("proxy: conn 1 closed", "proxy: conn 1: ")) or
                   line.startswith("proxy: conn 1 ") and "-after " in line for line in self.proxy_lines)
