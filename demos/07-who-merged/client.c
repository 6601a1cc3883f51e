/*
 * Demo 7, who merged them? The client makes the same small writes with Nagle
 * on (conn 1), with TCP_NODELAY (conn 2) and with TCP_CORK (conn 3); on
 * conn 4, with TCP_NODELAY, it writes "world" only after "hello" has arrived.
 * Then it asks its kernel (TCP_INFO) how many TCP segments carried the bytes.
 */
#include "demo.h"
#include "frame.h"
#include "words.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/tcp.h> /* struct tcp_info with tcpi_data_segs_out; glibc's copy stops earlier */
#include <stddef.h>
#else
#include <netinet/tcp.h>
#endif

#define USAGE "usage: 07-who-merged-client --port N [--host ADDR] [--full] [--sync]"

static const char *labels[] = {"Nagle on (default)", "TCP_NODELAY", "TCP_CORK",
                               "TCP_NODELAY, paced"};

/* segments_sent - TCP segments that carried new bytes on this socket so far
 * (retransmissions, rare on loopback, not counted); -1 where TCP_INFO does not say. */
static long segments_sent(int fd)
{
#if defined(__linux__) && defined(TCP_INFO)
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    /* tcpi_data_segs_out came in Linux 4.6; an older kernel fills less. */
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
        len >= offsetof(struct tcp_info, tcpi_data_segs_out) + sizeof ti.tcpi_data_segs_out)
        return (long)ti.tcpi_data_segs_out - (long)ti.tcpi_total_retrans;
#endif
    (void)fd;
    return -1;
}

static void set_option(int fd, int option, int on)
{
    if (setsockopt(fd, IPPROTO_TCP, option, &on, sizeof on) < 0)
        demo_die("setsockopt: %s", strerror(errno));
}

static void set_mode(int conn, int mode);
static void uncork(int conn, int mode);
static void report_segments(int sync, int conn_no, int mode, int writes, long segs);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int sync = demo_connect_sync(&a);

    for (int mode = NAGLE; mode < MODES; mode++) {
        int conn = demo_connect(&a, mode + 1), writes = writes_of(mode);
        struct trace t = demo_trace(mode + 1, &a);
        long before = segments_sent(conn);

        set_mode(conn, mode);
        for (int i = 0; i < writes; i++) {
            if (mode == PACED && i == 1) /* so "hello" surely left in a segment of its own */
                demo_sync_wait(sync, "hello has arrived, alone");
            demo_send(&t, conn, words[i], strlen(words[i]));
        }
        uncork(conn, mode);
        /* Count once every byte is at the receiver: every segment has left by then. */
        demo_sync_wait(sync, "every byte has arrived");
        long after = segments_sent(conn);
        report_segments(sync, t.conn, mode, writes, after < 0 ? -1 : after - before);
        close(conn);
    }
    return 0;
}

/* set_mode - Nagle on (the default), TCP_NODELAY, or TCP_CORK. */
static void set_mode(int conn, int mode)
{
    if (mode == NODELAY || mode == PACED) {
        set_option(conn, TCP_NODELAY, 1); /* each write goes out at once: no Nagle */
        demo_say("conn %d: TCP_NODELAY on (Nagle off)", mode + 1);
    } else if (mode == CORK) {
#ifdef TCP_CORK
        set_option(conn, TCP_CORK, 1); /* hold partial segments until uncorked */
        demo_say("conn %d: TCP_CORK on (hold the bytes until uncorked)", mode + 1);
#else
        demo_say("conn %d: TCP_CORK is not available on this system", mode + 1);
        labels[CORK] = "Nagle on (no TCP_CORK)";
#endif
    } else {
        demo_say("conn %d: Nagle on (the default)", mode + 1);
    }
}

/* uncork - on the TCP_CORK connection: send what is held, now. */
static void uncork(int conn, int mode)
{
#ifdef TCP_CORK
    if (mode == CORK)
        set_option(conn, TCP_CORK, 0);
#else
    (void)conn, (void)mode;
#endif
}

/* report_segments - a fact line, and the counts for the server's table: a
 * frame on the sync connection, which is a byte stream too. */
static void report_segments(int sync, int conn_no, int mode, int writes, long segs)
{
    char name[32], counts[64];
    int n;

    snprintf(name, sizeof name, "conn%d.segments", conn_no);
    if (segs < 0)
        demo_fact(name, "not available on this system");
    else
        demo_fact(name, "%ld", segs);
    n = snprintf(counts, sizeof counts, "%d %ld %s", writes, segs, labels[mode]);
    if (sync >= 0 && send_frame(sync, counts, (size_t)n) != FRAME_OK)
        demo_die("sync connection: %s", strerror(errno));
}
