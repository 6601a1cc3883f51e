/*
 * Demo 7, who merged them? The client makes the same small writes with Nagle
 * on (conn 1), with TCP_NODELAY (conn 2) and with TCP_CORK (conn 3); on
 * conn 4, with TCP_NODELAY, it writes "world" only after "hello" has arrived.
 * Then it asks its kernel (TCP_INFO) how many TCP segments carried the bytes.
 */
#include "demo.h"
#include "frame.h"

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

#define USAGE "usage: 07-who-merged-client --port N [--host ADDR] [--full]"

enum { NAGLE, NODELAY, CORK, PACED, MODES };
static const char *words[] = {"hello", "world", "how", "are", "you"};
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
        demo_die("client", "setsockopt: %s", strerror(errno));
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int sync = demo_connect_sync(&a);

    for (int mode = NAGLE; mode < MODES; mode++) {
        int conn = demo_connect(&a, mode + 1), writes = mode == PACED ? 2 : 5;
        struct trace t = demo_trace("client", mode + 1, &a);
        long before = segments_sent(conn);

        if (mode == NODELAY || mode == PACED) {
            set_option(conn, TCP_NODELAY, 1); /* each write goes out at once: no Nagle */
            demo_say("client", "conn %d: TCP_NODELAY on (Nagle off)", t.conn);
        } else if (mode == CORK) {
#ifdef TCP_CORK
            set_option(conn, TCP_CORK, 1); /* hold partial segments until uncorked */
            demo_say("client", "conn %d: TCP_CORK on (hold the bytes until uncorked)", t.conn);
#else
            demo_say("client", "conn %d: TCP_CORK is not available on this system", t.conn);
            labels[CORK] = "Nagle on (no TCP_CORK)";
#endif
        } else {
            demo_say("client", "conn %d: Nagle on (the default)", t.conn);
        }
        for (int i = 0; i < writes; i++) {
            if (mode == PACED && i == 1) /* so "hello" surely left in a segment of its own */
                demo_sync_wait(sync, "client", "hello has arrived, alone");
            demo_send(&t, conn, words[i], strlen(words[i]));
        }
#ifdef TCP_CORK
        if (mode == CORK)
            set_option(conn, TCP_CORK, 0); /* uncork: send what is held, now */
#endif
        /* Count once every byte is at the receiver: every segment has left by then. */
        demo_sync_wait(sync, "client", "every byte has arrived");
        long after = segments_sent(conn), segs = after < 0 ? -1 : after - before;
        if (segs < 0)
            printf("client | fact | conn%d.segments = not available on this system\n", t.conn);
        else
            printf("client | fact | conn%d.segments = %ld\n", t.conn, segs);
        fflush(stdout);

        /* The server prints the table: our counts go to it as a frame on the
         * sync connection, which is a byte stream too. */
        char counts[64];
        int n = snprintf(counts, sizeof counts, "%d %ld %s", writes, segs, labels[mode]);
        if (send_frame(sync, counts, (size_t)n) != FRAME_OK)
            demo_die("client", "sync connection: %s", strerror(errno));
        close(conn);
    }
    return 0;
}
