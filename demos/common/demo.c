/* demo.c - shared plumbing for the demos; see demo.h. */
#include "demo.h"
#include "frame.h"
#include "rsh-proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ABBREV_HEAD 32 /* long data is shown as its first 32 ... */
#define ABBREV_TAIL 16 /* ... and last 16 bytes */

void demo_say(const char *side, const char *fmt, ...)
{
    va_list ap;
    printf("%s: ", side);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout); /* one terminal, two programs: each line goes out at once */
}

void demo_fact(const char *side, const char *name, const char *fmt, ...)
{
    va_list ap;
    printf("%s | fact | %s = ", side, name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void demo_die(const char *side, const char *fmt, ...)
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

static long parse_long(const char *s, const char *what, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        demo_die("args", "%s must be a number from %ld to %ld, not '%s'", what, lo, hi, s);
    return v;
}

struct demo_args demo_parse_args(int argc, char **argv, const char *usage,
                                 int flags, long default_pause_ms)
{
    struct demo_args a = {"127.0.0.1", -1, 0, default_pause_ms};
    int is_client = strstr(argv[0], "client") != NULL;

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
            a.port = (int)parse_long(val, "--port", 0, 65535), i++;
        } else if (!strcmp(opt, "--pause-ms") && val && (flags & DEMO_WANTS_PAUSE)) {
            a.pause_ms = parse_long(val, "--pause-ms", 0, 600000), i++;
        } else {
            fprintf(stderr, "%s\n", usage);
            exit(2);
        }
    }
    if (a.port < 0) {
        if (is_client)
            demo_die("client", "which port? start the server first and pass the port it "
                               "printed: --port N");
        a.port = 0; /* the server picks a free port and prints it */
    }
    /* A peer that closes early must give an error we can report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    /* Big enough that each line leaves in one write(), so the two programs'
     * lines never interleave mid-line on a shared terminal. */
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    return a;
}

struct trace demo_trace(const char *side, int conn, const struct demo_args *a)
{
    struct trace t = {side, conn, a->full, 0, 0, 0, 0, 0};
    return t;
}

