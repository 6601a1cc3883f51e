"""Who may run commands: only a client that sends the server's token, which
only the server's user can read (solution/rsh-proto.h, "The token").

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from contextlib import closing

from rshproto import (BIN, TOKEN_HEX, command_frame, pack_frame, rsh_server, run_command,
                      token_path)
from rshtest import baseline, expect_answer, expect_error_then_eof, still_serving
from suite import ROOT, Skipped

CLIENT = str(BIN / "rsh-client")


def no_xdg():
    """Our environment without XDG_RUNTIME_DIR: the token is in /tmp/rsh-UID/."""
    return {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}


def check_refused(server, first: bytes, label: str, words, marker: str) -> bytes:
    """A connection that sends first, then a command that would create marker:
    one '!' frame naming words, a clean EOF, and the command never runs."""
    with closing(server.connect(timeout=10, auth=False)) as sock:
        sock.sendall(first + command_frame(f"touch {marker}"))
        reason = expect_error_then_eof(sock, label, words)
    assert not os.path.exists(marker), f"{label}: the command ran ({marker} exists)"
    return reason


def test_a_client_without_the_right_token_runs_nothing():
    folder = tempfile.mkdtemp(prefix="rsh-auth-")
    marker = os.path.join(folder, "ran")
    try:
        with rsh_server() as server:
            fds = baseline(server)
            check_refused(server, b"", "a client that sends no token", ["token"], marker)
            check_refused(server, pack_frame(b"A" + b"0" * TOKEN_HEX), "a wrong token",
                          ["wrong token"], marker)
            check_refused(server, pack_frame(b"Aabc"), "a token of 3 bytes", ["64 hex"], marker)
            log = server.stderr_text()
            assert log.count("refused: authentication") == 3, \
                f"expected the server to log each of the 3 refusals, got:\n{log}"
            server.wait_for_baseline(fds)
            still_serving(server)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_token_file_is_private_and_goes_with_the_server():
    with rsh_server() as server:
        path = server.token_path()
        st, folder = os.lstat(path), os.lstat(os.path.dirname(path))
        with open(path, "rb") as f:
            text = f.read()
        assert (stat.S_ISREG(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid) == \
            (True, 0o600, os.geteuid()), f"{path}: expected a file of ours, mode 0600; got {st}"
        assert (stat.S_IMODE(folder.st_mode), folder.st_uid) == (0o700, os.geteuid()), \
            f"{os.path.dirname(path)}: expected a directory of ours, mode 0700; got {folder}"
        assert len(text) == TOKEN_HEX + 1 and text.endswith(b"\n") and \
            all(c in b"0123456789abcdef" for c in text[:-1]), f"{path} holds {text!r}"
    assert not os.path.exists(path), f"{path} is still there after the server stopped"


def as_nobody():
    """The command prefix that runs a program as user nobody, or Skipped."""
    if os.geteuid() != 0:
        raise Skipped("running a client as another user needs root")
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    raise Skipped("neither setpriv nor runuser is installed: no way to run a client as nobody")


GUESS = """
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(struct.pack("!I", 65) + b"A" + b"0" * 64 + struct.pack("!I", 9) + b"C" + sys.argv[2].encode())
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.stdout.buffer.write(data)
"""


def test_another_user_of_this_machine_is_refused():
    """The attack: the server runs as root; user nobody connects to 127.0.0.1."""
    prefix = as_nobody()
    folder = tempfile.mkdtemp(prefix="rsh-auth-")
    marker = os.path.join(folder, "ran")
    run = lambda *cmd: subprocess.run([*prefix, *cmd], capture_output=True, timeout=30,
                                      env=no_xdg(), cwd="/")
    try:
        with rsh_server() as server:
            port = str(server.port)
            p = run(CLIENT, "--port", port, f"touch {marker}")
            assert p.returncode == 255 and b"authentication required" in p.stderr, \
                f"rsh-client as nobody: expected exit 255 and the server's refusal, got exit " \
                f"{p.returncode}, stdout {p.stdout!r}, stderr {p.stderr!r}"
            p = run(CLIENT, "--port", port, "--token-file", server.token_path(), f"touch {marker}")
            assert p.returncode == 255 and b"Permission denied" in p.stderr, \
                f"rsh-client as nobody with --token-file {server.token_path()}: expected exit " \
                f"255, unable to read it; got exit {p.returncode}, stderr {p.stderr!r}"
            p = run(sys.executable, "-c", GUESS, port, f"touch {marker}")
            assert p.stdout[4:5] == b"!" and b"wrong token" in p.stdout, \
                f"a guessed token from nobody: expected one '!' frame, got {p.stdout!r} {p.stderr!r}"
            # the demo programs are not wrapped for valgrind: take them from bin/
            demo = BIN / "04-truncate-fixed-client"
            demo = demo if demo.exists() else ROOT / "bin" / demo.name
            p = run(str(demo), "--port", port)
            assert p.returncode != 0 and b"authentication required" in p.stderr, \
                f"demo 4's fixed client as nobody: expected it to stop at the refusal, got " \
                f"exit {p.returncode}, stderr {p.stderr[-300:]!r}"
            assert not os.path.exists(marker), f"a command sent by nobody ran ({marker} exists)"
            log = server.stderr_text()
            assert log.count("refused: authentication") == 4, f"expected 4 refusals logged:\n{log}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def start_refused(env, what: str) -> str:
    """Start rsh-server with env; it must refuse to start (exit 1): its stderr."""
    p = subprocess.Popen([str(BIN / "rsh-server"), "--port", "0"], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"{what}: expected rsh-server to refuse to start; it runs "
                             f"(stdout {out!r}, stderr {err!r})") from None
    assert p.returncode == 1 and b"listening" not in out, \
        f"{what}: expected exit 1 before listening; got exit {p.returncode}, stdout {out!r}"
    return err.decode("utf-8", "replace")


def test_a_token_place_others_can_reach_is_refused():
    folder = tempfile.mkdtemp(prefix="rsh-xdg-")
    env = {**no_xdg(), "XDG_RUNTIME_DIR": folder}
    try:
        os.mkdir(os.path.join(folder, "rsh"), 0o755)
        os.chmod(os.path.join(folder, "rsh"), 0o755)
        err = start_refused(env, "its token directory is mode 0755")
        assert "0755" in err and "chmod 700" in err, f"expected the mode and the fix named: {err!r}"
        if os.geteuid() == 0:
            os.chmod(os.path.join(folder, "rsh"), 0o700)
            os.chown(os.path.join(folder, "rsh"), 65534, 65534)
            err = start_refused(env, "its token directory belongs to another user")
            assert "belongs to uid 65534" in err, f"expected the owner named: {err!r}"
        shutil.rmtree(os.path.join(folder, "rsh"))
        with rsh_server(env=env) as server:
            path = os.path.join(folder, "rsh", f"token-{server.port}")
            assert os.path.exists(path), f"expected the token in {path}"
            os.chmod(path, 0o644)  # now others could read it: it is no secret any more
            p = subprocess.run([CLIENT, "--port", str(server.port), "echo hi"], env=env,
                               capture_output=True, timeout=30)
            assert p.returncode == 255 and b"others can read it" in p.stderr and \
                b"authentication required" in p.stderr and p.stdout == b"", \
                f"rsh-client with a token file of mode 0644: expected it not to send it, the " \
                f"server's refusal and exit 255; got exit {p.returncode}, stdout {p.stdout!r}, " \
                f"stderr {p.stderr!r}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_no_auth_says_loudly_what_it_allows():
    with rsh_server("--no-auth") as server:
        log = server.stderr_text()
        assert "WARNING: --no-auth" in log and "ANY user" in log, \
            f"expected a loud warning on stderr about --no-auth, got:\n{log}"
        assert not os.path.exists(token_path(server.port)), "--no-auth wrote a token file"
        with closing(server.connect(auth=False)) as sock:
            expect_answer("a client without a token", run_command(sock, "echo open"),
                          (b"open\n", b"", 0))
        with closing(server.connect(auth=False)) as sock:
            sock.sendall(pack_frame(b"A" + b"1" * TOKEN_HEX))
            expect_answer("a client that sends a token anyway", run_command(sock, "echo fine"),
                          (b"fine\n", b"", 0))
