/*
 * lines.h - the suite's send/recv/message line (demos/common/trace.c) for
 * calls that trace.c does not make: UDP datagrams (demo 11) and demo 12's
 * TCP calls, which must stay within LINE_WIDTH columns. The format is
 * trace.c's, so harness/demolib.py reads these lines as it reads the others:
 *
 *   client | send #1 | conn 1 | at 0 | 5 bytes | "hello"
 *   server | recv #3 | conn 1 | at 10 | 4 bytes | "hell" | asked 4
 *   server | message #1 | conn 1 | 5 bytes | "hello"
 *
 * "at" is the running count of the bytes this side has sent (or received)
 * before this call. Only the abbreviation differs from trace.c's: long data
 * shows as much of its head and tail as the line has room for (--full still
 * prints every byte).
 */
#ifndef LINES_H
#define LINES_H

#include "demo.h"

#include <stdio.h>
#include <string.h>

#define LINE_WIDTH 100

/* One side's calls on one connection (for UDP: the one pair of sockets). */
struct lines {
    int conn, full;
    int sends, recvs, messages; /* how many lines of each so far */
    long sent, rcvd;            /* bytes sent and received so far */
};

static inline struct lines lines_start(int conn, const struct demo_args *a)
{
    struct lines t = {conn, a->full, 0, 0, 0, 0, 0};
    return t;
}

/* escaped_width - the columns one byte takes in a C string literal. */
static inline size_t escaped_width(unsigned char c)
{
    if (c == '\n' || c == '\r' || c == '\t' || c == '"' || c == '\\')
        return 2;
    return c >= 0x20 && c < 0x7f ? 1 : 4;
}

/* fitting - how many bytes from one end of buf fit in room columns. */
static inline size_t fitting(const unsigned char *p, size_t n, size_t room, int from_end)
{
    size_t k = 0, used = 0;
    while (k < n && used + escaped_width(p[from_end ? n - 1 - k : k]) <= room)
        used += escaped_width(p[from_end ? n - 1 - k : k]), k++;
    return k;
}

/* print_bytes - "bytes", or "head" ... "tail" when they need more than room columns. */
static inline void print_bytes(const void *buf, size_t n, size_t room, int full)
{
    const unsigned char *p = buf;
    size_t all = fitting(p, n, room > 2 ? room - 2 : 0, 0);

    if (full || all == n) {
        fputs(demo_escape(buf, n, 1), stdout);
        return;
    }
    size_t inner = room > 9 + 12 ? room - 9 : 12; /* "head" ... "tail" */
    size_t head = fitting(p, n, inner - inner / 3, 0);
    size_t tail = fitting(p + head, n - head, inner / 3, 1);
    printf("%s ... ", demo_escape(p, head, 1));
    fputs(demo_escape(p + n - tail, tail, 1), stdout);
}

/* lines_print - one line; at < 0 leaves out the offset (a message), asked 0 the size asked. */
static inline void lines_print(const struct lines *t, const char *op, int num, long at,
                               const void *buf, size_t n, size_t asked)
{
    char head[128], tail[32] = "";
    int used = snprintf(head, sizeof head, "%s | %s #%d | conn %d", demo_side(), op, num, t->conn);

    if (at >= 0)
        used += snprintf(head + used, sizeof head - (size_t)used, " | at %ld", at);
    snprintf(head + used, sizeof head - (size_t)used, " | %zu bytes | ", n);
    if (asked)
        snprintf(tail, sizeof tail, " | asked %zu", asked);
    fputs(head, stdout);
    if (n == 0 && at >= 0)
        fputs("EOF", stdout);
    else
        print_bytes(buf, n, LINE_WIDTH - strlen(head) - strlen(tail), t->full);
    printf("%s\n", tail);
    fflush(stdout);
}

/* lines_message - a whole message the receiver delivered. */
static inline void lines_message(struct lines *t, const void *buf, size_t n)
{
    lines_print(t, "message", ++t->messages, -1, buf, n, 0);
}

#endif
