/*
 * Demo 7, who merged them? The client makes small writes on six connections
 * (see words.h): with Nagle on, on a fresh connection (conn 1); with
 * TCP_NODELAY (conn 2); with TCP_CORK (conn 3); with TCP_NODELAY, "world"
 * only once "hello" has arrived (conn 4); and, while the server delays its
 * ACK of a first small write "hi", "hello" and "world" with Nagle on (conn 5)
 * and with TCP_NODELAY (conn 6). Then it asks its kernel (TCP_INFO) how many
 * TCP segments carried the bytes; on conns 5 and 6 also, right after
 * "world", how many bytes it still holds unsent (SIOCOUTQNSD) and unACKed
 * (SIOCOUTQ).
 *
 * Nagle's algorithm, as Linux implements it (Minshall's variant): a small
 * segment may leave unless an earlier small segment is still unacknowledged;
 * with TCP_NODELAY, it always may. So on conn 5 "hello" and "world" wait
 * for the ACK of "hi", and then leave together.
 */
#include "demo.h"
#include "frame.h"
#include "words.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/sockios.h> /* SIOCOUTQ, SIOCOUTQNSD */
#include <linux/tcp.h> /* struct tcp_info with tcpi_data_segs_out; glibc's copy stops earlier */
#include <stddef.h>
#else
#include <netinet/tcp.h>
#endif

#define USAGE "usage: 07-who-merged-client --port N [--host ADDR] [--full] [--sync]"

/* the table's "client wrote with" column (the server prints it, translated) */
static const char *labels[MODES] = {N_("Nagle on (default)"), N_("TCP_NODELAY"), N_("TCP_CORK"),
                                    N_("TCP_NODELAY, paced"), N_("Nagle on, ACK delayed"),
                                    N_("TCP_NODELAY, ACK delayed")};

/* What one connection measured: -1 where the system does not say. */
struct result {
    int writes;
    long segs;  /* segments that carried the bytes */
    long hw;    /* ... of them, after "hi": the segments of "hello" and "world" */
    long held;  /* bytes written but not yet sent, right after "world" */
    int ok;     /* the ACK of "hi" was still outstanding then (or the row has no "hi") */
};

/* segments_sent - TCP segments that carried new bytes on this socket so far
 * (retransmissions not counted: on conn 6 a tail loss probe resends "world"
 * while the ACK is delayed); -1 where TCP_INFO does not say. */
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

/* queued - bytes in the send queue (Linux): not yet sent (SIOCOUTQNSD), or
 * not yet ACKed, sent or not (SIOCOUTQ); -1 where the system does not say. */
static long queued(int fd, int unsent_only)
{
#if defined(SIOCOUTQNSD) && defined(SIOCOUTQ)
    int n = 0;
    return ioctl(fd, unsent_only ? SIOCOUTQNSD : SIOCOUTQ, &n) == 0 ? n : -1;
#else
    (void)fd, (void)unsent_only;
    return -1;
#endif
}

static void set_option(int fd, int option, int on)
{
    if (setsockopt(fd, IPPROTO_TCP, option, &on, sizeof on) < 0)
        demo_die("setsockopt: %s", strerror(errno));
}

static void say_mode(int mode, int conn_no);
static void set_mode(int conn, int mode);
static void uncork(int conn, int mode);
static int one_connection(const struct demo_args *a, int sync, int mode, int conn_no);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int sync = demo_connect_sync(&a), conn_no = 0;

    for (int mode = NAGLE; mode < MODES; mode++)
        for (int try = 1;; try++) {
            if (one_connection(&a, sync, mode, ++conn_no))
                break;
            if (sync < 0) { /* only with --sync does the server expect a retry */
                demo_say("conn %d: the ACK of \"hi\" came before \"world\" was written: "
                         "not the case to show", conn_no);
                break;
            }
            if (try == TRIES) {
                demo_say("conn %d: the ACK of \"hi\" came before \"world\" was written, "
                         "%d times: giving up", conn_no, TRIES);
                break;
            }
            demo_say("conn %d: the ACK of \"hi\" came before \"world\" was written: again, "
                     "on a fresh connection", conn_no);
        }
    return 0;
}

/* say_mode - the connection's mode, said before it is opened: so its line
 * comes before anything the server prints about it. */
static void say_mode(int mode, int conn_no)
{
    if (mode == NODELAY || mode == PACED)
        demo_say("conn %d: TCP_NODELAY on (Nagle off)", conn_no);
    else if (mode == NODELAY_DELAYED)
        demo_say("conn %d: TCP_NODELAY on (Nagle off); the server delays its ACK of \"hi\"",
                 conn_no);
    else if (mode == NAGLE_DELAYED)
        demo_say("conn %d: Nagle on (the default); the server delays its ACK of \"hi\"", conn_no);
    else if (mode == CORK)
#ifdef TCP_CORK
        demo_say("conn %d: TCP_CORK on (partial segments wait until uncorked, "
                 "or 200 ms at most)", conn_no);
#else
        demo_say("conn %d: TCP_CORK is not available on this system", conn_no);
#endif
    else
        demo_say("conn %d: Nagle on (the default)", conn_no);
}

