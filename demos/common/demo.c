/* demo.c - options, lines for people, and connections for the demos; see demo.h. */
#include "demo.h"
#include "args.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BACKLOG 8
#define COMMON_OPTIONS                                                                    \
    "  --full         print every byte instead of abbreviating long data\n"              \
    "  --sync         the peer is this suite's program started with --sync too: a\n"    \
    "                 second connection makes every run the same (the harness uses it)\n" \
    "  --live         wait for nothing: read when a naive program would (timing decides)\n" \
    "  --patience S   wait at most S seconds for anything (default: 10 for the peer,\n"   \
    "                 600 for a person to start a client or type a command)\n"            \
    "  --step         before every recv, say what waits and read a line from stdin"

static const char *side = "client"; /* set once by demo_parse_args */
static int chinese;                  /* DEMO_LANG=zh, or a LANG/LC_ALL starting with zh */
extern const char *const demo_lang_table[]; /* build/gen/lang_zh.c, from lang/zh.txt */
static int sync_mode, live_mode;     /* --sync, --live */
static int patience;                 /* --patience, in seconds (0: none) */
static int step_mode;                /* --step */
static int runs_commands;            /* DEMO_RUNS_COMMANDS: a server that runs what it gets */

const char *demo_side(void)
{
    return side;
}

int demo_sync_mode(void)
{
    return sync_mode;
}

int demo_live_mode(void)
{
    return live_mode;
}

int demo_step_mode(void)
{
    return step_mode;
}

int demo_patience(int seconds)
{
    return patience > 0 && patience < seconds ? patience : seconds;
}

/* reader_language_is_chinese - DEMO_LANG, else LC_ALL, LC_MESSAGES, LANG. */
static int reader_language_is_chinese(void)
{
    static const char *const names[] = {"DEMO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return (v[0] == 'z' || v[0] == 'Z') && (v[1] == 'h' || v[1] == 'H');
    }
    return 0;
}

const char *demo_tr(const char *english)
{
    if (!chinese)
        return english;
    for (const char *const *p = demo_lang_table; *p; p += 2)
        if (strcmp(p[0], english) == 0)
            return p[1];
    return english; /* no translation yet: the test of lang/zh.txt says which */
}

/*
 * One pipe, two programs: the harness reads both programs' lines from one
 * pipe, in the order they were written. A write of more than PIPE_BUF bytes
 * (a long --full line) is not atomic: while the pipe is full, the other
 * program's line can land in its middle. With DEMO_OUTPUT_LOCK naming a file,
 * every line is written under a POSIX record lock on it, so lines never mix.
 * Without it (two terminals, one program each) there is nothing to share.
 */
static int output_lock_fd = -2; /* -2: not opened yet, -1: no lock */

static void output_lock(short type)
{
    if (output_lock_fd == -2) {
        const char *path = getenv("DEMO_OUTPUT_LOCK");
        output_lock_fd = path && *path ? open(path, O_RDWR | O_CLOEXEC) : -1;
    }
    if (output_lock_fd < 0)
        return;
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    while (fcntl(output_lock_fd, F_SETLKW, &fl) < 0 && errno == EINTR)
        ;
}

void demo_line_begin(void)
{
    output_lock(F_WRLCK);
}

void demo_line_end(void)
{
    fflush(stdout); /* one terminal, two programs: each line goes out at once */
    output_lock(F_UNLCK);
}