const char *demo_escape(const void *buf, size_t n, int full)
{
    static char *ring[4]; /* four results can be used in one printf */
    static size_t ring_cap[4];
    static int next;
    const unsigned char *p = buf;
    size_t need = n * 4 + 16;
    int k = next++ % 4;

    if (need > ring_cap[k]) {
        free(ring[k]);
        ring_cap[k] = need;
        if (!(ring[k] = malloc(need)))
            demo_die("demo", "out of memory");
    }
    char *out = ring[k], *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (!full && n > ABBREV_HEAD + ABBREV_TAIL && i == ABBREV_HEAD) {
            o += sprintf(o, "\" ... \""); /* the byte count is on the same line */
            i = n - ABBREV_TAIL;
        }
        unsigned char c = p[i];
        if (c == '\n')
            *o++ = '\\', *o++ = 'n';
        else if (c == '\r')
            *o++ = '\\', *o++ = 'r';
        else if (c == '\t')
            *o++ = '\\', *o++ = 't';
        else if (c == '"' || c == '\\')
            *o++ = '\\', *o++ = (char)c;
        else if (c >= 0x20 && c < 0x7f)
            *o++ = (char)c;
        else
            o += sprintf(o, "\\x%02x", c);
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static void print_call(const struct trace *t, const char *call, int num, long at,
                       const void *buf, size_t n, size_t asked)
{
    printf("%s | %s #%d | conn %d | at %ld | %zu bytes | %s", t->side, call, num,
           t->conn, at, n, n ? demo_escape(buf, n, t->full) : "EOF");
    if (asked)
        printf(" | asked %zu", asked);
    putchar('\n');
    fflush(stdout);
}

void demo_send(struct trace *t, int fd, const void *buf, size_t n)
{
    const char *p = buf;
    t->sends++;
    print_call(t, "send", t->sends, t->sent, buf, n, 0);
    while (n > 0) {
        ssize_t k = send(fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            demo_die(t->side, "send: %s", strerror(errno));
        if ((size_t)k < n)
            demo_say(t->side, "(send #%d: the kernel took %zd of %zu bytes; sending the rest)",
                     t->sends, k, n);
        p += k, n -= (size_t)k, t->sent += k;
    }
}

void demo_send_frame(struct trace *t, int fd, const void *body, size_t n)
{
    unsigned char *wire = malloc(FRAME_HEADER_SIZE + n); /* only to print the wire bytes */
    if (!wire)
        demo_die(t->side, "out of memory");
    frame_put_length(wire, (uint32_t)n);
    memcpy(wire + FRAME_HEADER_SIZE, body, n);
    t->sends++;
    print_call(t, "send", t->sends, t->sent, wire, FRAME_HEADER_SIZE + n, 0);
    free(wire);
    if (send_frame(fd, body, n) != FRAME_OK)
        demo_die(t->side, "send_frame: %s", strerror(errno));
    t->sent += (long)(FRAME_HEADER_SIZE + n);
}

void demo_message(struct trace *t, const void *body, size_t n)
{
    t->messages++;
    printf("%s | message #%d | conn %d | %zu bytes | %s\n", t->side, t->messages, t->conn, n,
           demo_escape(body, n, t->full));
    fflush(stdout);
}

int demo_deliver(struct trace *t, struct frame_reader *r, const void *buf, size_t n)
{
    const unsigned char *body;
    uint32_t len;
    int delivered = 0;
    int status;

    if (frame_reader_push(r, buf, n) != FRAME_OK)
        demo_die(t->side, "out of memory");
    while ((status = frame_reader_next(r, &body, &len)) == FRAME_OK) {
        demo_message(t, body, len);
        delivered++;
    }
    if (status != FRAME_AGAIN)
        demo_die(t->side, "bad frame: %s (length %lu)", frame_strerror(status),
                 (unsigned long)r->bad_length);
    if (frame_reader_pending(r))
        demo_say(t->side, "%zu bytes of an unfinished frame wait in the reader for the next recv",
                 frame_reader_pending(r));
    return delivered;
}

/* take - use one frame of a remote-shell answer; returns 1 at its 'X' frame. */
static int take(const struct trace *t, struct rsh_answer *ans, const unsigned char *body,
                uint32_t len)
{
    if (len == 1 + RSH_STATUS_SIZE && body[0] == RSH_EXIT) {
        ans->status = rsh_get_status(body + 1);
        return 1;
    }
    if (len >= 1 && body[0] == RSH_STDOUT) {
        if (!(ans->out = realloc(ans->out, ans->out_len + len)))
            demo_die(t->side, "out of memory");
        memcpy(ans->out + ans->out_len, body + 1, len - 1);
        ans->out_len += len - 1;
    } else if (len >= 1 && body[0] == RSH_STDERR) {
        ans->err_len += len - 1;
    } else if (len >= 1 && body[0] == RSH_ERROR) {
        demo_die(t->side, "server error: %.*s", (int)len - 1, (const char *)body + 1);
    } else {
        demo_die(t->side, "unexpected frame from the server: %s", demo_escape(body, len, 0));
    }
    return 0;
}

void demo_rsh_answer(struct trace *t, int fd, struct frame_reader *r, size_t recv_size,
                     struct rsh_answer *ans)
{
    const unsigned char *body;
    uint32_t len;
    char *buf = malloc(recv_size);
    int status;

    memset(ans, 0, sizeof *ans);
    if (!buf)
        demo_die(t->side, "out of memory");
    for (;;) {
        while ((status = frame_reader_next(r, &body, &len)) == FRAME_OK)
            if (take(t, ans, body, len)) {
                free(buf);
                return; /* the 'X' frame: this answer is complete */
            }
        if (status != FRAME_AGAIN)
            demo_die(t->side, "bad frame: %s (length %lu)", frame_strerror(status),
                     (unsigned long)r->bad_length);
        size_t got = demo_recv(t, fd, buf, recv_size);
        if (got == 0)
            demo_die(t->side, "the server closed the connection mid-answer");
        if (frame_reader_push(r, buf, got) != FRAME_OK)
            demo_die(t->side, "out of memory");
    }
}

size_t demo_recv(struct trace *t, int fd, void *buf, size_t cap)
{
    ssize_t n;
    do
        n = recv(fd, buf, cap, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        demo_die(t->side, "recv: %s", strerror(errno));
    t->recvs++;
    print_call(t, "recv", t->recvs, t->rcvd, buf, (size_t)n, cap);
    t->rcvd += n;
    return (size_t)n;
}

size_t demo_queued(int fd)
{
    int n = 0;
    if (ioctl(fd, FIONREAD, &n) < 0)
        demo_die("demo", "ioctl(FIONREAD): %s", strerror(errno));
    return (size_t)n;
}

void demo_pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void demo_wait_queued(const struct trace *t, int fd, size_t n)
{
    demo_say(t->side, "[sync] waiting until %zu bytes wait in the receive buffer (FIONREAD)", n);
    for (int ms = 0; demo_queued(fd) < n; ms++) {
        if (ms >= 10000)
            demo_die(t->side, "only %zu of %zu bytes arrived in 10 s", demo_queued(fd), n);
        demo_pause_ms(1); /* poll again: the condition, not the sleep, ends the wait */
    }
    demo_say(t->side, "[sync] FIONREAD reports %zu bytes", demo_queued(fd));
}

int demo_listen(const struct demo_args *a)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)a->port);
    if (inet_pton(AF_INET, a->host, &addr.sin_addr) != 1)
        demo_die("server", "--host wants an IPv4 address like 127.0.0.1, not '%s'", a->host);
    if (fd < 0)
        demo_die("server", "socket: %s", strerror(errno));
    /* Restarting the server must not fail while the old port is in TIME_WAIT. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        demo_die("server", "bind %s:%d: %s", a->host, a->port, strerror(errno));
    if (listen(fd, 8) < 0 || getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
        demo_die("server", "listen: %s", strerror(errno));
    demo_say("server", "listening on %s:%d", a->host, ntohs(addr.sin_port));
    return fd;
}

int demo_accept(int listen_fd, int conn)
{
    int fd;
    do
        fd = accept(listen_fd, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        demo_die("server", "accept: %s", strerror(errno));
    demo_say("server", "accepted conn %d", conn);
    return fd;
}

static int connect_quietly(const struct demo_args *a)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)a->port);
    if (inet_pton(AF_INET, a->host, &addr.sin_addr) != 1)
        demo_die("client", "--host wants an IPv4 address like 127.0.0.1, not '%s'", a->host);
    if (fd < 0)
        demo_die("client", "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        demo_die("client", "connect to %s:%d: %s (is the server running?)", a->host, a->port,
                 strerror(errno));
    return fd;
}

int demo_connect(const struct demo_args *a, int conn)
{
    int fd = connect_quietly(a);
    demo_say("client", "connected conn %d to %s:%d", conn, a->host, a->port);
    return fd;
}

/* The sync connection is opened first and confirmed by the server before
 * any data connection is opened, so neither side can mistake one for the other. */
int demo_accept_sync(int listen_fd)
{
    int fd;
    do
        fd = accept(listen_fd, NULL, NULL);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        demo_die("server", "accept: %s", strerror(errno));
    if (send(fd, "R", 1, 0) != 1)
        demo_die("server", "sync connection: %s", strerror(errno));
    return fd;
}

int demo_connect_sync(const struct demo_args *a)
{
    char c;
    int fd = connect_quietly(a);
    if (recv(fd, &c, 1, 0) != 1 || c != 'R')
        demo_die("client", "the server did not confirm the sync connection");
    return fd;
}

void demo_sync_post(int sync_fd, const char *side, const char *what)
{
    demo_say(side, "[sync] tell the peer: %s", what);
    if (send(sync_fd, "!", 1, 0) != 1)
        demo_die(side, "sync connection: %s", strerror(errno));
}

void demo_sync_wait(int sync_fd, const char *side, const char *what)
{
    char c;
    ssize_t n;
    do
        n = recv(sync_fd, &c, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        demo_die(side, "sync connection closed while waiting for: %s", what);
    demo_say(side, "[sync] the peer says: %s", what);
}

/* read_to_eof - append everything from fd to *buf. */
static void read_to_eof(const char *side, int fd, char **buf, size_t *len, size_t *cap)
{
    for (;;) {
        if (*cap - *len < 4096) {
            *cap = *cap * 2 + 4096;
            if (!(*buf = realloc(*buf, *cap)))
                demo_die(side, "out of memory");
        }
        ssize_t n = read(fd, *buf + *len, *cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            demo_die(side, "read from command: %s", strerror(errno));
        if (n == 0)
            return;
        *len += (size_t)n;
    }
}

char *demo_run_shell(const char *side, const char *cmd, size_t *len)
{
    size_t stdout_len;
    return demo_run_shell_split(side, cmd, len, &stdout_len);
}

char *demo_run_shell_split(const char *side, const char *cmd, size_t *len, size_t *stdout_len)
{
    int out[2], err[2];
    char *buf = NULL;
    size_t cap = 0;

    *len = 0;
    fflush(stdout); /* the child must not print our buffered lines again */
    if (pipe(out) < 0 || pipe(err) < 0)
        demo_die(side, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        demo_die(side, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]), close(out[1]), close(err[0]), close(err[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(out[1]), close(err[1]);
    read_to_eof(side, out[0], &buf, len, &cap); /* obj.stdout.read() */
    *stdout_len = *len;
    read_to_eof(side, err[0], &buf, len, &cap); /* obj.stderr.read() */
    close(out[0]), close(err[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return buf;
}

/* utf8_bad_at - offset of the first character that is cut off or malformed,
 * or -1 if every byte belongs to a whole character. Strict, as Python's
 * decoder: no overlong forms, no surrogates, nothing above U+10FFFF. */
static long utf8_bad_at(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i], lo = 0x80, hi = 0xbf; /* allowed range of byte 2 */
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (len == 0 || i + len > n)
            return (long)i; /* a byte that starts no character, or a character cut off */
        lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : lo; /* overlong forms */
        hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : hi; /* surrogates, above U+10FFFF */
        for (size_t k = 1; k < len; k++)
            if (p[i + k] < (k == 1 ? lo : 0x80) || p[i + k] > (k == 1 ? hi : 0xbf))
                return (long)i;
        i += len;
    }
    return -1;
}

/* gbk_bad_at - the same for GBK's structure: a byte below 0x80 is a character
 * by itself; a lead byte 0x81-0xfe needs a trail byte 0x40-0xfe (not 0x7f).
 * It does not know which pairs GBK leaves unassigned. */
static long gbk_bad_at(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80)
            continue;
        if (p[i] == 0x80 || p[i] == 0xff || i + 1 == n || p[i + 1] < 0x40 || p[i + 1] == 0x7f
            || p[i + 1] == 0xff)
            return (long)i;
        i++; /* the trail byte */
    }
    return -1;
}

int demo_decode(const char *side, const char *encoding, const char *name, const char *label,
                const void *buf, size_t n)
{
    const unsigned char *p = buf;
    int utf8 = strcmp(encoding, "utf8") == 0;
    const char *shown = utf8 ? "UTF-8" : "GBK";
    long bad = utf8 ? utf8_bad_at(p, n) : gbk_bad_at(p, n);
    char fact[64];

    snprintf(fact, sizeof fact, "%s_%s", name, encoding);
    demo_fact(side, fact, "%s", bad < 0 ? "valid" : "invalid");
    if (bad >= 0) {
        snprintf(fact, sizeof fact, "%s_%s_bad_at", name, encoding);
        demo_fact(side, fact, "%ld", bad);
        demo_say(side, "%s: not %s, it breaks at byte %ld (0x%02x)", label, shown, bad, p[bad]);
    } else if (utf8) { /* the terminal speaks UTF-8: show the text */
        demo_say(side, "%s: valid %s: %.*s", label, shown, (int)n, (const char *)p);
    } else {
        demo_say(side, "%s: valid %s (not shown: the terminal speaks UTF-8)", label, shown);
    }
    return bad < 0;
}
