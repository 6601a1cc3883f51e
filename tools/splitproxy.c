/*
 * splitproxy.c - a TCP proxy that re-cuts each direction's byte stream by a
 * named, reproducible schedule, to test a program's receiving code against
 * sticky (粘包) and split (拆包) reads without a real network.
 *
 * One thread, one poll() loop, many connections. Each direction of a
 * connection has a queue (bounded: above QUEUE_BOUND its sender is not read,
 * so TCP's flow control holds it back) and a schedule that decides how many
 * of the queued bytes the next write() carries, and when.
 *
 * A cut reaches the receiving program only if it calls recv() between two
 * of our writes. So after each write of a re-cut stream we wait until the
 * receiver has taken the bytes - on Linux, until the program has READ them,
 * however late it wakes (splitproxy-peer.h) - then --gap ms more. Where its
 * reads cannot be seen, only that its kernel has the bytes: a receiver
 * slower than the gap then gets the pieces merged, as TCP may do anyway.
 *
 * Output: one line per write, as harness/demolib.py reads them:
 *   proxy-up | send #3 | conn 1 | at 10 | 2 bytes | "\x00\x05"
 * and one line per connection event. The schedules: splitproxy-sched.h.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "splitproxy-sched.h"
#include "splitproxy-peer.h"

#define READ_CHUNK (64 * 1024)
#define ABBREV_HEAD 32
#define ABBREV_TAIL 16

struct conn {
    int id, fd[2];         /* fd[0] the client, fd[1] the server */
    int connecting;
    struct addrinfo *ai;   /* the server address being tried */
    struct dir up, down;
    struct conn *next;
};

static struct {
    const char *host, *to_host;
    char to[256];                 /* --to, as given */
    int port, to_port, quiet, full;
    long gap;
    uint64_t seed, skip;
    struct sched up, down;
    struct addrinfo *addrs;
} opt = {"127.0.0.1", NULL, "", -1, -1, 0, 0, 2, 1, 0, {PASS, -1, 0, 0, NULL, 0, "pass", 0},
         {PASS, -1, 0, 0, NULL, 0, "pass", 0}, NULL};

/* on_signal - SIGTERM, SIGINT: exit 0 at once. Every line printed is already
 * flushed, and the kernel closes the sockets (with a FIN); exiting from the
 * handler leaves no window where the signal comes just before poll() sleeps. */
static void on_signal(int sig)
{
    (void)sig;
    _exit(0);
}

/* now_ms - a monotonic clock in milliseconds. */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* report - one line: for people on stdout ("proxy: conn 1 open"; none with
 * --quiet), or what went wrong on stderr ("splitproxy: ..."). */
__attribute__((format(printf, 2, 3))) static void report(int error, const char *fmt, ...)
{
    FILE *f = error ? stderr : stdout;
    va_list ap;

    if (!error && opt.quiet)
        return;
    va_start(ap, fmt);
    fputs(error ? "splitproxy: " : "proxy: ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
    va_end(ap);
}
#define say(...) report(0, __VA_ARGS__)
#define err(...) report(1, __VA_ARGS__)

/* put_escaped - bytes as a C string literal, as harness/demolib.py unescape() reads them. */
static void put_escaped(const unsigned char *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (!opt.full && n > ABBREV_HEAD + ABBREV_TAIL && i == ABBREV_HEAD) {
            fputs("\" ... \"", stdout);
            i = n - ABBREV_TAIL;
        }
        unsigned char c = p[i];
        if (c == '\n')
            fputs("\\n", stdout);
        else if (c == '\r')
            fputs("\\r", stdout);
        else if (c == '\t')
            fputs("\\t", stdout);
        else if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
}

/* ------------------------------------------------------------ connections */

static struct conn *conns;
static int next_id = 1;

/* init_dir - a direction's state at the start: its schedule from offset 0. */
static void init_dir(struct dir *d, struct conn *c, int up)
{
    memset(d, 0, sizeof *d);
    d->name = up ? "up" : "down";
    d->side = up ? "proxy-up" : "proxy-down";
    d->from = up ? "client" : "server";
    d->to = up ? "server" : "client";
    d->s = up ? &opt.up : &opt.down;
    d->in = c->fd[up ? 0 : 1];
    d->out = c->fd[up ? 1 : 0];
    d->rng = d->s->seed;
    draw_cut(d);
}

/* close_conn - close both sockets (reset: with an RST) and forget c. */
static void close_conn(struct conn *c, int reset, const char *why)
{
    struct linger lg = {1, 0};

    for (int i = 0; i < 2; i++) {
        if (c->fd[i] < 0)
            continue;
        if (reset)
            (void)setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c->fd[i]);
    }
    say("conn %d closed (%s; up %llu bytes in %d writes, down %llu bytes in %d writes)",
        c->id, why, (unsigned long long)c->up.at, c->up.sends,
        (unsigned long long)c->down.at, c->down.sends);
    for (struct conn **p = &conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    free(c->up.buf);
    free(c->down.buf);
    free(c);
}

/* start_connect - a non-blocking connect to the next address; 0, or -1 if none is left. */
static int start_connect(struct conn *c)
{
    char e[NET_ERR_LEN];

    for (; c->ai; c->ai = c->ai->ai_next) {
        int fd = socket(c->ai->ai_family, c->ai->ai_socktype, c->ai->ai_protocol);
        if (fd < 0)
            continue;
        if (net_set_nonblock(e, fd, 1) < 0 || net_set_cloexec(e, fd) < 0) {
            close(fd);
            continue;
        }
        if (connect(fd, c->ai->ai_addr, c->ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            c->fd[1] = fd;
            c->connecting = 1;
            return 0;
        }
        close(fd);
    }
    return -1;
}

static void no_server(struct conn *c, int e)
{
    err("conn %d: cannot connect to %s:%d: %s", c->id, opt.to_host, opt.to_port, strerror(e));
    close_conn(c, 0, "no server");
}

/* connected - the connect to the server finished: it worked, or try the next address. */
static void connected(struct conn *c)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;

    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
        close(c->fd[1]);
        c->fd[1] = -1;
        c->ai = c->ai->ai_next;
        if (start_connect(c) < 0)
            no_server(c, soerr ? soerr : errno);
        return;
    }
    c->connecting = 0;
    (void)net_set_nodelay(NULL, c->fd[1], 1);
    init_dir(&c->up, c, 1);
    init_dir(&c->down, c, 0);
    say("conn %d open: up %s, down %s", c->id, opt.up.text, opt.down.text);
}

