# Demo 10, the stdout/stderr deadlock: what the harness checks.
from demolib import run, send, recv, message, frame, rule

TITLE = "the stdout/stderr deadlock: reading stdout to EOF first hangs on a big stderr"
LESSON = ("Reading a command's stdout to its end before its stderr can hang for ever: read "
          "both pipes as they fill.")

COMMAND = b"head -c 200000 /dev/zero >&2; echo done"  # 200000 bytes to stderr, then "done\n"
STDERR_BYTES = 200000
STUCK = (b"the server killed the command: it was blocked writing to its full stderr "
         b"pipe while the server waited for its stdout to end\n")


def capacity_or_none(o):
    return o.all_facts.get(("server", "stderr_pipe_capacity"))  # Linux only (F_GETPIPE_SZ)


# make demo-10: the fixed run's recvs are 200000 bytes of \x00 in 'E' frames: the
# client says them in one line and the picture draws them (their lines: VERBOSE=1)
DISPLAY = {"hide_calls": {2: "client"}}

RUNS = [
    run("10-pipe-deadlock-server", "10-pipe-deadlock-client",
        label="broken: stdout to EOF, then stderr (a watchdog stops the hang)",
        calls=[
            send("client", 1, COMMAND),
            recv("server", 1, COMMAND),
            send("server", 1, STUCK),  # sent by the watchdog, not by the course's code
            recv("client", 1, STUCK),
        ],
        rules=[
            rule("stdout bytes read when the watchdog fired == 0",
                 lambda o: o.fact("server", "stdout_bytes_read") == 0),
            rule("the command was still alive when the watchdog fired",
                 lambda o: o.fact("server", "child_alive") == 1),
            rule("stderr bytes queued in the pipe >= 4096, and < the 200000 written",
                 lambda o: 4096 <= o.fact("server", "stderr_bytes_queued") < STDERR_BYTES),
            rule("stderr bytes queued == the pipe's capacity (where F_GETPIPE_SZ reports it)",
                 lambda o: capacity_or_none(o) in (None, o.fact("server", "stderr_bytes_queued"))),
            rule("the watchdog killed the command with SIGKILL (9)",
                 lambda o: o.fact("server", "child_killed_by_signal") == 9),
        ]),
    # How rsh-server's answer is split among recvs depends on timing: recvs not checked one by one.
    run("rsh-server", "10-pipe-deadlock-fixed-client",
        label="fixed: the framed remote shell's poll() loop reads both pipes",
        ignore=["recv"], server_stays=True,
        calls=[
            send("client", 1, frame(b"C" + COMMAND)),
            message("client", 1, b"done\n"),  # the command's whole stdout
        ],
        rules=[
            rule("stderr bytes received == 200000", lambda o: o.fact("client", "stderr_bytes") == STDERR_BYTES),
            rule("stdout bytes received == 5", lambda o: o.fact("client", "stdout_bytes") == 5),
            rule("exit status == 0", lambda o: o.fact("client", "exit_status") == 0),
        ]),
]
