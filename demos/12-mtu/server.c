/*
 * Demo 12, what a real link's segment size does. Demo 4's 2600-byte answer
 * (conn 1) and demo 6's 1 MiB (conn 2), each sent with one send() and read
 * with recv(1048576) until the client closes, over a loopback whose MTU is
 * Ethernet's, 1500 bytes, instead of 65536: in a network namespace of the
 * server's own, which the client joins (netns.h).
 */
#ifdef __linux__
#define _GNU_SOURCE /* unshare, setns, POLLRDHUP: Linux's, declared by glibc only then */
#endif
#include "mtu.h"
#include "netns.h"

#define USAGE "usage: 12-mtu-server [--host ADDR] [--port N] [--full] [--sync]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    a.rcvbuf = RCVBUF;
    struct link link = link_open(&a);
    char *buf = malloc(SIZE);

    if (!buf)
        demo_die("out of memory");
    if (!link.skipped[0])
        demo_say("[sync] each recv waits until %d KiB (or all the rest) wait in the "
                 "receive buffer", BEHIND / 1024);
    link_meet_client(&link); /* exits here if the demo cannot run on this machine */
    for (int c = 1; c <= 2; c++) {
        int conn = accept_quietly(link.listener, c);
        struct trace t = demo_trace(c, &a);
        do
            wait_behind(conn); /* a server a little behind its client */
        while (demo_recv(&t, conn, buf, SIZE) > 0); /* data = conn.recv(1048576), until EOF */
        count_received(conn, &t);
        close(conn);
    }
    free(buf);
    return 0;
}