/* accept_all - take the waiting connections; each starts its connect to the server. */
static void accept_all(int lfd)
{
    char e[NET_ERR_LEN], peer[NET_ADDR_LEN];

    for (int i = 0; i < 64; i++) {
        int fd = net_accept(e, lfd, peer, sizeof peer);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                err("%s", e);
            return;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (!c || net_set_nonblock(e, fd, 1) < 0 || net_set_cloexec(e, fd) < 0) {
            err("conn: %s", c ? e : "out of memory");
            free(c);
            close(fd);
            continue;
        }
        (void)net_set_nodelay(NULL, fd, 1);
        c->id = next_id++;
        c->fd[0] = fd;
        c->fd[1] = -1;
        c->ai = opt.addrs;
        c->next = conns;
        conns = c;
        say("conn %d from %s", c->id, peer);
        if (start_connect(c) < 0)
            no_server(c, errno);
    }
}

/* ------------------------------------------------------------ moving bytes */

/* gone - a read or write failed: report it in one line, close the whole connection. */
static void gone(struct conn *c, const char *who, int e)
{
    say("conn %d: the %s reset the connection (%s); closing the other side", c->id, who,
        strerror(e));
    close_conn(c, 0, "reset by a peer");
}

/* read_side - one read into d's queue. Returns 0, or -1 if c is gone. */
static int read_side(struct conn *c, struct dir *d, int64_t now)
{
    if (d->end + READ_CHUNK > d->cap && d->start > 0) {
        memmove(d->buf, d->buf + d->start, d->end - d->start);
        d->end -= d->start;
        d->start = 0;
    }
    if (d->end + READ_CHUNK > d->cap) {
        unsigned char *p = realloc(d->buf, d->end + READ_CHUNK);
        if (!p)
            return err("conn %d: out of memory", c->id), close_conn(c, 1, "no memory"), -1;
        d->buf = p;
        d->cap = d->end + READ_CHUNK;
    }
    ssize_t n = recv(d->in, d->buf + d->end, READ_CHUNK, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (n < 0)
        return gone(c, d->from, errno), -1;
    if (n == 0) {
        d->in_eof = 1;
        say("conn %d %s: the %s closed its side at offset %llu", c->id, d->name, d->from,
            (unsigned long long)(d->at + (d->end - d->start)));
        return 0;
    }
    if (d->cut)
        return 0; /* after eof-after: read and dropped, so that closing sends no RST */
    if (d->start == d->end)
        d->first_held = now;
    d->last_read = now;
    d->end += (size_t)n;
    return 0;
}

/* do_write - one write of n bytes, printed. Returns 1 if written, 0 if not now, -1 if c is gone. */
static int do_write(struct conn *c, struct dir *d, size_t n, int64_t now)
{
    ssize_t w = send(d->out, d->buf + d->start, n, NET_SEND_FLAGS);

    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return d->blocked = 1, 0;
    if (w < 0 && errno == EINTR)
        return 0;
    if (w < 0)
        return gone(c, d->to, errno), -1;
    d->sends++;
    if (!opt.quiet) {
        printf("%s | send #%d | conn %d | at %llu | %zd bytes | ", d->side, d->sends, c->id,
               (unsigned long long)d->at, w);
        put_escaped(d->buf + d->start, (size_t)w);
        putchar('\n');
        fflush(stdout);
    }
    d->start += (size_t)w;
    d->at += (uint64_t)w;
    if (d->start == d->end)
        d->start = d->end = 0;
    after_write(d, now, opt.gap);
    return 1;
}

/* limit_reached - eof-after / reset-after. Returns -1 if c is gone. */
static int limit_reached(struct conn *c, struct dir *d)
{
    if ((d->s->kind != EOF_AFTER && d->s->kind != RESET_AFTER) || d->cut || d->at < d->s->count)
        return 0;
    if (d->s->kind == RESET_AFTER) {
        say("conn %d %s: reset-after %llu: resetting both sides", c->id, d->name,
            (unsigned long long)d->s->count);
        close_conn(c, 1, "reset-after");
        return -1;
    }
    say("conn %d %s: eof-after %llu: closed toward the %s", c->id, d->name,
        (unsigned long long)d->s->count, d->to);
    (void)shutdown(d->out, SHUT_WR);
    d->cut = d->shut = 1;
    d->start = d->end = 0;
    return 0;
}

/* pump - write what d's schedule allows now. Returns -1 if c is gone. */
static int pump(struct conn *c, struct dir *d, int64_t now, int64_t *wake)
{
    for (;;) {
        if (limit_reached(c, d) < 0)
            return -1;
        if (d->blocked)
            return 0;
        /* nothing queued and no FIN due: nothing waits on the receiver yet
         * (no polling of /proc until more bytes come) */
        if (d->settle_until && (d->start != d->end || d->in_eof)) {
            if (!settled(d, now))
                return wake_at(wake, settle_poll(d, now)), 0;
            d->settle_until = 0;
            d->not_before = now + d->pause; /* the gap counts from then */
        }
        size_t n = next_write(d, now, wake);
        if (n == 0)
            break;
        int r = do_write(c, d, n, now);
        if (r <= 0)
            return r;
    }
    if (d->in_eof && d->start == d->end && !d->shut) {
        (void)shutdown(d->out, SHUT_WR);
        d->shut = 1;
    }
    return 0;
}

/* service - move what can be moved on c; close it when both directions are done. */
static void service(struct conn *c, int64_t now, int64_t *wake)
{
    if (c->connecting)
        return;
    if (pump(c, &c->up, now, wake) < 0 || pump(c, &c->down, now, wake) < 0)
        return;
    int up_done = c->up.cut || (c->up.shut && c->up.in_eof);
    int down_done = c->down.cut || (c->down.shut && c->down.in_eof);
    if (up_done && down_done)
        close_conn(c, 0, "both directions done");
}

/* events - what c wants poll() to watch on descriptor i. */
static short events(const struct conn *c, int i)
{
    const struct dir *in = i == 0 ? &c->up : &c->down, *out = i == 0 ? &c->down : &c->up;
    short ev = 0;

    if (c->connecting)
        return i == 1 ? POLLOUT : 0;
    if (!in->in_eof && in->end - in->start < QUEUE_BOUND)
        ev |= POLLIN;
    if (out->blocked)
        ev |= POLLOUT;
    return ev;
}

/* handle - act on what poll() said about c. */
static void handle(struct conn *c, const struct pollfd *p, int64_t now)
{
    if (c->connecting) {
        if (p[1].revents)
            connected(c);
        return;
    }
    for (int i = 0; i < 2; i++) {
        struct dir *in = i == 0 ? &c->up : &c->down, *out = i == 0 ? &c->down : &c->up;
        if (p[i].revents & POLLOUT)
            out->blocked = 0;
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (!in->in_eof && read_side(c, in, now) < 0)
            return;
        if (in->in_eof && (p[i].revents & POLLERR))
            return gone(c, in->from, ECONNRESET);
    }
}

/* ------------------------------------------------------------ main */

static int loop(int lfd)
{
    for (;;) {
        int64_t now = now_ms(), wake = -1;
        size_t n = 1, cap = 1;
        for (struct conn *c = conns, *next; c; c = next) {
            next = c->next;
            service(c, now, &wake);
        }
        for (struct conn *c = conns; c; c = c->next)
            cap += 2;
        struct pollfd *p = calloc(cap, sizeof *p);
        struct conn **who = calloc(cap, sizeof *who);
        if (!p || !who)
            return free(p), free(who), err("out of memory"), 1;
        p[0].fd = lfd;
        p[0].events = POLLIN;
        for (struct conn *c = conns; c; c = c->next, n += 2) {
            for (int i = 0; i < 2; i++) { /* fd -1: nothing to watch (no POLLHUP spin) */
                short ev = events(c, i);
                p[n + i] = (struct pollfd){ev || c->fd[i] < 0 ? c->fd[i] : -1, ev, 0};
            }
            who[n] = c;
        }
        int timeout = wake < 0 ? -1 : (int)(wake > now ? wake - now : 0);
        int r = poll(p, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR)
            return free(p), free(who), err("poll: %s", strerror(errno)), 1;
        now = now_ms();
        for (size_t i = 1; r > 0 && i < n; i += 2)
            handle(who[i], &p[i], now);
        if (r > 0 && p[0].revents)
            accept_all(lfd);
        free(p);
        free(who);
    }
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "splitproxy: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", USAGE);
    return 2;
}

