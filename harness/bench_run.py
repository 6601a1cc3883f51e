"""bench_run - running what make bench measures: the suite's bench tools,
rsh-server and rsh-client the way their --help says, and the CPU each used.

Standard library only, Linux (/proc). Used by bench.py (the benchmark),
bench_netns.py (inside a private network namespace) and test_bench.py.

rsh-server is being changed (authentication with a token file): whatever its
--help says it needs, auth() gives - a token file, and the option or the
environment variable each --help names for it - so the benchmark measures
whatever bin/rsh-server is when it runs.
"""
import os
import re
import secrets
import select
import subprocess
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field

from suite import BIN, LISTENING, stop_process

TICK = os.sysconf("SC_CLK_TCK")  # /proc/PID/stat counts CPU time in these


class BenchError(Exception):
    """A measurement could not be made; says which command and what it said."""


def tool(name: str) -> str:
    path = BIN / name
    if not os.access(path, os.X_OK):
        raise BenchError(f"{path} is missing: run 'make all' (or 'make bin/{name}')")
    return str(path)


def run_tool(args, timeout: float = 600, **kw) -> dict:
    """Run one of the bench tools; its last line 'NAME | key value | ...' as a
    dict (numbers as float), plus 'wall' (seconds, measured here)."""
    start = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        raise BenchError(f"$ {' '.join(map(str, args))}  (exit {p.returncode})\n"
                         f"{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return {**parse_fields(p.stdout.strip().splitlines()[-1]), "wall": wall}


def parse_fields(line: str) -> dict:
    """'bench-tcp | bytes 10 | seconds 0.5' -> {'bytes': 10.0, 'seconds': 0.5}
    (a field whose last word is not a number is kept whole as text)."""
    fields = {}
    for part in line.split(" | ")[1:]:
        key, _, value = part.strip().rpartition(" ")
        try:
            fields[key] = float(value)
        except ValueError:
            fields[part.strip()] = True
    return fields


# ---- what rsh-server and rsh-client need, from their --help ----

@dataclass
class Auth:
    server_args: list = field(default_factory=list)
    client_args: list = field(default_factory=list)
    client_env: dict = field(default_factory=dict)
    note: str = "no token: rsh-server --help names none"


TOKEN_OPTION = re.compile(r"(--[\w-]*token[\w-]*)(?:[ =]([A-Z][A-Z_]*))?")
TOKEN_ENV = re.compile(r"\b([A-Z][A-Z0-9_]*TOKEN[A-Z0-9_]*)\b")


def help_text(name: str) -> str:
    p = subprocess.run([tool(name), "--help"], capture_output=True, text=True, timeout=10)
    return p.stdout + p.stderr


def token_option(help_out: str, path: str, token: str) -> list:
    """The first option of a --help that names a token, with the file's path
    or the token itself as its value (a FILE/PATH metavar or 'file' in the
    name means the path)."""
    m = TOKEN_OPTION.search(help_out)
    if not m:
        return []
    wants_file = "file" in m.group(1).lower() or (m.group(2) or "") in ("FILE", "PATH")
    return [m.group(1), path if wants_file else token]


def writes_token(server_help: str) -> bool:
    """Does the server's token option say that the server writes the file?"""
    return re.search(r"--token[\w-]*[ =]\S+\s+(?:\S+ ){0,2}write", server_help) is not None


def auth(workdir: str) -> Auth:
    """The token arguments each side's --help asks for: a token file in
    workdir (a private temporary directory) named to both; written by us
    first unless the server's --help says that it writes it itself. No token
    at all if rsh-server's --help names none."""
    server_help, client_help = help_text("rsh-server"), help_text("rsh-client")
    if "token" not in server_help.lower():
        return Auth()
    token = secrets.token_hex(32)
    path = os.path.join(workdir, "rsh-token")
    server_writes = writes_token(server_help)
    if not server_writes:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(token + "\n")
    a = Auth(token_option(server_help, path, token), token_option(client_help, path, token))
    for name in TOKEN_ENV.findall(client_help):
        a.client_env[name] = path if "FILE" in name or "PATH" in name else token
    def shown(args):
        return " ".join("FILE" if x == path else "TOKEN" if x == token else x for x in args)
    a.note = (f"with a token: rsh-server {shown(a.server_args) or '(no option)'}, rsh-client "
              f"{shown(a.client_args) or '(no option)'}"
              + "".join(f", {k}=..." for k in a.client_env)
              + f" (FILE in a private temporary directory, "
              f"{'written by the server' if server_writes else 'written by make bench'})")
    return a


# ---- a running rsh-server ----

class RshServer:
    """bin/rsh-server --port 0 on 127.0.0.1; .port, .pid; stop() ends it."""

    def __init__(self, a: Auth):
        quiet = ["--quiet"] if "--quiet" in help_text("rsh-server") else []
        self.stderr = tempfile.TemporaryFile()
        self.command = [tool("rsh-server"), "--port", "0", *quiet, *a.server_args]
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        self.pid = self.proc.pid
        line = first_line(self.proc.stdout, 15)
        m = LISTENING.search(line)
        if not m:
            self.stop()
            raise BenchError(f"$ {' '.join(self.command)}\nexpected 'listening on HOST:PORT', "
                             f"got {line!r}; stderr: {self.stderr_text()}")
        self.port = int(m.group(2))

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-2000:].decode("utf-8", "replace")

    def stop(self) -> None:
        stop_process(self.proc, 5)
        self.proc.stdout.close()
        self.stderr.close()

    def cpu(self) -> dict:
        """CPU seconds so far (user+sys): the server itself (from schedstat, in
        ns, where the kernel keeps it; else in clock ticks), and its reaped
        commands (in clock ticks)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        utime, stime, cutime, cstime = (int(x) / TICK for x in fields[11:15])
        own = utime + stime
        try:
            with open(f"/proc/{self.pid}/schedstat") as f:
                own = int(f.read().split()[0]) / 1e9 or own
        except (OSError, ValueError, IndexError):
            pass
        return {"self": own, "children": cutime + cstime}


def first_line(stream, timeout: float) -> str:
    fd, line = stream.fileno(), b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line.decode("utf-8", "replace")


# ---- rsh-client, three ways ----

def client_command(server: RshServer, a: Auth, *words) -> list:
    return [tool("rsh-client"), "--port", str(server.port), *a.client_args, *words]


def client_env(a: Auth) -> dict:
    return {**os.environ, **a.client_env}


def check_client(p_code: int, cmd, what: str, stderr=None) -> None:
    """Raise if the client failed, with the tail of its stderr (a file) if given."""
    if p_code != 0:
        said = ""
        if stderr is not None:
            stderr.seek(0)
            said = "\n" + stderr.read()[-1500:].decode("utf-8", "replace")
        raise BenchError(f"$ {' '.join(map(str, cmd))}  ({what}: exit {p_code}){said}")


def pipelined(server, a: Auth, lines, stdout=subprocess.DEVNULL) -> tuple:
    """All commands on rsh-client's stdin (a file: no terminal, so it
    pipelines). Returns the seconds from start to exit and the client's CPU
    seconds."""
    cmd = client_command(server, a)
    with tempfile.TemporaryFile() as f, tempfile.TemporaryFile() as err:
        f.write("".join(line + "\n" for line in lines).encode())
        f.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=f, stdout=stdout, stderr=err, env=client_env(a))
        code, cpu = wait_cpu(proc)
        seconds = time.perf_counter() - start
        check_client(code, cmd, "pipelined", err)
    return seconds, cpu


def lock_step(server, a: Auth, lines, stdout=subprocess.DEVNULL) -> tuple:
    """rsh-client with a terminal on stdin: it reads a line only after the
    previous answer (as a person typing would), so each command is sent after
    the previous answer. Echo off; ^D at the end. Returns the seconds and the
    client's CPU seconds."""
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~(termios.ECHO | termios.ECHONL)
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    os.set_blocking(master, False)
    data = "".join(line + "\n" for line in lines).encode() + b"\x04"
    done = threading.Event()
    # a terminal holds 4 KiB of typed-ahead input: the rest is written as it is read
    writer = threading.Thread(target=type_ahead, args=(master, data, done), daemon=True)
    cmd = client_command(server, a)
    with tempfile.TemporaryFile() as err:
        try:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdin=slave, stdout=stdout, stderr=err,
                                    env=client_env(a))
            writer.start()
            code, cpu = wait_cpu(proc)
            seconds = time.perf_counter() - start
        finally:
            done.set()
            if writer.ident is not None:  # started
                writer.join()
            os.close(slave)
            os.close(master)
        check_client(code, cmd, "lock-step, stdin a terminal", err)
    return seconds, cpu