/* wide - a code point that a terminal shows two columns wide (CJK). */
static int wide(unsigned long c)
{
    return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
           (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
           (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
           (c >= 0xffe0 && c <= 0xffe6);
}

int demo_columns(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    int cols = 0;
    while (*p) {
        unsigned long c = *p;
        int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        c &= extra ? 0x3fu >> extra : 0x7fu;
        for (p++; extra-- > 0 && (*p & 0xc0) == 0x80; p++)
            c = (c << 6) | (*p & 0x3fu);
        cols += wide(c) ? 2 : 1;
    }
    return cols;
}

const char *demo_pad(const char *text, int width, int right)
{
    static char ring[8][160];
    static int next;
    char *out = ring[next++ % 8];
    int spaces = width - demo_columns(text);
    if (spaces < 0)
        spaces = 0;
    snprintf(out, sizeof ring[0], "%*s%s%*s", right ? spaces : 0, "", text,
             right ? 0 : spaces, "");
    return out;
}

/* demo_say and demo_die print the format's translation: the same conversions
 * in the same order, which harness/test_i18n.py checks for every sentence. */
static void say(const char *fmt, va_list ap)
{
    demo_line_begin();
    printf("%s: ", side);
    vprintf(fmt, ap);
    putchar('\n');
    demo_line_end();
}

void demo_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(demo_tr(fmt), ap);
    va_end(ap);
}

void demo_say_as_is(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

void demo_fact(const char *name, const char *fmt, ...)
{
    va_list ap;
    demo_line_begin();
    printf("%s | fact | %s = ", side, name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    demo_line_end();
}

void demo_die(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    fmt = demo_tr(fmt);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    demo_line_begin();
    fflush(stdout);
    fprintf(stderr, "%s: error: %s\n", side, msg); /* one write: stderr is unbuffered */
    demo_line_end();
    exit(1);
}

void demo_pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void demo_pause_between_sends(const struct demo_args *a)
{
    if (a->live) {
        /* A fresh gap per run, from the clock's nanoseconds and the pid, spread
         * evenly over the powers of two from 1 us to 1 ms and what lies
         * between them: the gap at which a reader stops seeing the sends
         * merged differs from machine to machine by orders of magnitude. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned long x = ((unsigned long)ts.tv_nsec ^ (unsigned long)getpid()) * 2654435761u;
        long base = 1L << (x >> 4) % 11;                 /* 1, 2, 4 ... 1024 us */
        long us = base + (long)((x >> 12) % (unsigned long)(base + 1)); /* ... up to 2048 */
        demo_fact("gap_us", "%ld", us);
        /* Spin rather than sleep: a sleep lasts at least the kernel's timer
         * slack (50 us on Linux), whatever it was asked for. */
        for (double end = demo_now_ms() + us / 1000.0; demo_now_ms() < end;)
            ;
    } else if (a->pause_ms > 0) {
        demo_say("pause %ld ms (time.sleep in the notes)", a->pause_ms);
        demo_pause_ms(a->pause_ms);
    }
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
    struct demo_args a = {"127.0.0.1", -1, 0, default_pause_ms, 0, 0, -1, 0, 0};

    side = ends_with(argv[0], "server") ? "server" : "client";
    runs_commands = (flags & DEMO_RUNS_COMMANDS) != 0;
    chinese = reader_language_is_chinese();
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
            printf("%s\n%s\n", usage, COMMON_OPTIONS);
            exit(0);
        } else if (!strcmp(opt, "--full")) {
            a.full = 1;
        } else if (!strcmp(opt, "--sync")) {
            a.sync = sync_mode = 1;
        } else if (!strcmp(opt, "--live")) {
            a.live = live_mode = 1;
        } else if (!strcmp(opt, "--step")) {
            a.step = step_mode = 1;
        } else if (!strcmp(opt, "--host") && val) {
            a.host = val, i++;
        } else if (!strcmp(opt, "--port") && val) {
            a.port = (int)number(opt, val, 0, 65535), i++;
        } else if (!strcmp(opt, "--patience") && val) {
            a.patience_s = patience = (int)number(opt, val, 1, 86400), i++;
        } else if (!strcmp(opt, "--rcvbuf") && val && (flags & DEMO_WANTS_RCVBUF)) {
            a.rcvbuf = (int)number(opt, val, 0, 1 << 30), i++;
        } else if (!strcmp(opt, "--pause-ms") && val && (flags & DEMO_WANTS_PAUSE)) {
            a.pause_ms = number(opt, val, 0, 600000), i++;
        } else {
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n%s\n%s\n", side, opt, usage,
                    COMMON_OPTIONS);
            exit(2);
        }
    }
    if (a.sync && a.live)
        demo_die("--sync and --live: choose one (certain, or left to timing)");
    if (a.port < 0) {
        if (strcmp(side, "client") == 0)
            demo_die("which port? start the server first and pass the port it printed: --port N");
        a.port = 0; /* the server picks a free port and prints it */
    }
    /* A peer that closes early must give an error we can report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    /* Big enough that most lines leave in one write(). The buffer is ours:
     * glibc ignores the size asked for when it allocates the buffer itself
     * (it takes the pipe's 4096), which cut long --full lines in two. */
    static char out_buffer[1 << 16];
    setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
    return a;
}