/* split_hostport - "host:port" or "[v6]:port". */
static int split_hostport(const char *text)
{
    char *s = strcpy(opt.to, text), *colon = strrchr(s, ':');
    uint64_t port;

    if (!colon || parse_u64(colon + 1, &port) < 0 || port == 0 || port > 65535)
        return -1;
    *colon = '\0';
    if (s[0] == '[' && colon > s + 1 && colon[-1] == ']') {
        colon[-1] = '\0';
        s++;
    }
    opt.to_host = s;
    opt.to_port = (int)port;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    const char *up = "pass", *down = "pass";
    uint64_t v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help"))
            return printf("%s", USAGE), 0;
        if (!strcmp(a, "--quiet") || !strcmp(a, "--full")) {
            *(a[2] == 'q' ? &opt.quiet : &opt.full) = 1;
            continue;
        }
        if (!val)
            return usage_error("%s needs a value", a);
        i++;
        if (!strcmp(a, "--listen") && parse_u64(val, &v) == 0 && v <= 65535)
            opt.port = (int)v;
        else if (!strcmp(a, "--to") && strlen(val) < sizeof opt.to && split_hostport(val) == 0)
            continue;
        else if (!strcmp(a, "--seed") && parse_u64(val, &v) == 0)
            opt.seed = v;
        else if (!strcmp(a, "--gap") && parse_u64(val, &v) == 0 && v <= 60000)
            opt.gap = (long)v;
        else if (!strcmp(a, "--pass-first") && parse_u64(val, &v) == 0)
            opt.skip = v;
        else if (!strcmp(a, "--up") || !strcmp(a, "--down"))
            *(a[2] == 'u' ? &up : &down) = val;
        else if (!strcmp(a, "--host"))
            opt.host = val;
        else
            return usage_error("bad option or value: %s", a);
    }
    if (opt.port < 0 || !opt.to_host)
        return usage_error("%s", "--listen and --to are required");
    if (parse_sched(&opt.up, up, opt.seed) < 0)
        return usage_error("bad schedule for --up: %s", up);
    if (parse_sched(&opt.down, down, opt.seed) < 0)
        return usage_error("bad schedule for --down: %s", down);
    opt.up.skip = opt.down.skip = opt.skip;
    return -1; /* go on */
}