def type_ahead(fd: int, data: bytes, done: threading.Event) -> None:
    """Write data into the terminal's master side as fast as it takes it,
    until all is written or done is set (the client has exited)."""
    while data and not done.is_set():
        select.select([], [fd], [], 0.1)
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            continue
        except OSError:
            return


def one_per_command(server, a: Auth, count: int, command: str = "true") -> float:
    """count rsh-client processes, one per command, started by a shell loop."""
    loop = (f'i=0; while [ "$i" -lt {count} ]; do "$0" "$@" >/dev/null || exit 1; '
            f'i=$((i+1)); done')
    cmd = ["sh", "-c", loop, *client_command(server, a, command)]
    start = time.perf_counter()
    code = subprocess.run(cmd, env=client_env(a), timeout=600).returncode
    seconds = time.perf_counter() - start
    check_client(code, cmd, "one client per command")
    return seconds


def shell_loop(count: int, command: str = "true") -> float:
    """count `sh -c COMMAND` started by a shell loop: the floor a shell user knows."""
    loop = f'i=0; while [ "$i" -lt {count} ]; do sh -c "$0" || exit 1; i=$((i+1)); done'
    start = time.perf_counter()
    code = subprocess.run(["sh", "-c", loop, command], timeout=600).returncode
    check_client(code, ["sh", "-c", loop, command], "shell loop")
    return time.perf_counter() - start


def wait_cpu(proc, timeout: float = 600) -> tuple:
    """Wait for proc (killed after timeout seconds: a hang must not hang the
    benchmark); (exit code, user+sys seconds of it and its reaped children)."""
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        watchdog.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime
