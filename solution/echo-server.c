/*
 * echo-server.c - the framed echo server: every frame a client sends comes
 * back as a frame with the same body (zero-length frames too).
 *
 *   echo-server [--port N] [--host ADDR] [--max N]
 *
 * One thread, one poll() loop, every socket non-blocking. Per client: a
 * frame_reader collects its bytes and hands out whole frames however TCP
 * cut them; an output queue holds the echoes its socket has not taken yet.
 * While a client's queue holds OUT_BOUND bytes or more, its socket is not
 * read: it must read its echoes before it can send more (TCP's flow control
 * holds it back), so memory stays bounded whatever the clients do.
 *
 * A header announcing more than --max bytes is refused as soon as the bytes
 * that have arrived prove it (text is refused at its first byte): one line
 * on stderr saying what those bytes look like (frame_describe_length), the
 * connection closed at once, nothing allocated for the body. A client that
 * closes inside a frame gets one line on stderr. Neither disturbs the other
 * clients.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "net.h"

#define OUT_BOUND (1024 * 1024)          /* stop reading a client above this much queued echo */
#define DEFAULT_MAX (16u * 1024 * 1024)  /* longest body accepted */
#define ACCEPT_PAUSE_MS 100              /* after accept() fails for lack of descriptors */

#define USAGE                                                                    \
    "usage: echo-server [--port N] [--host ADDR] [--max N]\n"                   \
    "Echoes every frame (4-byte big-endian length, then the body) back to its\n" \
    "sender, to many clients at once.\n"                                         \
    "  --port N     TCP port (default 0: pick a free one; it is printed)\n"      \
    "  --host ADDR  address to listen on (default 127.0.0.1)\n"                  \
    "  --max N      longest body accepted, in bytes (default 16777216)\n"

struct client {
    int fd;
    unsigned long id;
    char peer[NET_ADDR_LEN];
    struct frame_reader in;
    unsigned char *out; /* echoes not sent yet: out[start..end) */
    size_t start, end, cap;
    int eof;            /* the client closed its side at a frame boundary */
};

struct server {
    int listen_fd;
    uint32_t max;
    struct client **clients;
    size_t n, cap;
    unsigned long next_id;
    struct timespec accept_paused; /* accept again after this (EMFILE) */
};

/* SIGTERM and SIGINT set the flag and write a byte to this pipe, which poll()
 * watches: a signal that comes just before poll() sleeps still wakes it. */
static volatile sig_atomic_t stopping;
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    ssize_t r;

    (void)sig;
    stopping = 1;
    r = write(wake_pipe[1], "", 1);
    (void)r; /* a full pipe already holds a wake-up */
}

static void note(const struct client *c, const char *what)
{
    fprintf(stderr, "echo-server: client %lu (%s): %s\n", c->id, c->peer, what);
}

/* queue_echo - append the frame for body to c's output queue. Returns 0, or -1 (no memory). */
static int queue_echo(struct client *c, const unsigned char *body, uint32_t len)
{
    size_t need = FRAME_HEADER_SIZE + (size_t)len;

    if (c->start > 0 && c->cap - c->end < need) {
        memmove(c->out, c->out + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    if (c->cap - c->end < need) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap - c->end < need)
            cap *= 2;
        unsigned char *p = realloc(c->out, cap);
        if (p == NULL)
            return -1;
        c->out = p;
        c->cap = cap;
    }
    frame_put_length(c->out + c->end, len);
    if (len > 0)
        memcpy(c->out + c->end + FRAME_HEADER_SIZE, body, len);
    c->end += need;
    return 0;
}

static void drop(struct server *s, size_t i)
{
    struct client *c = s->clients[i];

    close(c->fd);
    frame_reader_free(&c->in);
    free(c->out);
    free(c);
    s->clients[i] = s->clients[--s->n];
}

/*
 * take_frames - queue an echo for every whole frame the reader holds.
 * Returns 0, or -1 if the client must be dropped (why is in msg).
 */
