/*
 * rsh-server-log.c - one line per event on stderr, and never a wait for it
 * (see rsh-server.h).
 *
 * A write() to a terminal stopped with Ctrl-S, or to a pipe whose reader has
 * stopped reading, blocks until it can go on - and a server that blocks in a
 * log line stops serving every client and enforcing every deadline. So lines
 * go into a buffer, the buffer is written without blocking, and the poll()
 * loop waits for stderr to take the rest. A line that does not fit in the
 * buffer is dropped and counted, and the count is written as soon as stderr
 * takes lines again: "(12 log lines dropped: stderr was full)".
 *
 * Writing without blocking, without touching the terminal of anyone else:
 * O_NONBLOCK belongs to the open file description, which fd 2 shares with
 * the shell that started us and every other program on that terminal; set
 * on fd 2, it would make their writes fail with EAGAIN too. So:
 *   - a regular file never blocks for long: fd 2 as it is;
 *   - a socket: send() with MSG_DONTWAIT, a flag of that one call;
 *   - a terminal or a pipe: a new open file description of the same terminal
 *     or pipe, opened through /proc/self/fd/2 (Linux), non-blocking for us
 *     alone. Where that cannot be opened, poll() for room before each write
 *     (a line then waits only while the terminal has too little room for it).
 */
#include "rsh-server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUFFER (16 * 1024) /* about 200 lines */
#define LOG_LINE 512

enum log_how { LOG_WRITE, LOG_SEND, LOG_POLL_FIRST };

static int quiet;
static int log_fd = STDERR_FILENO;
static enum log_how how = LOG_WRITE;
static char buf[LOG_BUFFER];
static size_t used;
static unsigned long dropped;

void log_set_quiet(int on)
{
    quiet = on;
}

void log_open(void)
{
    struct stat st;
    int fd;

    if (fstat(STDERR_FILENO, &st) < 0 || S_ISREG(st.st_mode))
        return;
    if (S_ISSOCK(st.st_mode)) {
        how = LOG_SEND;
        return;
    }
    fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
        log_fd = fd;
        how = LOG_WRITE;
    } else {
        how = LOG_POLL_FIRST;
    }
}

/* put - one write() or send() of what is buffered that never waits. */
static ssize_t put(void)
{
    if (how == LOG_SEND)
        return send(log_fd, buf, used, MSG_DONTWAIT | NET_SEND_FLAGS);
    if (how == LOG_POLL_FIRST) {
        struct pollfd p = {log_fd, POLLOUT, 0};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT)) {
            errno = EAGAIN;
            return -1;
        }
    }
    return write(log_fd, buf, used);
}

void log_flush(void)
{
    for (;;) {
        while (used > 0) {
            ssize_t n = put();
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return; /* the poll() loop waits for room (log_poll_fd) */
            if (n <= 0) { /* stderr is gone (EPIPE, EIO...): the lines cannot go anywhere */
                dropped++;
                used = 0;
                return;
            }
            memmove(buf, buf + n, used - (size_t)n);
            used -= (size_t)n;
        }
        if (dropped == 0)
            return;
        /* stderr took everything: say now how many lines it could not hold,
         * not only with the next line (there may be none for a long time) */
        used = (size_t)snprintf(buf, sizeof buf, "rsh-server: (%lu log line%s dropped: stderr "
                                "was full)\n", dropped, dropped == 1 ? "" : "s");
        dropped = 0;
    }
}

int log_poll_fd(void)
{
    return used > 0 ? log_fd : -1;
}

/* append - add one finished line to the buffer, or count it as dropped.
 * The count of dropped lines goes first, and only with the line after it. */
static void append(const char *line, size_t n)
{
    char note[80];
    int k = 0;

    if (dropped > 0)
        k = snprintf(note, sizeof note, "rsh-server: (%lu log line%s dropped: stderr was "
                     "full)\n", dropped, dropped == 1 ? "" : "s");
    if (used + (size_t)k + n > sizeof buf) {
        dropped++;
        return;
    }
    memcpy(buf + used, note, (size_t)k);
    memcpy(buf + used + k, line, n);
    used += (size_t)k + n;
    dropped = 0;
}

/* log_line - "rsh-server: TEXT\n", kept whole: lines are written in as few
 * write()s as the reader takes, never cut by another line of ours. */
static void log_line(const char *fmt, va_list ap)
{
    char line[LOG_LINE];
    int n = snprintf(line, sizeof line, "rsh-server: ");

    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2; /* cut a very long line short */
    line[n++] = '\n';
    log_flush(); /* make room first, if stderr takes it */
    append(line, (size_t)n);
    log_flush();
}

/* log_info - one short line on stderr, unless --quiet. */
void log_info(const char *fmt, ...)
{
    va_list ap;

    if (quiet)
        return;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

/* log_problem - one short line on stderr, always. */
void log_problem(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

/* log_close - at exit: give stderr up to wait_ms to take the last lines. */
void log_close(int wait_ms)
{
    struct timespec start, t;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        log_flush();
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = wait_ms - (long)((t.tv_sec - start.tv_sec) * 1000 +
                                     (t.tv_nsec - start.tv_nsec) / 1000000);
        if (used == 0 || left <= 0)
            break;
        struct pollfd p = {log_fd, POLLOUT, 0};
        (void)poll(&p, 1, (int)(left > 50 ? 50 : left));
    }
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = STDERR_FILENO;
}
