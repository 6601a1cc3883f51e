/*
 * Demo 5's commands and timing, for its client and its fixed client (and the
 * servers' accept loop, serve_clients): the same short
 * command, TIMED_COMMANDS times, each answer read whole (read_exact, so only
 * the server's way of sending is measured), and the median time per command.
 * Not traced: twenty times the same lines would say nothing new.
 */
#ifndef TIMING_H
#define TIMING_H

#include "demo.h"
#include "frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECTIONS 3 /* the clients' connections: the lesson, the timing, a second size */
#define TIMED_COMMANDS 20
#define TRACED_SHORT_COMMANDS 1 /* on conn 1, before the long command (expect.py: SHORTS) */
#define SHORT_COMMAND "echo out; echo err >&2" /* 8 bytes of answer, 4 on stdout, 4 on stderr */
/* A second long answer: 4000 bytes (160 lines of 25), on a connection of its own. */
#define COMMAND_4000 "awk 'BEGIN { for (i = 1; i <= 160; i++) printf \"%024d\\n\", i }'"

static int compare_ms(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* median_ms - send SHORT_COMMAND TIMED_COMMANDS times, read each answer (a
 * 4-byte header, decoded by length(), then that many bytes), return the
 * median milliseconds per command, and print it as the fact median_ms. */
static inline double median_ms(int conn, uint32_t (*length)(const unsigned char *))
{
    double ms[TIMED_COMMANDS];
    unsigned char header[4], answer[256];

    for (int i = 0; i < TIMED_COMMANDS; i++) {
        double start = demo_now_ms();
        if (send(conn, SHORT_COMMAND, strlen(SHORT_COMMAND), 0) < 0)
            demo_die("send: %s", strerror(errno));
        if (read_exact(conn, header, 4) != 4)
            demo_die("the server closed the connection while we timed it");
        uint32_t n = length(header);
        if (n > sizeof answer || read_exact(conn, answer, n) != (ssize_t)n)
            demo_die("an answer of %lu bytes while we timed the server", (unsigned long)n);
        ms[i] = demo_now_ms() - start;
    }
    qsort(ms, TIMED_COMMANDS, sizeof ms[0], compare_ms);
    double median = (ms[TIMED_COMMANDS / 2 - 1] + ms[TIMED_COMMANDS / 2]) / 2;
    demo_say("%d more of it, timed, not traced: median %.2f ms a command (fastest %.2f, "
             "slowest %.2f)", TIMED_COMMANDS, median, ms[0],
             ms[TIMED_COMMANDS - 1]);
    demo_fact("median_ms", "%.2f", median); /* shown, never asserted */
    return median;
}

/* serve_clients - the servers' accept loop: one client after another, as the
 * notes' server does (while True: accept), each served by serve(). Conn 2,
 * where the client times its commands, is not traced. Our client makes
 * CONNECTIONS; anyone else's, as many as it likes, each within
 * DEMO_SOFT_WAIT_MS of the last. */
static inline void serve_clients(const struct demo_args *a, void (*serve)(struct trace *, int))
{
    int listener = demo_listen(a);
    int conn = demo_accept(listener, 1);

    for (int n = 1; conn >= 0; n++) {
        struct trace t = demo_trace(n, a);
        t.quiet = n == 2;
        serve(&t, conn);
        if (t.quiet)
            demo_say("conn 2: %d commands answered the same way (not traced: the client "
                     "timed them)", t.recvs - 1);
        close(conn);
        conn = a->sync && n == CONNECTIONS ? -1
             : demo_try_accept(listener, n + 1, a->sync ? DEMO_WAIT_S : DEMO_SOFT_WAIT_MS / 1000);
    }
}

#endif