static int take_frames(struct client *c, char *msg, size_t cap)
{
    const unsigned char *body;
    uint32_t len;
    int rc;

    while ((rc = frame_reader_next(&c->in, &body, &len)) == FRAME_OK)
        if (queue_echo(c, body, len) < 0) {
            snprintf(msg, cap, "out of memory for a %lu-byte echo", (unsigned long)len);
            return -1;
        }
    if (rc == FRAME_TOO_BIG) {
        char why[200]; /* what the header's bytes look like: text, TLS, or just too long */
        frame_describe_length(why, sizeof why, c->in.bad_length, c->in.bad_known, c->in.max_body);
        snprintf(msg, cap, "refused: %s; closing the connection", why);
        return -1;
    }
    return 0;
}

/* read_client - one read from c and its consequences. Returns 0, or -1 to drop c. */
static int read_client(struct client *c)
{
    char msg[300];
    ssize_t n = frame_reader_fill(&c->in, c->fd);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (n < 0) {
        snprintf(msg, sizeof msg, "read failed: %s%s", strerror(errno),
                 frame_reader_pending(&c->in) ? " (inside a frame)" : "");
        return note(c, msg), -1;
    }
    if (n == 0) {
        if (frame_reader_at_eof(&c->in) == FRAME_TRUNCATED) {
            snprintf(msg, sizeof msg, "closed the connection inside a frame (%zu bytes of it "
                     "had arrived)", frame_reader_pending(&c->in));
            return note(c, msg), -1;
        }
        c->eof = 1; /* send what is queued, then close */
        return 0;
    }
    if (take_frames(c, msg, sizeof msg) < 0)
        return note(c, msg), -1;
    return 0;
}

/* write_client - send what c's socket takes now. Returns 0, or -1 to drop c. */
static int write_client(struct client *c)
{
    while (c->start < c->end) {
        ssize_t n = send(c->fd, c->out + c->start, c->end - c->start, NET_SEND_FLAGS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "send failed: %s", strerror(errno));
            return note(c, msg), -1;
        }
        c->start += (size_t)n;
    }
    c->start = c->end = 0;
    return 0;
}

static int add_client(struct server *s, int fd, const char *peer)
{
    char err[NET_ERR_LEN];
    struct client *c;

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct client **p = realloc(s->clients, cap * sizeof *p);
        if (p == NULL)
            return -1;
        s->clients = p;
        s->cap = cap;
    }
    if ((c = calloc(1, sizeof *c)) == NULL)
        return -1;
    if (net_set_nonblock(err, fd, 1) < 0 || net_set_cloexec(err, fd) < 0) {
        free(c);
        return -1;
    }
    (void)net_set_nodelay(NULL, fd, 1); /* an echo leaves at once, not after an ACK */
    c->fd = fd;
    c->id = ++s->next_id;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    frame_reader_init(&c->in, s->max);
    s->clients[s->n++] = c;
    return 0;
}

static int past(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void accept_clients(struct server *s)
{
    char err[NET_ERR_LEN], peer[NET_ADDR_LEN];

    for (int i = 0; i < 64; i++) {
        int fd = net_accept(err, s->listen_fd, peer, sizeof peer);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                fprintf(stderr, "echo-server: %s; not accepting for %d ms\n", err,
                        ACCEPT_PAUSE_MS);
                clock_gettime(CLOCK_MONOTONIC, &s->accept_paused);
                s->accept_paused.tv_nsec += ACCEPT_PAUSE_MS * 1000000L;
                s->accept_paused.tv_sec += s->accept_paused.tv_nsec / 1000000000L;
                s->accept_paused.tv_nsec %= 1000000000L;
            }
            return; /* EAGAIN: nobody else is waiting */
        }
        if (add_client(s, fd, peer) < 0) {
            fprintf(stderr, "echo-server: cannot take client %s: out of memory\n", peer);
            close(fd);
        }
    }
}

/* serve_one - act on what poll() said about client i. Returns -1 if it was dropped. */
static int serve_one(struct server *s, size_t i, short revents)
{
    struct client *c = s->clients[i];

    int room = c->end - c->start < OUT_BOUND; /* else its echoes must go out first */

    if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->eof && room && read_client(c) < 0)
        return drop(s, i), -1;
    if (write_client(c) < 0 || (c->eof && c->start == c->end))
        return drop(s, i), -1;
    return 0;
}