/* set_mode - Nagle on (the default), TCP_NODELAY, or TCP_CORK. */
static void set_mode(int conn, int mode)
{
    if (mode == NODELAY || mode == PACED || mode == NODELAY_DELAYED) {
        set_option(conn, TCP_NODELAY, 1); /* each write may leave at once: no Nagle */
    } else if (mode == CORK) {
#ifdef TCP_CORK
        set_option(conn, TCP_CORK, 1); /* partial segments wait: until uncorked, 200 ms at most */
#else
        labels[CORK] = N_("Nagle on (no TCP_CORK)");
#endif
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

/* fact_of - "client | fact | connN.name = value", or "not available on this system". */
static void fact_of(int conn_no, const char *name, long value)
{
    char full[48];
    snprintf(full, sizeof full, "conn%d.%s", conn_no, name);
    if (value < 0)
        demo_fact(full, "not available on this system");
    else
        demo_fact(full, "%ld", value);
}

/* check_held - right after "world": how many bytes are still unACKed (all 12
 * while "hi" is: the arrangement held) and how many not even sent (Nagle: 10,
 * hello and world; TCP_NODELAY: 0). Returns whether the arrangement held. */
static int check_held(int conn, int mode, int conn_no, long *held)
{
    long unacked = queued(conn, 0), written = (long)bytes_of(mode);

    *held = queued(conn, 1);
    fact_of(conn_no, "unacked", unacked);
    fact_of(conn_no, mode == NAGLE_DELAYED ? "nagle_held" : "nodelay_held", *held);
    if (unacked < 0) /* the system cannot say: nothing to try again for */
        return 1;
    return unacked == written && (mode != NAGLE_DELAYED || *held == held_by_nagle());
}

/* wait_done - with --sync: until the server says it has read every byte (words.h). */
static void wait_done(int sync, int conn_no)
{
    char text[sizeof DONE];
    uint32_t len;

    if (sync >= 0 && (!demo_readable(sync, demo_patience(DEMO_WAIT_S)) ||
                      recv_frame(sync, text, sizeof text, &len) != FRAME_OK))
        demo_die("--sync: the server did not say it had every byte of conn %d within %d s",
                 conn_no, demo_patience(DEMO_WAIT_S));
}

/* report - fact lines, and the counts for the server's table: a frame on the
 * sync connection, which is a byte stream too. */
static void report(int sync, int conn_no, int mode, const struct result *r)
{
    char counts[96];
    int n;

    fact_of(conn_no, "segments", r->segs);
    if (delayed_ack(mode))
        fact_of(conn_no, "segs_after_hi", r->hw);
    n = snprintf(counts, sizeof counts, COUNTS_FORMAT, r->writes, r->segs, r->hw, r->held,
                 r->ok, labels[mode]);
    if (sync >= 0 && send_frame(sync, counts, (size_t)n) != FRAME_OK)
        demo_die("sync connection: %s", strerror(errno));
}

/* one_connection - one connection's writes, then its counts. Returns 0 if
 * the ACK of "hi" came too soon for the lesson (try again), else 1. */
static int one_connection(const struct demo_args *a, int sync, int mode, int conn_no)
{
    int conn;
    struct trace t = demo_trace(conn_no, a);
    struct result r = {writes_of(mode), -1, -1, -1, 1};
    long before, after_hi, after;

    say_mode(mode, conn_no);
    conn = demo_connect(a, conn_no);
    set_mode(conn, mode);
    after_hi = before = segments_sent(conn);
#ifdef TCP_QUICKACK
    if (delayed_ack(mode)) /* the server has set TCP_QUICKACK 0: "hi" will wait for its ACK */
        demo_sync_wait(sync, ACK_DELAYED);
#else
    if (delayed_ack(mode))
        demo_sync_wait(sync, NO_ACK_DELAY);
#endif
    for (int i = 0; i < r.writes; i++) {
        if (mode == PACED && i == 1) /* so "hello" surely left in a segment of its own */
            demo_sync_wait(sync, N_("hello has arrived, alone"));
        demo_send(&t, conn, word_of(mode, i), strlen(word_of(mode, i)));
        if (delayed_ack(mode) && i == 0)
            after_hi = segments_sent(conn); /* "hi" has left: nothing was unACKed before it */
    }
    if (delayed_ack(mode))
        r.ok = check_held(conn, mode, conn_no, &r.held);
    uncork(conn, mode);
    wait_done(sync, conn_no); /* every byte is at the receiver: every segment has left */
    if ((after = segments_sent(conn)) >= 0 && before >= 0) {
        r.segs = after - before;
        r.hw = delayed_ack(mode) ? after - after_hi : -1;
    }
    report(sync, conn_no, mode, &r);
    close(conn);
    return r.ok;
}
