"""Timeouts and disconnects kill the command's whole process group.

Every test starts its own bin/rsh-server on a free port (rshproto.rsh_server)
and checks bytes and statuses; times appear only as safety bounds.
"""
import os
import shutil
import tempfile
import time
from contextlib import closing

from rshproto import (command_frame, group_members, read_answer, reset, rsh_server, run_command,
                      send_command)
from rshtest import (expect_answer, baseline, still_serving, read_pid_frame, check_own_group,
                     expect_group_gone)


def test_timeout_kills_the_process_group():
    # 3 s: the echo before and the command after must finish well within it,
    # however busy the machine (the kill is then waited for, 3 s)
    with rsh_server("--timeout", "3") as server, closing(server.connect()) as sock:
        # A background sleep too: it is in the group, not a child of the server.
        send_command(sock, "echo $$; sleep 30 & sleep 30; echo not-reached")
        pid = read_pid_frame(sock)
        check_own_group(pid)
        out, err, status = read_answer(sock)
        assert (out, status) == (b"", -9) and b"time" in err.lower(), \
            f"a command past --timeout: expected no more stdout, an 'E' frame about the " \
            f"timeout, then status -9; got stdout {out!r}, stderr {err!r}, status {status}"
        expect_group_gone(server, pid, "after the timeout")
        expect_answer("the next command on the same connection", run_command(sock, "echo after"),
                      (b"after\n", b"", 0))


def test_disconnect_mid_command_kills_the_process_group():
    with rsh_server() as server:
        fds = baseline(server)
        sock = server.connect()
        send_command(sock, "sleep 30 & echo $$; exec sleep 30")
        pid = read_pid_frame(sock)
        check_own_group(pid)
        assert len(group_members(pid)) >= 2, f"expected the shell and a background sleep in " \
                                              f"group {pid}, got {group_members(pid)}"
        sock.close()
        expect_group_gone(server, pid, "after the client closed")
        server.wait_for_baseline(fds)
        still_serving(server)


def test_reset_mid_command_kills_the_process_group():
    with rsh_server() as server:
        fds = baseline(server)
        sock = server.connect()
        send_command(sock, "echo $$; exec sleep 30")
        pid = read_pid_frame(sock)
        reset(sock)
        expect_group_gone(server, pid, "after the client reset the connection")
        server.wait_for_baseline(fds)
        still_serving(server)


def test_disconnect_drops_queued_commands():
    marker_dir = tempfile.mkdtemp(prefix="rsh-test-")
    marker = os.path.join(marker_dir, "ran")
    try:
        with rsh_server() as server:
            sock = server.connect()
            sock.sendall(command_frame("echo $$; exec sleep 30") +
                         command_frame(f"echo ran > {marker}") * 3)
            pid = read_pid_frame(sock)
            sock.close()
            expect_group_gone(server, pid, "after the client closed")
            time.sleep(0.3)  # the server had its chance to start a queued command
            assert not os.path.exists(marker), \
                "expected the commands queued behind the running one to be dropped when the " \
                "client went away; one of them ran"
    finally:
        shutil.rmtree(marker_dir, ignore_errors=True)
