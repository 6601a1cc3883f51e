/*
 * mtu.h - demo 12's data, its TCP calls, and what TCP_INFO says about the
 * segments that carried them. The sends and recvs are trace.c's
 * (demo_send, demo_send_frame, demo_recv): their lines fit 100 columns.
 */
#ifndef MTU_H
#define MTU_H

#include "demo.h"
#include "frame.h"
#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/tcp.h> /* struct tcp_info with tcpi_data_segs_out; glibc's copy stops earlier */
#include <stddef.h>
#endif

#define SIZE (1024 * 1024) /* demo 6's one send */
#define RECORD 8           /* the 1 MiB is 131072 numbered records, "[000001]" ... "[131072]" */
/*
 * The servers are a little behind their client, as in demos 1, 7 and 9:
 * each recv starts once BEHIND bytes, or all the rest of the stream, wait in
 * the receive buffer, so that a run prints a handful of recvs, not dozens
 * decided by scheduling. The receive buffer is fixed (RCVBUF; the kernel
 * doubles it, see socket(7)) so that it can hold BEHIND bytes on any kernel.
 */
#define BEHIND (128 * 1024)
#define RCVBUF 212992 /* Linux's default net.core.rmem_max: no privilege needed */

/* make_data - the 1 MiB, malloc'd, or exit. */
static inline char *make_data(void)
{
    char *data = malloc(SIZE + 1); /* + 1: snprintf ends the last record with a '\0' */
    if (!data)
        demo_die("out of memory");
    for (int i = 0; i < SIZE / RECORD; i++)
        snprintf(data + i * RECORD, RECORD + 1, "[%06d]", i + 1);
    return data;
}

/* make_answer - demo 4's long answer: 100 lines of 26 bytes, 2600 bytes, malloc'd. */
static inline char *make_answer(void)
{
    char *p = malloc(DEMO_LONG_OUTPUT_SIZE + 1);
    if (!p)
        demo_die("out of memory");
    for (int i = 0; i < 100; i++)
        snprintf(p + i * 26, 27, "line %03d of a long output\n", i + 1);
    return p;
}

/* accept_quietly - the next connection, within DEMO_WAIT_S. No line: with --full
 * the client's send line is megabytes long, and ours must not land inside it. */
static inline int accept_quietly(int listener, int conn)
{
    char err[NET_ERR_LEN];
    int wait_s = demo_patience(DEMO_WAIT_S);
    int fd = demo_readable(listener, wait_s) ? net_accept(err, listener, NULL, 0) : -2;

    if (fd == -2)
        demo_die("conn %d did not come within %d s", conn, wait_s);
    if (fd < 0)
        demo_die("%s", err);
    return fd;
}

/*
 * wait_behind - wait until BEHIND bytes wait in fd's receive buffer, or the
 * client has sent everything (its FIN came: POLLRDHUP, Linux). If the buffer
 * stops filling for STALL_MS (a kernel that keeps less), read what is there.
 */
#define STALL_MS 500
static inline void wait_behind(int fd)
{
    size_t queued = 0, before = 0;

    if (demo_live_mode())
        return;
    for (int ms = 0, still = 0; ms < demo_patience(DEMO_WAIT_S) * 1000; ms++, demo_pause_ms(1)) {
#ifdef POLLRDHUP
        struct pollfd p = {fd, POLLRDHUP, 0};
        if (poll(&p, 1, 0) > 0)
            return; /* the client's FIN: everything it sent is here */
#endif
        if ((queued = demo_queued(fd)) >= BEHIND)
            return;
        still = queued == before ? still + 1 : 0;
        before = queued;
        if (still >= STALL_MS && queued > 0)
            return;
    }
    demo_die("only %zu bytes came within %d s", queued, demo_patience(DEMO_WAIT_S));
}

/* What TCP_INFO says about one connection (-1: not known). */
struct segments {
    long sent, received; /* segments that carried data out (resends not counted), and in */
    long mss, rcv_mss;   /* the most data one segment may carry out; the most seen coming in */
};

static inline struct segments segments_of(int fd)
{
    struct segments s = {-1, -1, -1, -1};
#if defined(__linux__) && defined(TCP_INFO)
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    /* tcpi_data_segs_in and _out came in Linux 4.6; an older kernel fills less. */
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
        len >= offsetof(struct tcp_info, tcpi_data_segs_out) + sizeof ti.tcpi_data_segs_out) {
        s.sent = (long)ti.tcpi_data_segs_out - (long)ti.tcpi_total_retrans;
        s.received = (long)ti.tcpi_data_segs_in;
        s.mss = (long)ti.tcpi_snd_mss;
        s.rcv_mss = (long)ti.tcpi_rcv_mss;
    }
#endif
    (void)fd;
    return s;
}

/* count_received - the server's end of one connection: how many segments
 * brought the bytes in, against how many recvs took them out. */
static inline void count_received(int fd, const struct trace *t)
{
    struct segments s = segments_of(fd);
    char name[40];

    snprintf(name, sizeof name, "conn%d.segments_received", t->conn);
    if (s.received < 0) {
        demo_fact(name, "not available on this system");
        return;
    }
    demo_fact(name, "%ld", s.received);
    int recvs = t->recvs - 1; /* the last one returned 0: EOF */
    if (recvs == 1)
        demo_say("conn %d: %ld bytes came in as %ld segments of at most %ld; 1 recv took them",
                 t->conn, t->rcvd, s.received, s.rcv_mss);
    else
        demo_say("conn %d: %ld bytes came in as %ld segments of at most %ld; %d recvs took them",
                 t->conn, t->rcvd, s.received, s.rcv_mss, recvs);
}

/*
 * finish_and_count - the client's end of one connection: say that nothing
 * more comes (shutdown), wait until the server has read everything and
 * closed, then ask the kernel how many segments carried the bytes.
 */
static inline void finish_and_count(int fd, const struct trace *t)
{
    char buf[256], name[40];
    ssize_t n;

    shutdown(fd, SHUT_WR);
    int wait_s = demo_patience(DEMO_WAIT_S);
    while ((n = demo_readable(fd, wait_s) ? recv(fd, buf, sizeof buf, 0) : -1) > 0)
        ;
    if (n < 0)
        demo_die("the server did not close conn %d within %d s", t->conn, wait_s);
    struct segments s = segments_of(fd);
    close(fd);
    snprintf(name, sizeof name, "conn%d.segments_sent", t->conn);
    if (s.sent < 0) {
        demo_fact(name, "not available on this system");
        return;
    }
    demo_fact(name, "%ld", s.sent);
    snprintf(name, sizeof name, "conn%d.mss", t->conn);
    demo_fact(name, "%ld", s.mss);
}

#endif
