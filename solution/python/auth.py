"""auth - the token that proves a client runs as the server's user (the remote shell's
'A' frame, solution/rsh-proto.h). Not a program: ssh_server.py and ssh_client.py use it.

127.0.0.1 keeps other machines out, not the other users of this one: any of them can
connect. So the server writes 32 random bytes, as 64 hex digits, to a file that only its
user can read (mode 0600, in a directory only that user can enter, 0700); a client of that
user reads it and sends it in the first frame, b'A' + token; the server compares it in
constant time (hmac.compare_digest) and serves only a client that sent the right one."""
import hmac
import os
import secrets
import stat
import sys


def token_path(port):
    # The user's private runtime directory where a desktop session has one, else /tmp.
    xdg = os.environ.get('XDG_RUNTIME_DIR', '')
    if xdg.startswith('/'):
        return '%s/rsh/token-%d' % (xdg, port)
    return '/tmp/rsh-%d/token-%d' % (os.geteuid(), port)


def private(st):
    # Ours, and nobody else may read (a file) or enter (a directory) it.
    return st.st_uid == os.geteuid() and not st.st_mode & 0o077


def make_token(port):
    """A new token in its file; returns (token, path). The directory may already exist:
    /tmp is everyone's, so it must be ours and private, or someone could read the token."""
    path = token_path(port)
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or not private(st):
        sys.exit('%s must be a directory of ours that only we may enter (mode 0700)' % folder)
    token = secrets.token_hex(32).encode()
    tmp = path + '.new'
    if os.path.lexists(tmp):
        os.unlink(tmp)
    # O_EXCL | O_NOFOLLOW: a new file, never one (or a link) someone else prepared.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(token + b'\n')
    os.rename(tmp, path)  # a reader sees the whole token or none
    return token, path


def read_token(port):
    """The token of the server on port, or None: no file (the server will say what it
    wants), or one that others could read (then it is no secret; we say so)."""
    path = token_path(port)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, 'rb') as f:
        if not private(os.fstat(f.fileno())):
            print('%s: not ours, or others can read it: not sending it' % path, file=sys.stderr)
            return None
        return f.read().strip()


def same(sent, token):
    # Constant time: how fast a wrong guess fails must not tell where it went wrong.
    return hmac.compare_digest(sent, token)
