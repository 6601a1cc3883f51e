/*
 * echo-client.c - the framed echo server's client.
 *
 *   echo-client --port N [--host ADDR]
 *
 * Each line of stdin, without its '\n', goes to the server as one frame (an
 * empty line is a zero-length message). Each echo comes out on stdout as its
 * body and a '\n', in order. At the end of stdin we wait for the echoes still
 * owed, then exit 0. If the server closes early or sends a frame we cannot
 * take, one line on stderr and exit 1.
 *
 * One poll() loop watches stdin and the socket, and the socket is
 * non-blocking for sending: a client that blocked in send() while the server
 * blocked sending echoes we do not read would wait forever once the TCP
 * buffers between us are full. So we send while reading, and stop reading
 * stdin while PENDING_BOUND bytes wait to be sent.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame.h"
#include "net.h"

#define PENDING_BOUND (256 * 1024)      /* stop reading stdin while this much is unsent */
#define STDIN_CHUNK (64 * 1024)
#define MAX_BODY (16u * 1024 * 1024)    /* longest line sent, longest echo accepted */

#define USAGE                                                                   \
    "usage: echo-client --port N [--host ADDR]\n"                              \
    "Sends each line of stdin as a frame to echo-server and prints each echo.\n" \
    "  --port N     the server's port\n"                                        \
    "  --host ADDR  the server's address (default 127.0.0.1)\n"

struct client {
    int sock;
    struct frame_reader echoes;
    unsigned char *out; /* frames not sent yet: out[start..end) */
    size_t start, end, cap;
    unsigned char *line; /* stdin bytes of a line not ended yet */
    size_t line_len, line_cap;
    int stdin_open;
    unsigned long sent, echoed;
    char err[300];      /* why we stopped, when we did */
};

