"""Every wait in every demo program has an end: a peer that connects and
says nothing, or goes away early, gets a clear message within the bound the
program states, never a hang. Run with --patience 1 (the bound for the test;
by default 10 s for a peer and 10 minutes for a person), all at once."""
import socket
import subprocess
import threading
import time

from suite import BIN, DEMOS, LISTENING

PATIENCE = 1
BOUND = 12.0  # seconds: the longest any program here may take (a few waits in a row)


def programs(kind):
    names = sorted(f"{d.name}-{p.stem}" for d in DEMOS.glob("[0-9][0-9]-*") for p in d.glob("*.c"))
    return [n for n in names if n.endswith(kind)]


def silent_peer_of_server(name, results):
    """Start the server; connect twice (data, and a second connection some
    demos expect) and say nothing; record (name, exit code, seconds, stderr).
    The second connection may be refused: demo 12's server takes one at its
    rendezvous and closes it (the rest of the demo is in its own namespace)."""
    start = time.monotonic()
    p = subprocess.Popen([str(BIN / name), "--port", "0", "--patience", str(PATIENCE)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    socks = []
    try:
        m = LISTENING.search(p.stdout.readline().decode())
        for _ in range(2 if m else 0):
            try:
                socks.append(socket.create_connection(("127.0.0.1", int(m.group(2)))))
            except ConnectionRefusedError:
                if not socks:
                    raise
        p.wait(BOUND)
        results.append((name, p.returncode, time.monotonic() - start, p.stderr.read()))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        results.append((name, None, time.monotonic() - start, b""))
    finally:
        for s in socks:
            s.close()
        p.stdout.close()
        p.stderr.close()


def silent_server_for_client(name, results):
    """A server that accepts every connection and says nothing: the client
    must end by itself within the bound."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    start = time.monotonic()
    try:
        p = subprocess.run([str(BIN / name), "--port", str(listener.getsockname()[1]),
                            "--patience", str(PATIENCE)], capture_output=True, timeout=BOUND)
        results.append((name, p.returncode, time.monotonic() - start, p.stderr))
    except subprocess.TimeoutExpired:
        results.append((name, None, time.monotonic() - start, b""))
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
        listener.close()


def check_endings(results):
    """Each ended on its own: with 0, or with 1 and a reason on stderr; never
    with a usage error (a program that does not know --patience proves nothing)."""
    bad = [f"{n}: exit {code}, stderr {err[-200:]!r}" for n, code, _, err in results
           if code not in (0, 1) or (code == 1 and not err.strip()) or b"usage:" in err]
    assert not bad, "these did not end as they should:\n  " + "\n  ".join(bad)


def run_all(names, fn):
    results = []
    threads = [threading.Thread(target=fn, args=(n, results)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_every_demo_server_ends_when_its_client_says_nothing():
    names = programs("server")
    results = run_all(names, silent_peer_of_server)
    assert len(names) >= 17 and sorted(r[0] for r in results) == names, \
        f"expected a result from every demo server {names}, got {[r[0] for r in results]}"
    hung = [f"{n} (still running after {s:.0f} s)" for n, code, s, _ in results if code is None]
    assert not hung, "these demo servers hang on a silent client:\n  " + "\n  ".join(hung)
    check_endings(results)


def test_every_demo_client_ends_when_its_server_says_nothing():
    results = run_all(programs("client"), silent_server_for_client)
    hung = [f"{n} (still running after {s:.0f} s)" for n, code, s, _ in results if code is None]
    assert not hung, "these demo clients hang on a silent server:\n  " + "\n  ".join(hung)
    check_endings(results)
