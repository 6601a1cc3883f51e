/*
 * udp.h - demo 11's datagrams and the UDP calls that print them. trace.c's
 * demo_send and demo_recv are for TCP; these print the same lines
 * (demo_trace_line), one per sendto() and per recv:
 *
 *   client | send #3 | conn 1 | at 10 | 10 bytes | "helloworld"
 *   server | recv #3 | conn 1 | at 10 | 4 bytes | "hell" | asked 4
 *
 * UDP has no connection: "conn 1" names the one pair of sockets, and "at"
 * counts the bytes this side has sent (or received) before the call.
 */
#ifndef UDP_H
#define UDP_H

#include "demo.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* The datagrams, in the order the client sends them. */
#define HELLO "hello"
#define WORLD "world"
#define TEN "helloworld"  /* the broken server reads it with recv(4) */
#define BIG_SIZE 65507    /* the most one UDP datagram carries over IPv4:
                           * 65535 (IP's length field) - 20 (IP header) - 8 (UDP header) */
#define DATAGRAMS 4       /* hello, world, helloworld, BIG_SIZE bytes */
#define SENT_ALL N_("4 datagrams sent")

/* make_big - n bytes of "0123456789" repeated, malloc'd, or exit. */
static inline char *make_big(size_t n)
{
    char *p = malloc(n);
    if (!p)
        demo_die("out of memory");
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('0' + i % 10);
    return p;
}

/* udp_address - host:port as an IPv4 address (the 65507 above is IPv4's limit). */
static inline struct sockaddr_in udp_address(const struct demo_args *a, int port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, a->host, &sa.sin_addr) != 1)
        demo_die("--host must be an IPv4 address such as 127.0.0.1, not '%s'", a->host);
    return sa;
}

/* bind_udp - a UDP socket bound to host:port; its port in *port. -1 if the port is taken. */
static inline int bind_udp(const struct demo_args *a, int *port)
{
    struct sockaddr_in sa = udp_address(a, *port);
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0)
        demo_die("socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno != EADDRINUSE)
            demo_die("bind %s:%d: %s", a->host, *port, strerror(errno));
        close(fd);
        return -1;
    }
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        demo_die("getsockname: %s", strerror(errno));
    *port = ntohs(sa.sin_port);
    return fd;
}

/*
 * udp_listen - bind the server's UDP socket and only then print "listening
 * on HOST:PORT" (UDP has no listen(): a datagram sent before the bind would
 * be dropped). TCP has ports of its own: a TCP listener takes the same
 * number (*tcp_listener), for the suite's sync connection (--sync), and so
 * that a TCP client that knocks is not refused. If that number is taken
 * for TCP, another free UDP port is tried.
 */
static inline int udp_listen(const struct demo_args *a, int *tcp_listener)
{
    char err[NET_ERR_LEN];

    for (int tries = 0; tries < 20; tries++) {
        int port = a->port, fd = bind_udp(a, &port);
        if (fd < 0)
            demo_die("UDP port %d is taken", a->port);
        if ((*tcp_listener = net_listen(err, a->host, port, 2)) < 0) {
            close(fd);
            if (a->port == 0)
                continue; /* the kernel picked a UDP port that is taken for TCP */
            demo_die("%s", err);
        }
        demo_say_as_is("listening on %s:%d (UDP: bound; there is no listen)", a->host, port);
        return fd;
    }
    demo_die("found no port free for both UDP and TCP in 20 tries");
}

/* udp_send - print the send line, then one sendto() of all n bytes. */
static inline void udp_send(struct trace *t, int fd, const struct sockaddr_in *to,
                            const void *buf, size_t n)
{
    ssize_t k;
    demo_trace_line(t, "send", ++t->sends, t->sent, buf, n, 0, NULL);
    do
        k = sendto(fd, buf, n, 0, (const struct sockaddr *)to, sizeof *to);
    while (k < 0 && errno == EINTR);
    if (k < 0)
        demo_die("sendto (%zu bytes): %s", n, strerror(errno));
    t->sent += k; /* a datagram goes whole or not at all */
}

/*
 * udp_wait - wait up to seconds for a datagram. Without one: with --sync
 * (our client promised it) that is an error; otherwise the peer simply sent
 * fewer, and the program says so and ends.
 */
static inline void udp_wait(int fd, int seconds, int number)
{
    seconds = demo_patience(seconds);
    if (demo_readable(fd, seconds))
        return;
    if (demo_sync_mode())
        demo_die("datagram #%d did not come within %d s", number, seconds);
    demo_say("no datagram #%d within %d s: the client sent fewer; done", number, seconds);
    exit(0);
}

/*
 * udp_recv - one recvmsg(fd, cap bytes, flags): what recvfrom(cap) does.
 * Prints the bytes that landed in buf. Returns what recvmsg returned: the
 * bytes copied, or with MSG_TRUNC in flags (Linux) the datagram's real size,
 * which may be more than cap. *cut is set when the datagram did not fit
 * (msg_flags & MSG_TRUNC, POSIX): its other bytes are gone.
 */
static inline size_t udp_recv(struct trace *t, int fd, void *buf, size_t cap, int flags, int *cut)
{
    struct iovec iov = {buf, cap};
    struct msghdr msg;
    ssize_t n;

    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov, msg.msg_iovlen = 1;
    /* The first datagram may wait for a person to start the client (as demo_accept waits). */
    udp_wait(fd, t->recvs || demo_sync_mode() ? DEMO_WAIT_S : DEMO_WAIT_PERSON_S, t->recvs + 1);
    do
        n = recvmsg(fd, &msg, flags);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        demo_die("recvmsg: %s", strerror(errno));
    size_t got = (size_t)n < cap ? (size_t)n : cap;
    demo_trace_line(t, "recv", ++t->recvs, t->rcvd, buf, got, cap, NULL);
    t->rcvd += (long)got;
    *cut = (msg.msg_flags & MSG_TRUNC) != 0;
    return (size_t)n;
}

/*
 * next_datagram_size - the real size of the datagram waiting next, without
 * taking it: on Linux, recv with MSG_PEEK | MSG_TRUNC returns the datagram's
 * whole length, whatever the buffer. -1 where the system does not say.
 */
static inline long next_datagram_size(int fd, int number)
{
#ifdef __linux__
    char c;
    ssize_t n;
    udp_wait(fd, DEMO_WAIT_S, number);
    do
        n = recv(fd, &c, 1, MSG_PEEK | MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        demo_die("recv(MSG_PEEK | MSG_TRUNC): %s", strerror(errno));
    return (long)n;
#else
    (void)fd, (void)number;
    return -1;
#endif
}

#endif