/* fail - record why we stop (main prints it), return -1. */
__attribute__((format(printf, 2, 3))) static int fail(struct client *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* grow - make room for need more bytes in *buf (used *len, capacity *cap). */
static int grow(unsigned char **buf, size_t len, size_t *cap, size_t need)
{
    size_t newcap = *cap ? *cap : 4096;

    while (newcap - len < need)
        newcap *= 2;
    if (newcap == *cap)
        return 0;
    unsigned char *p = realloc(*buf, newcap);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = newcap;
    return 0;
}

/* queue_frame - one message, as a frame, at the end of the send queue. */
static int queue_frame(struct client *c, const unsigned char *body, size_t len)
{
    if (len > MAX_BODY)
        return fail(c, "line %lu is longer than %lu bytes", c->sent + 1,
                        (unsigned long)MAX_BODY);
    if (c->start > 0) {
        memmove(c->out, c->out + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    if (grow(&c->out, c->end, &c->cap, FRAME_HEADER_SIZE + len) < 0)
        return fail(c, "out of memory for line %lu (%zu bytes)", c->sent + 1, len);
    frame_put_length(c->out + c->end, (uint32_t)len);
    if (len > 0)
        memcpy(c->out + c->end + FRAME_HEADER_SIZE, body, len);
    c->end += FRAME_HEADER_SIZE + len;
    c->sent++;
    return 0;
}

/* add_input - n bytes from stdin: every line they end becomes a frame. */
static int add_input(struct client *c, const unsigned char *buf, size_t n)
{
    while (n > 0) {
        const unsigned char *nl = memchr(buf, '\n', n);
        size_t part = nl ? (size_t)(nl - buf) : n;
        if (c->line_len + part > MAX_BODY)
            return fail(c, "line %lu is longer than %lu bytes", c->sent + 1,
                        (unsigned long)MAX_BODY);
        if (grow(&c->line, c->line_len, &c->line_cap, part + 1) < 0)
            return fail(c, "out of memory for line %lu", c->sent + 1);
        memcpy(c->line + c->line_len, buf, part);
        c->line_len += part;
        if (!nl)
            break;
        if (queue_frame(c, c->line, c->line_len) < 0)
            return -1;
        c->line_len = 0;
        buf += part + 1;
        n -= part + 1;
    }
    return 0;
}

static int read_stdin(struct client *c)
{
    unsigned char buf[STDIN_CHUNK];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n < 0)
        return fail(c, "cannot read stdin: %s", strerror(errno));
    if (n > 0)
        return add_input(c, buf, (size_t)n);
    c->stdin_open = 0; /* a last line without '\n' is a line too */
    if (c->line_len > 0 && queue_frame(c, c->line, c->line_len) < 0)
        return -1;
    c->line_len = 0;
    return 0;
}

static int send_some(struct client *c)
{
    while (c->start < c->end) {
        ssize_t n = send(c->sock, c->out + c->start, c->end - c->start, NET_SEND_FLAGS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return fail(c, "cannot send: %s (after %lu of %lu echoes)", strerror(errno),
                        c->echoed, c->sent);
        c->start += (size_t)n;
    }
    c->start = c->end = 0;
    return 0;
}

/* print_echoes - print every whole echo the reader holds. */
static int print_echoes(struct client *c)
{
    const unsigned char *body;
    uint32_t len;
    int rc;

    while ((rc = frame_reader_next(&c->echoes, &body, &len)) == FRAME_OK) {
        if (++c->echoed > c->sent)
            return fail(c, "the server sent echo %lu, but we sent only %lu messages",
                        c->echoed, c->sent);
        if ((len > 0 && fwrite(body, 1, len, stdout) != len) || putchar('\n') == EOF)
            return fail(c, "cannot write stdout: %s", strerror(errno));
    }
    if (rc == FRAME_TOO_BIG)
        return fail(c, "bad frame from the server: length %lu is above the limit of %lu",
                    (unsigned long)c->echoes.bad_length, (unsigned long)MAX_BODY);
    if (fflush(stdout) == EOF)
        return fail(c, "cannot write stdout: %s", strerror(errno));
    return 0;
}

static int read_socket(struct client *c)
{
    ssize_t n = frame_reader_fill(&c->echoes, c->sock);

    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n < 0)
        return fail(c, "cannot read from the server: %s (after %lu of %lu echoes)",
                    strerror(errno), c->echoed, c->sent);
    if (n > 0)
        return print_echoes(c);
    if (frame_reader_at_eof(&c->echoes) == FRAME_TRUNCATED)
        return fail(c, "the server closed the connection inside a frame (after %lu of %lu "
                    "echoes)", c->echoed, c->sent);
    if (c->stdin_open || c->echoed < c->sent)
        return fail(c, "the server closed the connection early (after %lu of %lu echoes)",
                    c->echoed, c->sent);
    return 1; /* closed, and nothing was owed */
}

/* run - the poll loop. Returns 0 when every echo is back, -1 on an error (in c->err). */
static int run(struct client *c)
{
    for (;;) {
        if (!c->stdin_open && c->start == c->end && c->echoed == c->sent)
            return 0;
        struct pollfd p[2] = {
            {c->stdin_open && c->end - c->start < PENDING_BOUND ? STDIN_FILENO : -1, POLLIN, 0},
            {c->sock, (short)(POLLIN | (c->start < c->end ? POLLOUT : 0)), 0},
        };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return fail(c, "poll: %s", strerror(errno));
        }
        if (p[0].revents && read_stdin(c) < 0)
            return -1;
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = read_socket(c);
            if (r != 0)
                return r < 0 ? -1 : 0;
        }
        if (send_some(c) < 0)
            return -1;
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = -1;
    char err[NET_ERR_LEN], *end;
    struct client c;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help"))
            return printf("%s", USAGE), 0;
        if (i + 1 < argc && !strcmp(argv[i], "--host")) {
            host = argv[++i];
        } else if (i + 1 < argc && !strcmp(argv[i], "--port")) {
            errno = 0;
            port = strtol(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || port < 1 || port > 65535)
                return fprintf(stderr, "echo-client: bad port: %s\n%s", argv[i], USAGE), 2;
        } else {
            return fprintf(stderr, "echo-client: bad argument: %s\n%s", argv[i], USAGE), 2;
        }
    }
    if (port < 0)
        return fprintf(stderr, "echo-client: --port is required\n%s", USAGE), 2;
    signal(SIGPIPE, SIG_IGN); /* a server gone while we write: EPIPE, not death */
    memset(&c, 0, sizeof c);
    c.stdin_open = 1;
    frame_reader_init(&c.echoes, MAX_BODY);
    if ((c.sock = net_connect(err, host, (int)port)) < 0 || net_set_nonblock(err, c.sock, 1) < 0 ||
        net_set_nodelay(err, c.sock, 1) < 0) {
        fprintf(stderr, "echo-client: %s\n", err);
        return 1;
    }
    int rc = run(&c);
    if (rc < 0)
        fprintf(stderr, "echo-client: %s\n", c.err);
    close(c.sock);
    frame_reader_free(&c.echoes);
    free(c.out);
    free(c.line);
    return rc < 0 ? 1 : 0;
}
