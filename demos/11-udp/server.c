/*
 * Demo 11, UDP: the course's UDP server, `data, addr = s.recvfrom(1024)`.
 * Every recv returns one datagram, never two, never part of one and then
 * the rest: the boundaries hold. But a datagram longer than the buffer is
 * cut, and the bytes past the buffer are discarded, not kept for the next
 * recv (TCP keeps them: demo 2).
 *
 * On loopback a datagram is practically never lost. On a real network UDP
 * may lose datagrams, deliver them in another order, or twice; this demo
 * does not show that, and a protocol on UDP must number its datagrams and
 * resend what goes missing to cope with it.
 */
#include "udp.h"

#include <stdio.h>

#define USAGE "usage: 11-udp-server [--host ADDR] [--port N] [--full] [--sync]"

static void show_lost(long size, size_t got, int number);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int tcp_listener, cut;
    int fd = udp_listen(&a, &tcp_listener);
    int sync = demo_accept_sync(&a, tcp_listener);
    struct trace t = demo_trace(1, &a);
    char buf[1024];

    /* With --sync every datagram waits in the socket's buffer before the
     * first recv: the situation of demo 1, where TCP gave "helloworld". */
    demo_sync_wait(sync, SENT_ALL);

    udp_recv(&t, fd, buf, 1024, 0, &cut); /* data, addr = s.recvfrom(1024): "hello" */
    udp_recv(&t, fd, buf, 1024, 0, &cut); /* the same: "world", a datagram of its own */

    long size = next_datagram_size(fd, 3); /* what the kernel knows (MSG_TRUNC) */
    size_t got = udp_recv(&t, fd, buf, 4, 0, &cut); /* s.recvfrom(4) of "helloworld" */
    show_lost(size, got, 3);

    size = next_datagram_size(fd, 4);
    got = udp_recv(&t, fd, buf, 1024, 0, &cut); /* recvfrom(1024) of 65507 bytes */
    show_lost(size, got, 4);

    demo_say("Each recv returned one datagram, never two: the boundaries held.");
    demo_say("The bytes past each recv's buffer were thrown away: no recv will return them.");
    return 0;
}

/* show_lost - the datagram's real size, and what the recv could not take. */
static void show_lost(long size, size_t got, int number)
{
    char name[32];

    snprintf(name, sizeof name, "recv%d.datagram_size", number);
    if (size < 0) {
        demo_fact(name, "not available on this system");
        return;
    }
    demo_fact(name, "%ld", size);
    if ((size_t)size > got)
        demo_say("recv #%d took %zu of the datagram's %ld bytes; the other %ld are gone",
                 number, got, size, size - (long)got);
}
