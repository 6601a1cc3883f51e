/* demo.c - options, lines for people, and connections for the demos; see demo.h. */
#include "demo.h"
#include "args.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKLOG 8

static const char *side = "client"; /* set once by demo_parse_args */

const char *demo_side(void)
{
    return side;
}

void demo_say(const char *fmt, ...)
{
    va_list ap;
    printf("%s: ", side);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout); /* one terminal, two programs: each line goes out at once */
}

void demo_fact(const char *name, const char *fmt, ...)
{
    va_list ap;
    printf("%s | fact | %s = ", side, name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void demo_die(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "%s: error: %s\n", side, msg); /* one write: stderr is unbuffered */
    exit(1);
}

void demo_pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

double demo_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ends_with - does name end in suffix? */
static int ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0;
}

static long number(const char *opt, const char *text, long lo, long hi)
{
    long v;
    if (parse_long(text, lo, hi, &v) < 0)
        demo_die("%s must be a number from %ld to %ld, not '%s'", opt, lo, hi, text);
    return v;
}

struct demo_args demo_parse_args(int argc, char **argv, const char *usage,
                                 int flags, long default_pause_ms)
{
    struct demo_args a = {"127.0.0.1", -1, 0, default_pause_ms};

    side = ends_with(argv[0], "server") ? "server" : "client";
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
            printf("%s\n", usage);
            exit(0);
        } else if (!strcmp(opt, "--full")) {
            a.full = 1;
        } else if (!strcmp(opt, "--host") && val) {
            a.host = val, i++;
        } else if (!strcmp(opt, "--port") && val) {
            a.port = (int)number(opt, val, 0, 65535), i++;
        } else if (!strcmp(opt, "--pause-ms") && val && (flags & DEMO_WANTS_PAUSE)) {
            a.pause_ms = number(opt, val, 0, 600000), i++;
        } else {
            fprintf(stderr, "%s\n", usage);
            exit(2);
        }
    }
    if (a.port < 0) {
        if (strcmp(side, "client") == 0)
            demo_die("which port? start the server first and pass the port it printed: --port N");
        a.port = 0; /* the server picks a free port and prints it */
    }
    /* A peer that closes early must give an error we can report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    /* Big enough that each line leaves in one write(), so the two programs'
     * lines never interleave mid-line on a shared terminal. */
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    return a;
}

int demo_listen(const struct demo_args *a)
{
    char err[NET_ERR_LEN], addr[NET_ADDR_LEN];
    int fd = net_listen(err, a->host, a->port, BACKLOG);

    if (fd < 0 || net_local_name(err, fd, addr, sizeof addr, NULL) < 0)
        demo_die("%s", err);
    demo_say("listening on %s", addr);
    return fd;
}

int demo_accept(int listen_fd, int conn)
{
    char err[NET_ERR_LEN];
    int fd = net_accept(err, listen_fd, NULL, 0);

    if (fd < 0)
        demo_die("%s", err);
    demo_say("accepted conn %d", conn);
    return fd;
}

/* connect_quietly - connect, or die saying whether the server runs. */
static int connect_quietly(const struct demo_args *a)
{
    char err[NET_ERR_LEN];
    int fd = net_connect(err, a->host, a->port);

    if (fd < 0)
        demo_die("%s (is the server running?)", err);
    return fd;
}

int demo_connect(const struct demo_args *a, int conn)
{
    int fd = connect_quietly(a);
    demo_say("connected conn %d to %s:%d", conn, a->host, a->port);
    return fd;
}

/* The sync connection is opened first and confirmed by the server before
 * any data connection is opened, so neither side can mistake one for the other. */
int demo_accept_sync(int listen_fd)
{
    char err[NET_ERR_LEN];
    int fd = net_accept(err, listen_fd, NULL, 0);

    if (fd < 0)
        demo_die("%s", err);
    if (send(fd, "R", 1, NET_SEND_FLAGS) != 1)
        demo_die("sync connection: %s", strerror(errno));
    return fd;
}

int demo_connect_sync(const struct demo_args *a)
{
    char c;
    int fd = connect_quietly(a);
    if (recv(fd, &c, 1, 0) != 1 || c != 'R')
        demo_die("the server did not confirm the sync connection");
    return fd;
}

void demo_sync_post(int sync_fd, const char *what)
{
    demo_say("[sync] tell the peer: %s", what);
    if (send(sync_fd, "!", 1, NET_SEND_FLAGS) != 1)
        demo_die("sync connection: %s", strerror(errno));
}

void demo_sync_wait(int sync_fd, const char *what)
{
    char c;
    ssize_t n;
    do
        n = recv(sync_fd, &c, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        demo_die("sync connection closed while waiting for: %s", what);
    demo_say("[sync] the peer says: %s", what);
}