int demo_listen(const struct demo_args *a)
{
    char err[NET_ERR_LEN], addr[NET_ADDR_LEN];
    int fd = net_listen(err, a->host, a->port, BACKLOG), loopback = 0;

    if (fd < 0 || net_local_name(err, fd, addr, sizeof addr, &loopback) < 0)
        demo_die("%s", err);
    /* Before anyone can know the port: an accepted connection inherits it. */
    if (a->rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &a->rcvbuf, sizeof a->rcvbuf) < 0)
        demo_die("setsockopt(SO_RCVBUF): %s", strerror(errno));
    if (!runs_commands) {
        demo_say_as_is("listening on %s", addr);
        return fd;
    }
    /* the course's server, insecure on purpose: it says so, and bin/rsh-server is the fix */
    demo_say_as_is("listening on %s (it runs every command it is sent, as you, for any user "
                   "of this machine)", addr);
    if (!loopback)
        demo_say("warning: %s is not loopback: anyone who can reach it can run commands as you",
                 addr);
    return fd;
}

/* demo_readable - wait up to seconds for fd to become readable; 1 if it did. */
int demo_readable(int fd, int seconds)
{
    struct pollfd p = {fd, POLLIN, 0};
    double end = demo_now_ms() + seconds * 1000.0;
    int rc;

    do
        rc = poll(&p, 1, (int)(end - demo_now_ms() > 0 ? end - demo_now_ms() : 0));
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        demo_die("poll: %s", strerror(errno));
    return rc > 0;
}

int demo_try_accept(int listen_fd, int conn, int seconds)
{
    char err[NET_ERR_LEN];
    int fd;

    if (!demo_readable(listen_fd, seconds))
        return -1;
    if ((fd = net_accept(err, listen_fd, NULL, 0)) < 0)
        demo_die("%s", err);
    demo_say_as_is("accepted conn %d", conn);
    return fd;
}

int demo_accept(int listen_fd, int conn)
{
    int seconds = demo_patience(conn == 1 ? DEMO_WAIT_PERSON_S : DEMO_WAIT_S);
    int fd = demo_try_accept(listen_fd, conn, seconds);

    if (fd < 0)
        demo_die("no client connected (conn %d) within %d s; giving up", conn, seconds);
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
    demo_say_as_is("connected conn %d to %s:%d", conn, a->host, a->port);
    return fd;
}

int demo_try_connect(const struct demo_args *a, int conn)
{
    int fd = net_connect(NULL, a->host, a->port);
    if (fd >= 0)
        demo_say_as_is("connected conn %d to %s:%d", conn, a->host, a->port);
    return fd;
}

void demo_close(int fd)
{
    char buf[4096];

    shutdown(fd, SHUT_WR); /* FIN: "nothing more from us" */
    while (demo_readable(fd, DEMO_SOFT_WAIT_MS / 1000) && recv(fd, buf, sizeof buf, 0) > 0)
        ; /* whatever it still sends, until its FIN */
    close(fd);
}

/* The sync connection is opened first and confirmed by the server before
 * any data connection is opened, so neither side can mistake one for the other. */
int demo_accept_sync(const struct demo_args *a, int listen_fd)
{
    char err[NET_ERR_LEN];
    int fd;

    if (!a->sync)
        return -1;
    if (!demo_readable(listen_fd, demo_patience(DEMO_WAIT_PERSON_S)))
        demo_die("--sync: no client came within %d s", demo_patience(DEMO_WAIT_PERSON_S));
    if ((fd = net_accept(err, listen_fd, NULL, 0)) < 0)
        demo_die("%s", err);
    if (send(fd, "R", 1, NET_SEND_FLAGS) != 1)
        demo_die("sync connection: %s", strerror(errno));
    return fd;
}

int demo_connect_sync(const struct demo_args *a)
{
    char c;
    int fd;

    if (!a->sync)
        return -1;
    fd = connect_quietly(a);
    if (!demo_readable(fd, DEMO_WAIT_S) || recv(fd, &c, 1, 0) != 1 || c != 'R')
        demo_die("--sync: the server did not confirm the sync connection within %d s: "
                 "start the server with --sync too", DEMO_WAIT_S);
    return fd;
}

void demo_sync_post(int sync_fd, const char *what)
{
    if (sync_fd < 0)
        return;
    demo_say_as_is("[sync] to the peer: %s", demo_tr(what));
    if (send(sync_fd, "!", 1, NET_SEND_FLAGS) != 1)
        demo_die("sync connection: %s", strerror(errno));
}

void demo_sync_wait(int sync_fd, const char *what)
{
    char c;
    ssize_t n = 0;

    if (sync_fd < 0)
        return;
    if (demo_readable(sync_fd, DEMO_WAIT_S))
        do
            n = recv(sync_fd, &c, 1, 0);
        while (n < 0 && errno == EINTR);
    if (n != 1)
        demo_die("--sync: the peer did not say \"%s\" within %d s", what, DEMO_WAIT_S);
    demo_say_as_is("[sync] from the peer: %s", demo_tr(what));
}