/* resolve - the server's addresses, once: every connection tries them in order. */
static int resolve(void)
{
    struct addrinfo hints;
    char port[16];
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", opt.to_port);
    if ((rc = getaddrinfo(opt.to_host, port, &hints, &opt.addrs)) != 0) {
        err("%s: %s", opt.to_host, gai_strerror(rc));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char e[NET_ERR_LEN], name[NET_ADDR_LEN];
    struct sigaction sa;
    int r = parse_args(argc, argv), lfd;

    if (r >= 0)
        return r;
    signal(SIGPIPE, SIG_IGN); /* a closed stdout or socket: an error, never a death */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (resolve() < 0)
        return 1;
    if ((lfd = net_listen(e, opt.host, opt.port, 64)) < 0 || net_set_nonblock(e, lfd, 1) < 0 ||
        net_set_cloexec(e, lfd) < 0 || net_local_name(e, lfd, name, sizeof name, NULL) < 0) {
        err("%s", e);
        return 1;
    }
    printf("listening on %s\n", name);
    fflush(stdout);
    r = loop(lfd);
    while (conns)
        close_conn(conns, 0, "proxy stopped");
    close(lfd);
    freeaddrinfo(opt.addrs);
    free(opt.up.cuts);
    free(opt.down.cuts);
    return r;
}
