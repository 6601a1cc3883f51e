/*
 * rsh-auth.c - the remote shell's token (see rsh-proto.h): where it lives,
 * how the server makes it and a client reads it, and the 'A' frame.
 *
 * Why a file: 127.0.0.1 keeps other machines out, not the other users of
 * this one. The file system already knows who is who, so a secret that only
 * the server's user can read proves that a client runs as that user.
 */
#include "rsh-proto.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 2, 3))) static int fail(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL) {
        va_start(ap, fmt);
        vsnprintf(err, RSH_AUTH_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int rsh_token_path(char *err, char *out, size_t cap, int port)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;

    /* $XDG_RUNTIME_DIR is the user's private runtime directory (0700, and
     * emptied at logout) where a desktop session sets it; /tmp is the
     * fallback everywhere, in a directory of our own inside it. */
    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s/rsh/token-%d", xdg, port);
    else
        n = snprintf(out, cap, "/tmp/rsh-%lu/token-%d", (unsigned long)geteuid(), port);
    if (n < 0 || (size_t)n >= cap)
        return fail(err, "the token file's path is longer than %zu bytes", cap);
    return 0;
}

/* parent_dir - the directory part of path, in out. */
static int parent_dir(char *err, const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);

    if (n >= cap)
        return fail(err, "%s: path too long", path);
    memcpy(out, slash == NULL ? "." : path, n);
    out[n] = '\0';
    return 0;
}

/* check_private_dir - dir is a real directory, ours, that nobody else may
 * enter. A directory someone else made in /tmp first (they can: /tmp is
 * everyone's) would let them read or swap our token. */
static int check_private_dir(char *err, const char *dir)
{
    struct stat st;

    if (lstat(dir, &st) < 0)
        return fail(err, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(err, "%s is not a directory (a symbolic link?): refusing to use it for "
                    "the token", dir);
    if (st.st_uid != geteuid())
        return fail(err, "%s belongs to uid %lu, not to us (uid %lu): someone else could read "
                    "or replace the token there; remove it", dir, (unsigned long)st.st_uid,
                    (unsigned long)geteuid());
    if (st.st_mode & 077)
        return fail(err, "%s is mode %04o: others may enter it; it must be 0700 "
                    "(chmod 700 %s)", dir, (unsigned)(st.st_mode & 07777), dir);
    return 0;
}

/* random_hex - RSH_TOKEN_BYTES from /dev/urandom, as lowercase hex. */
static int random_hex(char *err, char out[RSH_TOKEN_HEX + 1])
{
    unsigned char bytes[RSH_TOKEN_BYTES];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read_exact(fd, bytes, sizeof bytes);

    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof bytes)
        return fail(err, "/dev/urandom: %s", n < 0 ? strerror(errno) : "short read");
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
    return 0;
}

/* write_new_file - path with text, mode 0600, created (never opened through
 * a symbolic link, never an existing file someone else prepared). */
static int write_new_file(char *err, const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0 && errno == EEXIST && unlink(path) == 0) /* left by a killed server */
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, "cannot create %s: %s", path, strerror(errno));
    /* the umask can only take bits away from 0600; say 0600 anyway */
    if (fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0) {
        int saved = errno;
        close(fd);
        unlink(path);
        return fail(err, "cannot write %s: %s", path, strerror(saved));
    }
    close(fd);
    return 0;
}

int rsh_token_create(char *err, const char *path, int private_dir, char token[RSH_TOKEN_HEX + 1])
{
    char dir[RSH_PATH_LEN], tmp[RSH_PATH_LEN + 16], text[RSH_TOKEN_HEX + 2];

    if (parent_dir(err, path, dir, sizeof dir) < 0)
        return -1;
    if (private_dir && mkdir(dir, 0700) < 0 && errno != EEXIST)
        return fail(err, "cannot create %s: %s", dir, strerror(errno));
    if (private_dir && check_private_dir(err, dir) < 0)
        return -1;
    if (random_hex(err, token) < 0)
        return -1;
    snprintf(text, sizeof text, "%s\n", token);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    if (write_new_file(err, tmp, text) < 0)
        return -1;
    if (rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        return fail(err, "cannot rename %s to %s: %s", tmp, path, strerror(saved));
    }
    return 0;
}

/* parse_token - the file's bytes: 64 hex digits, then an optional newline. */
static int parse_token(char *err, const char *path, const char *text, size_t n,
                       char token[RSH_TOKEN_HEX + 1])
{
    if (n == RSH_TOKEN_HEX + 1 && text[RSH_TOKEN_HEX] == '\n')
        n--;
    if (n != RSH_TOKEN_HEX || strspn(text, "0123456789abcdef") < RSH_TOKEN_HEX)
        return fail(err, "%s does not hold a token (64 hex digits)", path);
    memcpy(token, text, RSH_TOKEN_HEX);
    token[RSH_TOKEN_HEX] = '\0';
    return 1;
}

/* check_token_file - fd is a regular file of ours that only we can read. */
static int check_token_file(char *err, int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return fail(err, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(err, "%s is not a regular file", path);
    if (st.st_uid != geteuid())
        return fail(err, "%s belongs to uid %lu, not to us (uid %lu): not using it",
                    path, (unsigned long)st.st_uid, (unsigned long)geteuid());
    if (st.st_mode & 077)
        return fail(err, "%s is mode %04o: others can read it, so it is no secret; not "
                    "using it (chmod 600 %s, or restart the server)", path,
                    (unsigned)(st.st_mode & 07777), path);
    return 0;
}

int rsh_token_read(char *err, const char *path, int private_dir, char token[RSH_TOKEN_HEX + 1])
{
    char dir[RSH_PATH_LEN], text[RSH_TOKEN_HEX + 8];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return fail(err, "cannot read the token file %s: %s", path, strerror(errno));
    if (check_token_file(err, fd, path) < 0 ||
        (private_dir && (parent_dir(err, path, dir, sizeof dir) < 0 ||
                         check_private_dir(err, dir) < 0))) {
        close(fd);
        return -1;
    }
    n = read_exact(fd, text, sizeof text - 1);
    close(fd);
    if (n < 0)
        return fail(err, "cannot read the token file %s: %s", path, strerror(errno));
    text[n] = '\0';
    return parse_token(err, path, text, (size_t)n, token);
}

int rsh_token_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;

    /* every byte is looked at, whatever the first difference */
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}

int rsh_send_auth(char *err, int fd, const char *host, int port)
{
    char path[RSH_PATH_LEN], token[RSH_TOKEN_HEX + 1], type = RSH_AUTH;
    struct iovec parts[2];
    int rc;

    (void)host; /* the token is found by port; the peer's address decides if it may go */
    if (!net_peer_is_loopback(fd))
        return 0; /* a token of this machine is never sent to another one */
    if (rsh_token_path(err, path, sizeof path, port) < 0)
        return -1;
    if ((rc = rsh_token_read(err, path, 1, token)) <= 0)
        return rc;
    parts[0].iov_base = &type;
    parts[0].iov_len = 1;
    parts[1].iov_base = token;
    parts[1].iov_len = RSH_TOKEN_HEX;
    if (send_framev(fd, parts, 2) != FRAME_OK)
        return fail(err, "sending the token to %s port %d: %s", host, port, strerror(errno));
    return 1;
}