static int serve(struct server *s)
{
    struct pollfd *p = NULL;
    size_t pcap = 0;

    while (!stopping) {
        if (pcap < s->n + 2) {
            struct pollfd *np = realloc(p, (s->n + 2) * 2 * sizeof *np);
            if (np == NULL)
                return free(p), fprintf(stderr, "echo-server: out of memory\n"), 1;
            p = np;
            pcap = (s->n + 2) * 2;
        }
        int paused = !past(&s->accept_paused);
        p[0] = (struct pollfd){paused ? -1 : s->listen_fd, POLLIN, 0};
        p[1] = (struct pollfd){wake_pipe[0], POLLIN, 0};
        for (size_t i = 0; i < s->n; i++) {
            struct client *c = s->clients[i];
            short ev = c->start < c->end ? POLLOUT : 0;
            if (!c->eof && c->end - c->start < OUT_BOUND)
                ev |= POLLIN;
            p[i + 2] = (struct pollfd){c->fd, ev, 0};
        }
        size_t n = s->n;
        if (poll(p, (nfds_t)(n + 2), paused ? ACCEPT_PAUSE_MS : -1) < 0) {
            if (errno == EINTR)
                continue;
            return free(p), fprintf(stderr, "echo-server: poll: %s\n", strerror(errno)), 1;
        }
        for (size_t i = n; i-- > 0;) /* backwards: drop() moves the last client into i */
            if (p[i + 2].revents)
                serve_one(s, i, p[i + 2].revents);
        if (p[0].revents)
            accept_clients(s);
    }
    free(p);
    return 0;
}

/* parse_args - 0 to go on, else the exit status (usage printed). */
static int parse_args(int argc, char **argv, const char **host, long *port, long *max)
{
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        const char *a = argv[i];
        if (!strcmp(a, "--help"))
            return printf("%s", USAGE), -1;
        if (i + 1 >= argc || (strcmp(a, "--host") && strcmp(a, "--port") && strcmp(a, "--max")))
            return fprintf(stderr, "echo-server: bad argument: %s\n%s", a, USAGE), 2;
        const char *v = argv[++i];
        if (!strcmp(a, "--host")) {
            *host = v;
            continue;
        }
        long *out = a[2] == 'p' ? port : max;
        errno = 0;
        *out = strtol(v, &end, 10);
        if (errno || *end || end == v || *out < 0 || (out == port && *out > 65535) ||
            (out == max && (unsigned long)*out > UINT32_MAX))
            return fprintf(stderr, "echo-server: bad value for %s: %s\n%s", a, v, USAGE), 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct server s = {-1, DEFAULT_MAX, NULL, 0, 0, 0, {0, 0}};
    const char *host = "127.0.0.1";
    long port = 0, max = DEFAULT_MAX;
    char err[NET_ERR_LEN], name[NET_ADDR_LEN];
    struct sigaction sa;
    int rc = parse_args(argc, argv, &host, &port, &max);

    if (rc != 0)
        return rc < 0 ? 0 : rc;
    s.max = (uint32_t)max;
    signal(SIGPIPE, SIG_IGN); /* a client gone while we write: EPIPE, not death */
    if (pipe(wake_pipe) < 0 || net_set_nonblock(err, wake_pipe[1], 1) < 0 ||
        net_set_cloexec(err, wake_pipe[0]) < 0 || net_set_cloexec(err, wake_pipe[1]) < 0) {
        fprintf(stderr, "echo-server: cannot make a pipe: %s\n", strerror(errno));
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR, the loop ends */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if ((s.listen_fd = net_listen(err, host, (int)port, 128)) < 0 ||
        net_set_nonblock(err, s.listen_fd, 1) < 0 || net_set_cloexec(err, s.listen_fd) < 0 ||
        net_local_name(err, s.listen_fd, name, sizeof name, NULL) < 0) {
        fprintf(stderr, "echo-server: %s\n", err);
        return 1;
    }
    printf("listening on %s\n", name);
    fflush(stdout);
    rc = serve(&s);
    while (s.n > 0)
        drop(&s, s.n - 1);
    free(s.clients);
    close(s.listen_fd);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    return rc;
}
